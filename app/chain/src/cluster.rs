use std::str::FromStr;

use anchor_client::Cluster;

/// Resolves Solana-CLI style monikers (`localnet`, `devnet`, `testnet`, `mainnet-beta`, their
/// one-letter forms) or an `http(s)://` URL to an RPC URL.
pub fn parse_cluster_url(moniker_or_url: &str) -> Result<String, String> {
    let normalized = match moniker_or_url {
        "mainnet-beta" => "mainnet",
        other => other,
    };
    Cluster::from_str(normalized)
        .map(|c| c.url().to_string())
        .map_err(|_| {
            format!(
                "invalid cluster {moniker_or_url:?}: use localnet, devnet, testnet, mainnet-beta or an http(s) URL"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monikers_and_urls() {
        assert_eq!(
            parse_cluster_url("localnet").unwrap(),
            "http://127.0.0.1:8899"
        );
        assert_eq!(parse_cluster_url("l").unwrap(), "http://127.0.0.1:8899");
        assert_eq!(
            parse_cluster_url("devnet").unwrap(),
            "https://api.devnet.solana.com"
        );
        assert_eq!(
            parse_cluster_url("mainnet-beta").unwrap(),
            "https://api.mainnet-beta.solana.com"
        );
        assert_eq!(
            parse_cluster_url("http://127.0.0.1:1234").unwrap(),
            "http://127.0.0.1:1234"
        );
        assert!(parse_cluster_url("ftp://nope")
            .unwrap_err()
            .contains("invalid cluster"));
        assert!(parse_cluster_url("moon").is_err());
    }
}
