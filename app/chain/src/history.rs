//! The program's transaction history, as a catch-up reads it: which transactions touched the
//! program since a checkpoint (`getSignaturesForAddress` on the program id), and which accounts
//! they wrote (`getTransaction`). A reader that kept up until the checkpoint then reads only those
//! accounts, instead of listing every account of the program again.
use std::collections::BTreeSet;

use anchor_client::VersionedTransaction;
use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::request::RpcRequest;
use solana_signature::Signature;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, EncodedConfirmedTransactionWithStatusMeta,
};

use crate::client::{record, RoomcastChain};
use crate::error::ChainError;

/// Largest `limit` a cluster takes for `getSignaturesForAddress`.
const MAX_PAGE: usize = 1_000;
/// `getTransaction` calls in flight at once.
const READS_IN_FLIGHT: usize = 8;

/// Where a reader of the program's history stands: the newest program transaction it has seen
/// (and its slot), and the one seen just before it. A catch-up lists down to `previous`, so the
/// answer must end with `newest` itself: if it does not, the node no longer knows `newest` (its
/// history was lost or pruned) and what happened since cannot be read from the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub newest: Signature,
    pub slot: u64,
    pub previous: Option<Signature>,
}

/// One program transaction from the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landed {
    pub signature: Signature,
    pub slot: u64,
    /// It failed: it wrote nothing.
    pub failed: bool,
}

/// What the history says since a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// The transactions after the checkpoint, newest first (empty: nothing happened).
    Landed(Vec<Landed>),
    /// The node does not know the checkpoint (its history was lost, or pruned past it).
    Unknown,
    /// More than the bound asked for landed since: cheaper to list than to read them all.
    TooLong,
}

impl Checkpoint {
    /// The checkpoint after `landed` (newest first), as read from this one.
    pub fn after(&self, landed: &[Landed]) -> Checkpoint {
        match landed {
            [] => *self,
            [only] => Checkpoint {
                newest: only.signature,
                slot: only.slot,
                previous: Some(self.newest),
            },
            [newest, previous, ..] => Checkpoint {
                newest: newest.signature,
                slot: newest.slot,
                previous: Some(previous.signature),
            },
        }
    }

    /// The checkpoint of a history's newest transactions (newest first; `None` if there are none).
    pub fn of(newest: &[Landed]) -> Option<Checkpoint> {
        let first = newest.first()?;
        Some(Checkpoint {
            newest: first.signature,
            slot: first.slot,
            previous: newest.get(1).map(|l| l.signature),
        })
    }
}

impl RoomcastChain {
    /// The program's newest two transactions (newest first): where a reader that has just read
    /// everything stands (take it *before* reading, so what lands meanwhile is read again).
    pub async fn program_checkpoint(&self) -> Result<Option<Checkpoint>, ChainError> {
        let newest = self.program_signatures(None, None, 2).await?;
        Ok(Checkpoint::of(&newest))
    }

    /// The program's transactions after `checkpoint`, newest first, paged; [`Since::TooLong`]
    /// once more than `bound` are found.
    pub async fn program_history_since(
        &self,
        checkpoint: &Checkpoint,
        bound: usize,
    ) -> Result<Since, ChainError> {
        let page_len = (bound + 2).min(MAX_PAGE);
        let mut landed = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .program_signatures(before, checkpoint.previous, page_len)
                .await?;
            let full = page.len() == page_len;
            for entry in &page {
                if entry.signature == checkpoint.newest {
                    return Ok(Since::Landed(landed));
                }
                if entry.slot < checkpoint.slot {
                    // Past the checkpoint's slot without meeting it.
                    return Ok(Since::Unknown);
                }
                if landed.len() == bound {
                    return Ok(Since::TooLong);
                }
                landed.push(*entry);
            }
            match page.last() {
                Some(last) if full => before = Some(last.signature),
                // The history ends (or reached `previous`) and the checkpoint was not in it.
                _ => return Ok(Since::Unknown),
            }
        }
    }

    /// The accounts the landed transactions `signatures` wrote (their writable keys, signers and
    /// programs left out: a program account a transaction writes is never its signer). `None` if
    /// the node does not know one of them any more.
    pub async fn written_accounts(
        &self,
        signatures: &[Signature],
    ) -> Result<Option<BTreeSet<Pubkey>>, ChainError> {
        let mut written = BTreeSet::new();
        for group in signatures.chunks(READS_IN_FLIGHT) {
            let mut reads = tokio::task::JoinSet::new();
            for signature in group {
                let chain = self.clone();
                let signature = *signature;
                reads.spawn(async move { chain.transaction(&signature).await });
            }
            while let Some(read) = reads.join_next().await {
                let read =
                    read.map_err(|e| ChainError::Rpc(format!("reading a transaction: {e}")))?;
                let Some(landed) = read? else {
                    return Ok(None);
                };
                written.extend(writable_keys(&landed));
            }
        }
        Ok(Some(written))
    }

    async fn program_signatures(
        &self,
        before: Option<Signature>,
        until: Option<Signature>,
        limit: usize,
    ) -> Result<Vec<Landed>, ChainError> {
        let page = record(
            "get_signatures_for_address",
            self.rpc()
                .get_signatures_for_address_with_config(
                    &self.program_id(),
                    GetConfirmedSignaturesForAddress2Config {
                        before,
                        until,
                        limit: Some(limit),
                        commitment: Some(CommitmentConfig::confirmed()),
                    },
                )
                .await
                .map_err(ChainError::rpc),
        )?;
        page.into_iter()
            .map(|status| {
                Ok(Landed {
                    signature: status.signature.parse().map_err(|_| {
                        ChainError::Rpc(format!("bad signature {}", status.signature))
                    })?,
                    slot: status.slot,
                    failed: status.err.is_some(),
                })
            })
            .collect()
    }

    /// `getTransaction`; `None` when the node does not know it.
    async fn transaction(
        &self,
        signature: &Signature,
    ) -> Result<Option<EncodedConfirmedTransactionWithStatusMeta>, ChainError> {
        record(
            "get_transaction",
            self.rpc()
                .send::<Option<EncodedConfirmedTransactionWithStatusMeta>>(
                    RpcRequest::GetTransaction,
                    serde_json::json!([signature.to_string(), {
                        "encoding": "base64",
                        "commitment": "confirmed",
                        "maxSupportedTransactionVersion": 0,
                    }]),
                )
                .await
                .map_err(ChainError::rpc),
        )
    }
}

/// The keys a landed transaction may have written, without its signers and the programs it called.
fn writable_keys(landed: &EncodedConfirmedTransactionWithStatusMeta) -> Vec<Pubkey> {
    let meta = landed.transaction.meta.as_ref();
    if meta.is_some_and(|m| m.err.is_some()) {
        return Vec::new();
    }
    let Some(tx): Option<VersionedTransaction> = landed.transaction.transaction.decode() else {
        return Vec::new();
    };
    let message = &tx.message;
    let keys = message.static_account_keys();
    let signers = usize::from(message.header().num_required_signatures);
    let programs: BTreeSet<Pubkey> = message
        .instructions()
        .iter()
        .filter_map(|ix| keys.get(usize::from(ix.program_id_index)).copied())
        .collect();
    let mut written: Vec<Pubkey> = keys
        .iter()
        .enumerate()
        .filter(|(i, key)| {
            *i >= signers && !programs.contains(key) && message.is_maybe_writable(*i, None)
        })
        .map(|(_, key)| *key)
        .collect();
    // Versioned transactions: the writable keys loaded from lookup tables.
    if let Some(OptionSerializer::Some(loaded)) = meta.map(|m| &m.loaded_addresses) {
        written.extend(
            loaded
                .writable
                .iter()
                .filter_map(|k| k.parse::<Pubkey>().ok()),
        );
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn landed(n: u8, slot: u64) -> Landed {
        Landed {
            signature: Signature::from([n; 64]),
            slot,
            failed: false,
        }
    }

    #[test]
    fn the_checkpoint_moves_to_the_newest_two() {
        let start = Checkpoint::of(&[landed(1, 10)]).unwrap();
        assert_eq!(start.previous, None);
        assert_eq!(start.after(&[]), start);
        let one = start.after(&[landed(2, 11)]);
        assert_eq!(
            one,
            Checkpoint {
                newest: landed(2, 0).signature,
                slot: 11,
                previous: Some(landed(1, 0).signature),
            }
        );
        let three = one.after(&[landed(5, 14), landed(4, 13), landed(3, 12)]);
        assert_eq!(
            three,
            Checkpoint {
                newest: landed(5, 0).signature,
                slot: 14,
                previous: Some(landed(4, 0).signature),
            }
        );
        assert_eq!(Checkpoint::of(&[]), None);
    }
}
