//! `keygen` and `airdrop`: what a newcomer needs to follow the README without the Solana CLI.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use roomcast_chain::{Keypair, Pubkey, Signer};
use serde::Serialize;

use super::output;
use super::ChainTarget;

const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
/// How long an airdrop may take to confirm.
const CONFIRM_BOUND: Duration = Duration::from_secs(30);

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the keypair (default: --keypair, else ~/.config/solana/id.json).
    #[arg(short = 'o', long = "outfile")]
    pub outfile: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct AirdropArgs {
    /// SOL to request.
    #[arg(default_value = "1")]
    pub amount: String,
    /// Who receives it (default: the keypair's public key).
    pub recipient: Option<Pubkey>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeygenOutcome {
    pubkey: String,
    path: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AirdropOutcome {
    recipient: String,
    lamports: u64,
    balance: u64,
    signature: String,
}

/// Writes a new Solana CLI keypair file (mode 0600); never overwrites unless `--force`.
pub fn keygen(target: &ChainTarget, as_json: bool, args: KeygenArgs) -> anyhow::Result<()> {
    let path = args.outfile.unwrap_or_else(|| target.keypair_path());
    if path.exists() && !args.force {
        bail!(
            "{} already exists (pass --force to overwrite it)",
            path.display()
        );
    }
    let keypair = Keypair::new();
    roomcast_localnet::keypair_file::write(&path, &keypair)?;
    let outcome = KeygenOutcome {
        pubkey: keypair.pubkey().to_string(),
        path: path.display().to_string(),
    };
    if as_json {
        output::json(&outcome);
    } else {
        println!("Wrote new keypair to {}", outcome.path);
        println!("Pubkey: {}", outcome.pubkey);
    }
    Ok(())
}

/// Requests SOL from a roomcast local node's faucet (refused on any other cluster).
pub async fn airdrop(target: &ChainTarget, as_json: bool, args: AirdropArgs) -> anyhow::Result<()> {
    let lamports = parse_sol(&args.amount)?;
    let recipient = match args.recipient {
        Some(recipient) => recipient,
        None => target
            .load_keypair()
            .context(
                "no recipient: pass RECIPIENT, or a keypair with --keypair (see `roomcast keygen`)",
            )?
            .pubkey(),
    };
    let client = target.reading_client()?;
    let rpc = client.rpc();
    let genesis = rpc
        .get_genesis_hash()
        .await
        .with_context(|| format!("cannot reach {}", target.url))?;
    if genesis.to_string() != roomcast_localnet::chain::genesis_hash().to_string() {
        bail!(
            "{} is not a roomcast local node: airdrops only work there (use your cluster's faucet)",
            target.url
        );
    }
    let signature = rpc
        .request_airdrop(&recipient, lamports)
        .await
        .context("airdrop refused")?;
    let deadline = tokio::time::Instant::now() + CONFIRM_BOUND;
    loop {
        if let Some(result) = rpc.get_signature_status(&signature).await? {
            result.context("the airdrop transaction failed")?;
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("airdrop {signature} not confirmed within {CONFIRM_BOUND:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let balance = rpc.get_balance(&recipient).await?;
    let outcome = AirdropOutcome {
        recipient: recipient.to_string(),
        lamports,
        balance,
        signature: signature.to_string(),
    };
    if as_json {
        output::json(&outcome);
    } else {
        println!("Airdropped {} SOL to {}", sol(lamports), outcome.recipient);
        println!("Balance: {} SOL", sol(balance));
        println!("Signature: {}", outcome.signature);
    }
    Ok(())
}

/// `1`, `0.5`, `2.000000001` SOL → lamports, exactly (no floating point).
fn parse_sol(amount: &str) -> anyhow::Result<u64> {
    let invalid =
        || anyhow::anyhow!("invalid amount {amount:?}: a positive number of SOL, e.g. 1 or 0.5");
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > 9
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction: u64 = format!("{fraction:0<9}").parse().map_err(|_| invalid())?;
    let lamports = whole
        .checked_mul(LAMPORTS_PER_SOL)
        .and_then(|l| l.checked_add(fraction))
        .ok_or_else(invalid)?;
    if lamports == 0 {
        return Err(invalid());
    }
    Ok(lamports)
}

fn sol(lamports: u64) -> String {
    let fraction = format!("{:09}", lamports % LAMPORTS_PER_SOL);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        (lamports / LAMPORTS_PER_SOL).to_string()
    } else {
        format!("{}.{fraction}", lamports / LAMPORTS_PER_SOL)
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_sol, sol};

    #[test]
    fn sol_amounts_are_exact() {
        assert_eq!(parse_sol("1").unwrap(), 1_000_000_000);
        assert_eq!(parse_sol("0.5").unwrap(), 500_000_000);
        assert_eq!(parse_sol(".000000001").unwrap(), 1);
        assert_eq!(parse_sol("2.000000001").unwrap(), 2_000_000_001);
        for bad in [
            "0",
            "0.0",
            "",
            ".",
            "-1",
            "1e9",
            "0.0000000001",
            "abc",
            "99999999999999999999",
        ] {
            assert!(parse_sol(bad).is_err(), "{bad}");
        }
        assert_eq!(sol(1_500_000_000), "1.5");
        assert_eq!(sol(2_000_000_000), "2");
        assert_eq!(sol(1), "0.000000001");
    }
}
