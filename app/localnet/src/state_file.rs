//! `--state FILE`: the node's accounts on disk, so a restart loses no rooms.
use std::fs;
use std::path::Path;

use anyhow::Context;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Serialize};
use solana_account::{Account, AccountSharedData, ReadableAccount};
use solana_pubkey::Pubkey;

use crate::chain::LocalChain;

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    accounts: Vec<StoredAccount>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAccount {
    address: String,
    lamports: u64,
    owner: String,
    executable: bool,
    rent_epoch: u64,
    data: String,
}

const VERSION: u32 = 1;

/// Writes every user account atomically (temp file + rename).
pub fn save(chain: &LocalChain, path: &Path) -> anyhow::Result<usize> {
    let accounts: Vec<StoredAccount> = chain
        .user_accounts()
        .into_iter()
        .map(|(address, a): (Pubkey, AccountSharedData)| StoredAccount {
            address: address.to_string(),
            lamports: a.lamports(),
            owner: a.owner().to_string(),
            executable: a.executable(),
            rent_epoch: a.rent_epoch(),
            data: B64.encode(a.data()),
        })
        .collect();
    let count = accounts.len();
    let body = serde_json::to_vec(&StateFile {
        version: VERSION,
        accounts,
    })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, body).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(count)
}

/// Loads accounts saved by [`save`]; a missing file is a fresh ledger.
pub fn load(chain: &mut LocalChain, path: &Path) -> anyhow::Result<usize> {
    let body = match fs::read(path) {
        Ok(body) => body,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let file: StateFile = serde_json::from_slice(&body)
        .with_context(|| format!("{} is not a roomcast localnet state file", path.display()))?;
    anyhow::ensure!(
        file.version == VERSION,
        "{}: unsupported state version {}",
        path.display(),
        file.version
    );
    let count = file.accounts.len();
    for stored in file.accounts {
        let address: Pubkey = stored.address.parse().context("bad account address")?;
        let account = Account {
            lamports: stored.lamports,
            data: B64.decode(&stored.data).context("bad account data")?,
            owner: stored.owner.parse().context("bad account owner")?,
            executable: stored.executable,
            rent_epoch: stored.rent_epoch,
        };
        chain.load_account(address, account)?;
    }
    chain.dirty = false;
    Ok(count)
}
