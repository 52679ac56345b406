//! The hostile-client suite (issue 17, part 2): one file per attack, each through the built
//! binary with real sockets (and real Chromium for the pages): event streams (`sse`), shutdown
//! held up by clients (`shutdown`), the Solana Action routes (`actions`), sign-in nonce floods
//! (`nonces`) and the pages' security headers (`pages`).
mod actions;
mod nonces;
mod pages;
mod shutdown;
mod sse;

pub use crate::support::sse::Events;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::support::Api;

/// A loopback source address (127.0.0.n): another client as far as per-address limits go.
pub fn source(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// An HTTP client whose connections come from `source(n)`.
pub fn client_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source(n))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// The sum of the samples of the Prometheus metric `name` whose labels contain every one of
/// `labels` (0 when absent).
pub async fn metric(api: &Api, name: &str, labels: &[&str]) -> f64 {
    let metrics = api.get("/metrics").await;
    metrics.assert_status(200);
    metrics
        .text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// Chain account reads the server made so far (`getAccountInfo`, any outcome), from its metrics.
pub async fn account_reads(api: &Api) -> u64 {
    metric(
        api,
        "roomcast_upstream_requests_total",
        &[
            r#"upstream="solana_rpc""#,
            r#"operation="get_account_info""#,
        ],
    )
    .await as u64
}
