//! `--state FILE`: the node's accounts on disk, so a restart loses no rooms.
//!
//! Two files: the snapshot (`FILE`: every account, written atomically) and its journal
//! (`FILE.journal`: one JSON line per account written since, appended). The periodic save appends
//! only what changed ([`save_changes`]), so a ledger of 100k rooms is not rewritten every few
//! seconds; the journal is folded into a new snapshot once it outgrows the snapshot, and on
//! shutdown ([`save`]). Loading reads the snapshot, then replays the journal (the last line of a
//! crash mid-append is ignored).
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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

fn stored(address: &Pubkey, a: &AccountSharedData) -> StoredAccount {
    StoredAccount {
        address: address.to_string(),
        lamports: a.lamports(),
        owner: a.owner().to_string(),
        executable: a.executable(),
        rent_epoch: a.rent_epoch(),
        data: B64.encode(a.data()),
    }
}

/// Where the journal of the snapshot at `path` is.
/// Where the slot the node had reached is kept (`FILE.slot`), so a restarted node goes on from it:
/// a cluster's slots never go back, and readers order what they learn by slot.
pub fn slot_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".slot");
    PathBuf::from(name)
}

/// Writes the slot marker alone (the periodic save with nothing else to write).
pub fn save_slot(chain: &LocalChain, path: &Path) -> anyhow::Result<()> {
    let slot = slot_path(path);
    fs::write(&slot, chain.slot().to_string())
        .with_context(|| format!("writing {}", slot.display()))
}

pub fn journal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// What a periodic save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// This many accounts appended to the journal.
    Appended(usize),
    /// A new snapshot of this many accounts (the journal had outgrown the old one).
    Snapshot(usize),
}

/// The periodic save: appends the accounts written since the last save to the journal, or writes a
/// new snapshot once the journal is larger than the snapshot (so the files stay within about twice
/// the ledger's size).
pub fn save_changes(chain: &mut LocalChain, path: &Path) -> anyhow::Result<Saved> {
    let journal = journal_path(path);
    let snapshot_len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let journal_len = fs::metadata(&journal).map(|m| m.len()).unwrap_or(0);
    if snapshot_len == 0 || journal_len > snapshot_len.max(1 << 20) {
        let n = save(chain, path)?;
        chain.written.clear();
        return Ok(Saved::Snapshot(n));
    }
    let mut written: Vec<Pubkey> = chain.written.drain().collect();
    written.sort();
    let mut lines = Vec::new();
    for address in &written {
        // A closed account is journaled with no lamports: loading removes it.
        let account = chain.account(address).unwrap_or_default();
        serde_json::to_writer(&mut lines, &stored(address, &account))?;
        lines.push(b'\n');
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&journal)
        .with_context(|| format!("opening {}", journal.display()))?;
    file.write_all(&lines)
        .and_then(|()| file.sync_data())
        .with_context(|| format!("appending to {}", journal.display()))?;
    save_slot(chain, path)?;
    Ok(Saved::Appended(written.len()))
}

/// Writes every user account atomically (temp file + rename) and drops the journal it replaces.
pub fn save(chain: &LocalChain, path: &Path) -> anyhow::Result<usize> {
    let accounts: Vec<StoredAccount> = chain
        .user_accounts()
        .iter()
        .map(|(address, a)| stored(address, a))
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
    save_slot(chain, path)?;
    match fs::remove_file(journal_path(path)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing {}", journal_path(path).display()))
        }
        _ => {}
    }
    Ok(count)
}

/// Loads accounts saved by [`save`] and [`save_changes`]; a missing file is a fresh ledger. Returns
/// how many stored accounts were read (snapshot and journal lines).
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
    let mut count = file.accounts.len();
    for stored in file.accounts {
        put(chain, stored)?;
    }
    let journal = journal_path(path);
    match fs::read(&journal) {
        Ok(body) => {
            let lines: Vec<&[u8]> = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            for (i, line) in lines.iter().enumerate() {
                match serde_json::from_slice::<StoredAccount>(line) {
                    Ok(stored) => {
                        count += 1;
                        put(chain, stored)?;
                    }
                    // Only the last line can be torn (a crash while appending).
                    Err(_) if i + 1 == lines.len() => {
                        tracing::warn!(file = %journal.display(), "ignoring a torn last journal line")
                    }
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!(
                                "{} line {} is not a journaled account",
                                journal.display(),
                                i + 1
                            )
                        })
                    }
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", journal.display())),
    }
    // Slots go on from where the node was (a torn or missing marker: from the start).
    if let Some(slot) = fs::read_to_string(slot_path(path))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        chain.resume_after(slot);
    }
    chain.dirty = false;
    chain.written.clear();
    Ok(count)
}

/// Loads one stored account (no lamports: the account is gone).
fn put(chain: &mut LocalChain, stored: StoredAccount) -> anyhow::Result<()> {
    let address: Pubkey = stored.address.parse().context("bad account address")?;
    let account = Account {
        lamports: stored.lamports,
        data: B64.decode(&stored.data).context("bad account data")?,
        owner: stored.owner.parse().context("bad account owner")?,
        executable: stored.executable,
        rent_epoch: stored.rent_epoch,
    };
    chain.load_account(address, account)
}
