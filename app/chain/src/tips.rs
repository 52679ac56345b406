//! Tips: a plain System Program transfer from a viewer to a room's host, carrying the room's
//! address as a read-only, non-signing key (the Solana Pay "reference" pattern, so a tip can be
//! found by the room's address) and an SPL Memo `roomcast tip <room>`. Nothing on-chain counts tips:
//! they are read back from the room's transaction history ([`RoomcastChain::tips_after`]) and each
//! transaction is checked ([`read_tip`]) — a transaction that names the room but pays someone else
//! is not a tip.
use anchor_client::VersionedTransaction;
use anchor_lang::prelude::Pubkey;
use solana_instruction::{AccountMeta, Instruction};
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_signature::Signature;
use solana_transaction_status_client_types::UiTransactionEncoding;

use crate::client::RoomcastChain;
use crate::error::ChainError;

/// SPL Memo (v2).
pub const MEMO_PROGRAM_ID: Pubkey =
    Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
/// The System Program.
pub const SYSTEM_PROGRAM_ID: Pubkey = Pubkey::new_from_array([0; 32]);
/// `SystemInstruction::Transfer`'s tag.
const TRANSFER_TAG: u32 = 2;
/// Signatures asked for per `getSignaturesForAddress` page (the cluster's maximum).
const PAGE: usize = 1_000;

/// The memo every tip to `room` carries.
pub fn tip_memo(room: &Pubkey) -> String {
    format!("roomcast tip {room}")
}

/// The two instructions of a tip: the transfer (room appended read-only as its reference) and the memo.
pub fn tip_instructions(
    from: &Pubkey,
    host: &Pubkey,
    room: &Pubkey,
    lamports: u64,
) -> Vec<Instruction> {
    let mut data = TRANSFER_TAG.to_le_bytes().to_vec();
    data.extend_from_slice(&lamports.to_le_bytes());
    vec![
        Instruction {
            program_id: SYSTEM_PROGRAM_ID,
            accounts: vec![
                AccountMeta::new(*from, true),
                AccountMeta::new(*host, false),
                AccountMeta::new_readonly(*room, false),
            ],
            data,
        },
        Instruction {
            program_id: MEMO_PROGRAM_ID,
            accounts: vec![],
            data: tip_memo(room).into_bytes(),
        },
    ]
}

/// One tip found on-chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    pub signature: Signature,
    pub from: Pubkey,
    pub lamports: u64,
    pub slot: u64,
}

/// What a landed, successful transaction tipped `host` for `room`: the fee payer and the lamports
/// the System Program moved from it to the host. `None` unless it names the room as a read-only
/// non-signer, carries the room's tip memo, and transfers a positive amount from its fee payer to
/// the host (a host paying themself is not a tip).
pub fn read_tip(tx: &VersionedTransaction, room: &Pubkey, host: &Pubkey) -> Option<(Pubkey, u64)> {
    let message = &tx.message;
    let keys = message.static_account_keys();
    let header = message.header();
    let signers = header.num_required_signatures as usize;
    let writable = |i: usize| {
        if i < signers {
            i < signers - header.num_readonly_signed_accounts as usize
        } else {
            i < keys
                .len()
                .saturating_sub(header.num_readonly_unsigned_accounts as usize)
        }
    };
    let room_index = keys.iter().position(|k| k == room)?;
    if room_index < signers || writable(room_index) {
        return None;
    }
    let payer = *keys.first()?;
    if payer == *host {
        return None;
    }
    let memo = tip_memo(room);
    let mut has_memo = false;
    let mut lamports: u64 = 0;
    for ix in message.instructions() {
        let program = keys.get(ix.program_id_index as usize)?;
        if *program == MEMO_PROGRAM_ID && ix.data == memo.as_bytes() {
            has_memo = true;
        }
        if *program != SYSTEM_PROGRAM_ID || ix.data.len() != 12 || ix.accounts.len() < 2 {
            continue;
        }
        if u32::from_le_bytes(ix.data[..4].try_into().ok()?) != TRANSFER_TAG {
            continue;
        }
        let from = keys.get(ix.accounts[0] as usize)?;
        let to = keys.get(ix.accounts[1] as usize)?;
        if *from == payer && to == host {
            lamports = lamports.checked_add(u64::from_le_bytes(ix.data[4..].try_into().ok()?))?;
        }
    }
    (has_memo && lamports > 0).then_some((payer, lamports))
}

/// Lamports per SOL.
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;

/// A decimal SOL amount (`0.05`, `2`, at most 9 decimals) in lamports, exactly; `None` if it is
/// not one (signs, exponents, more decimals, overflow).
pub fn sol_to_lamports(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 9
        || whole.len() > 10
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: u64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    whole.checked_mul(LAMPORTS_PER_SOL)?.checked_add(fraction)
}

/// Lamports as SOL text (`0.05`, `2`).
pub fn lamports_to_sol(lamports: u64) -> String {
    let text = format!(
        "{}.{:09}",
        lamports / LAMPORTS_PER_SOL,
        lamports % LAMPORTS_PER_SOL
    );
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl RoomcastChain {
    /// Sends a tip of `lamports` from this client's signer (who pays the fee) to `host` for
    /// `room`, and waits for it to be confirmed.
    pub async fn tip(
        &self,
        room: &Pubkey,
        host: &Pubkey,
        lamports: u64,
    ) -> Result<Signature, ChainError> {
        let payer = self.signer_pubkey();
        let instructions = tip_instructions(&payer, host, room, lamports);
        let blockhash = self
            .rpc()
            .get_latest_blockhash()
            .await
            .map_err(ChainError::unreachable)?;
        let tx = anchor_client::Transaction::new_signed_with_payer(
            &instructions,
            Some(&payer),
            &[self.signer()],
            blockhash,
        );
        match tokio::time::timeout(
            self.confirm_timeout(),
            self.rpc().send_and_confirm_transaction(&tx),
        )
        .await
        {
            Ok(result) => result.map_err(|e| ChainError::Transaction(e.to_string())),
            Err(_) => Err(ChainError::ConfirmationTimeout(self.confirm_timeout())),
        }
    }

    /// The tips to `room` (hosted by `host`) that landed after the transaction `after` (all of the
    /// node's history when `None`), oldest first, and the newest signature that mentions the room
    /// (tip or not: the next call's `after`). Only transactions whose memo is the room's tip memo
    /// are fetched and checked.
    pub async fn tips_after(
        &self,
        room: &Pubkey,
        host: &Pubkey,
        after: Option<Signature>,
    ) -> Result<(Vec<Tip>, Option<Signature>), ChainError> {
        let memo = tip_memo(room);
        let mut candidates = Vec::new();
        let mut newest = None;
        let mut before = None;
        loop {
            let page = self
                .rpc()
                .get_signatures_for_address_with_config(
                    room,
                    GetConfirmedSignaturesForAddress2Config {
                        before,
                        until: after,
                        limit: Some(PAGE),
                        commitment: None,
                    },
                )
                .await
                .map_err(ChainError::rpc)?;
            let full = page.len() == PAGE;
            for status in page {
                let signature: Signature = status
                    .signature
                    .parse()
                    .map_err(|_| ChainError::Rpc(format!("bad signature {}", status.signature)))?;
                newest.get_or_insert(signature);
                before = Some(signature);
                if status.err.is_none() && status.memo.as_deref().is_some_and(|m| m.contains(&memo))
                {
                    candidates.push((signature, status.slot));
                }
            }
            if !full {
                break;
            }
        }
        let mut tips = Vec::new();
        for (signature, slot) in candidates.into_iter().rev() {
            let landed = self
                .rpc()
                .get_transaction_with_config(
                    &signature,
                    RpcTransactionConfig {
                        encoding: Some(UiTransactionEncoding::Base64),
                        commitment: None,
                        max_supported_transaction_version: Some(0),
                    },
                )
                .await
                .map_err(ChainError::rpc)?;
            if landed
                .transaction
                .meta
                .as_ref()
                .is_some_and(|m| m.err.is_some())
            {
                continue;
            }
            let Some(tx) = landed.transaction.transaction.decode() else {
                continue;
            };
            if let Some((from, lamports)) = read_tip(&tx, room, host) {
                tips.push(Tip {
                    signature,
                    from,
                    lamports,
                    slot,
                });
            }
        }
        Ok((tips, newest.or(after)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_keypair::Keypair;
    use solana_signer::Signer;

    fn tx(instructions: &[Instruction], payer: &Keypair) -> VersionedTransaction {
        let tx = anchor_client::Transaction::new_signed_with_payer(
            instructions,
            Some(&payer.pubkey()),
            &[payer],
            Default::default(),
        );
        VersionedTransaction::from(tx)
    }

    #[test]
    fn a_tip_is_the_transfer_to_the_host_with_the_room_read_only_and_the_memo() {
        let (viewer, host, room) = (Keypair::new(), Pubkey::new_unique(), Pubkey::new_unique());
        let ixs = tip_instructions(&viewer.pubkey(), &host, &room, 50_000_000);
        assert_eq!(
            read_tip(&tx(&ixs, &viewer), &room, &host),
            Some((viewer.pubkey(), 50_000_000))
        );
        // Another room's reading of it: not its tip.
        assert_eq!(
            read_tip(&tx(&ixs, &viewer), &Pubkey::new_unique(), &host),
            None
        );
    }

    #[test]
    fn forgeries_and_lookalikes_are_not_tips() {
        let (viewer, host, room) = (Keypair::new(), Pubkey::new_unique(), Pubkey::new_unique());
        let tip = |to: &Pubkey| tip_instructions(&viewer.pubkey(), to, &room, 10_000_000);
        // Paid to someone else, with the room as reference and the memo.
        let thief = Pubkey::new_unique();
        assert_eq!(read_tip(&tx(&tip(&thief), &viewer), &room, &host), None);
        // No memo.
        assert_eq!(read_tip(&tx(&tip(&host)[..1], &viewer), &room, &host), None);
        // Another room's memo.
        let mut other_memo = tip(&host);
        other_memo[1].data = tip_memo(&Pubkey::new_unique()).into_bytes();
        assert_eq!(read_tip(&tx(&other_memo, &viewer), &room, &host), None);
        // The room writable (not a reference).
        let mut writable = tip(&host);
        writable[0].accounts[2] = AccountMeta::new(room, false);
        assert_eq!(read_tip(&tx(&writable, &viewer), &room, &host), None);
        // The room not named at all.
        let mut unnamed = tip(&host);
        unnamed[0].accounts.truncate(2);
        assert_eq!(read_tip(&tx(&unnamed, &viewer), &room, &host), None);
        // The host paying themself.
        let host_key = Keypair::new();
        let own = tip_instructions(&host_key.pubkey(), &host_key.pubkey(), &room, 10_000_000);
        assert_eq!(
            read_tip(&tx(&own, &host_key), &room, &host_key.pubkey()),
            None
        );
        // Nothing moved.
        let zero = tip_instructions(&viewer.pubkey(), &host, &room, 0);
        assert_eq!(read_tip(&tx(&zero, &viewer), &room, &host), None);
        // Two transfers to the host in one tip: both count.
        let mut double = tip(&host);
        double.insert(1, tip(&host)[0].clone());
        assert_eq!(
            read_tip(&tx(&double, &viewer), &room, &host),
            Some((viewer.pubkey(), 20_000_000))
        );
    }

    #[test]
    fn sol_amounts_are_exact() {
        assert_eq!(sol_to_lamports("0.05"), Some(50_000_000));
        assert_eq!(sol_to_lamports(".5"), Some(500_000_000));
        assert_eq!(sol_to_lamports("2"), Some(2 * LAMPORTS_PER_SOL));
        assert_eq!(sol_to_lamports("0.000000001"), Some(1));
        for bad in [
            "",
            ".",
            "1e3",
            "-1",
            "+1",
            "0.0000000001",
            "1,5",
            "99999999999",
            " 1",
        ] {
            assert_eq!(sol_to_lamports(bad), None, "{bad:?}");
        }
        assert_eq!(lamports_to_sol(63_000_000), "0.063");
        assert_eq!(lamports_to_sol(0), "0");
        assert_eq!(lamports_to_sol(10 * LAMPORTS_PER_SOL), "10");
    }
}
