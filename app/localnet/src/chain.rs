//! The ledger of the local node: LiteSVM plus what a cluster adds around execution
//! (slots that advance with time, recent blockhashes, signature history, balances per transaction).
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use litesvm::types::TransactionMetadata;
use litesvm::LiteSVM;
use sha2::{Digest, Sha256};
use solana_account::{Account, AccountSharedData, ReadableAccount};
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::VersionedMessage;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

/// Slot length of a real cluster.
pub const SLOT_DURATION: Duration = Duration::from_millis(400);
/// A blockhash stays valid for this many slots, as on mainnet.
pub const MAX_RECENT_BLOCKHASHES: u64 = 150;
/// Fee per signature, as on mainnet.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// Signatures remembered for `getSignatureStatuses`/`getTransaction` and duplicate detection.
const MAX_TX_HISTORY: usize = 100_000;
pub const SLOTS_PER_EPOCH: u64 = 432_000;

/// One executed transaction, as `getTransaction` reports it.
#[derive(Clone, Debug)]
pub struct TxRecord {
    pub slot: u64,
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub fee: u64,
    pub compute_units: u64,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
}

/// Why a transaction was not executed or failed, with what a preflight would report.
#[derive(Debug)]
pub struct TxFailure {
    pub err: TransactionError,
    pub logs: Vec<String>,
    pub compute_units: u64,
}

pub struct LocalChain {
    svm: LiteSVM,
    genesis_hash: Hash,
    started: Instant,
    genesis_slot: u64,
    /// Slot at `started`; wall time advances slots from here.
    first_slot: u64,
    slot: u64,
    /// Recent blockhashes with the slot they were produced in; newest last.
    blockhashes: VecDeque<(Hash, u64)>,
    txs: HashMap<Signature, TxRecord>,
    tx_order: VecDeque<Signature>,
    /// Per account key, the remembered transactions that mention it, oldest first
    /// (`getSignaturesForAddress`).
    by_address: HashMap<Pubkey, VecDeque<Signature>>,
    transaction_count: u64,
    faucet: Keypair,
    /// Set by any write, cleared by a save.
    pub dirty: bool,
    /// Accounts written since the last save (what `state_file::save_changes` appends).
    pub written: HashSet<Pubkey>,
    /// Slots and landed transactions, for WebSocket subscribers.
    pub events: crate::events::EventSender,
}

impl LocalChain {
    pub fn new(faucet: Keypair) -> Self {
        // Signatures and blockhashes are checked here, with cluster semantics (recent window,
        // `-32003`), rather than by LiteSVM, which only accepts its single latest blockhash.
        let mut svm = LiteSVM::new()
            .with_sigverify(false)
            .with_blockhash_check(false)
            .with_transaction_history(0);
        roomcast_svm::install(&mut svm);
        let first_slot = svm.get_sysvar::<solana_clock::Clock>().slot;
        let genesis_hash = genesis_hash();
        let mut chain = LocalChain {
            svm,
            genesis_hash,
            started: Instant::now(),
            genesis_slot: first_slot,
            first_slot,
            slot: first_slot,
            blockhashes: VecDeque::new(),
            txs: HashMap::new(),
            tx_order: VecDeque::new(),
            by_address: HashMap::new(),
            transaction_count: 0,
            faucet,
            dirty: false,
            written: HashSet::new(),
            events: crate::events::EventSender::new(),
        };
        chain
            .blockhashes
            .push_back((chain.genesis_hash, first_slot));
        chain.produce_slot(first_slot);
        chain.fund_faucet();
        chain
    }

    fn fund_faucet(&mut self) {
        let faucet = self.faucet.pubkey();
        if self
            .svm
            .get_account(&faucet)
            .map(|a| a.lamports)
            .unwrap_or(0)
            < 1_000_000 * 1_000_000_000
        {
            self.svm
                .set_account(
                    faucet,
                    Account::new(500_000_000 * 1_000_000_000, 0, &Pubkey::default()),
                )
                .expect("fund faucet");
        }
    }

    pub fn faucet_pubkey(&self) -> Pubkey {
        self.faucet.pubkey()
    }

    /// Advances slots to wall time: one slot per 400 ms, a new blockhash per slot.
    pub fn tick(&mut self) {
        let target = self.first_slot
            + (self.started.elapsed().as_millis() / SLOT_DURATION.as_millis()) as u64;
        if target > self.slot {
            self.produce_slot(target);
        }
    }

    /// Moves to a new slot right away (used after each transaction, so that identical follow-up
    /// transactions built on a fresh blockhash get distinct signatures).
    pub fn advance_slot(&mut self) {
        // Keep wall-time ticking consistent: the extra slot shifts the time base by one slot.
        self.first_slot += 1;
        self.produce_slot(self.slot + 1);
    }

    fn produce_slot(&mut self, slot: u64) {
        let prev = self
            .blockhashes
            .back()
            .map(|(h, _)| *h)
            .unwrap_or(self.genesis_hash);
        let mut hasher = Sha256::new();
        hasher.update(prev.as_ref());
        hasher.update(slot.to_le_bytes());
        let hash = Hash::new_from_array(hasher.finalize().into());
        let parent = self.slot;
        self.slot = slot;
        self.blockhashes.push_back((hash, slot));
        while self
            .blockhashes
            .front()
            .is_some_and(|(_, s)| *s + MAX_RECENT_BLOCKHASHES < slot)
        {
            self.blockhashes.pop_front();
        }
        let mut clock: solana_clock::Clock = self.svm.get_sysvar();
        clock.slot = slot;
        clock.epoch = slot / SLOTS_PER_EPOCH;
        clock.unix_timestamp = unix_now();
        self.svm.set_sysvar(&clock);
        self.events
            .publish(crate::events::ChainEvent::Slot { slot, parent });
    }

    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// Goes on from `slot` (a restart: the slot the node had reached before), never back; wall
    /// time advances slots from there.
    pub fn resume_after(&mut self, slot: u64) {
        if slot >= self.slot {
            self.first_slot += slot + 1 - self.slot;
            self.produce_slot(slot + 1);
        }
    }

    /// Block height: one block per slot since genesis (no skipped slots here).
    pub fn block_height(&self) -> u64 {
        self.slot - self.genesis_slot
    }

    /// The newest blockhash and the last block height at which it is still accepted.
    pub fn latest_blockhash(&self) -> (Hash, u64) {
        let (hash, slot) = *self.blockhashes.back().expect("at least one blockhash");
        (hash, slot - self.genesis_slot + MAX_RECENT_BLOCKHASHES)
    }

    pub fn is_blockhash_valid(&self, hash: &Hash) -> bool {
        self.blockhashes.iter().any(|(h, _)| h == hash)
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    pub fn transaction_count(&self) -> u64 {
        self.transaction_count
    }

    pub fn account(&self, address: &Pubkey) -> Option<AccountSharedData> {
        self.svm
            .get_account(address)
            .filter(|a| a.lamports > 0)
            .map(AccountSharedData::from)
    }

    /// `program`'s accounts whose data `keep` accepts, in address order (stable for pagination).
    /// Only what is kept is cloned and sorted: a filtered read of a few accounts among 100k stays
    /// a scan, not 100k copies.
    pub fn program_accounts(
        &self,
        program: &Pubkey,
        keep: impl Fn(&[u8]) -> bool,
    ) -> Vec<(Pubkey, AccountSharedData)> {
        let mut found: Vec<_> = self
            .svm
            .accounts_db()
            .inner
            .iter()
            .filter(|(_, a)| a.owner() == program && a.lamports() > 0 && keep(a.data()))
            .map(|(k, a)| (*k, a.clone()))
            .collect();
        found.sort_by_key(|(k, _)| *k);
        found
    }

    pub fn minimum_balance_for_rent_exemption(&self, data_len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(data_len)
    }

    pub fn fee_for_message(&self, message: &VersionedMessage) -> u64 {
        LAMPORTS_PER_SIGNATURE * u64::from(message.header().num_required_signatures)
    }

    pub fn tx(&self, signature: &Signature) -> Option<&TxRecord> {
        self.txs.get(signature)
    }

    /// The remembered transactions that mention `address` (any static account key), newest first.
    pub fn signatures_for_address(
        &self,
        address: &Pubkey,
    ) -> impl Iterator<Item = (&Signature, &TxRecord)> {
        self.by_address
            .get(address)
            .into_iter()
            .flat_map(|sigs| sigs.iter().rev())
            .filter_map(|sig| self.txs.get(sig).map(|record| (sig, record)))
    }

    /// Checks what a cluster checks before executing: signatures, known blockhash, no replay.
    pub fn precheck(
        &self,
        tx: &VersionedTransaction,
        verify_signatures: bool,
    ) -> Result<(), TransactionError> {
        tx.sanitize()
            .map_err(|_| TransactionError::SanitizeFailure)?;
        if verify_signatures && tx.verify_and_hash_message().is_err() {
            return Err(TransactionError::SignatureFailure);
        }
        if self.txs.contains_key(&tx.signatures[0]) {
            return Err(TransactionError::AlreadyProcessed);
        }
        if !self.is_blockhash_valid(tx.message.recent_blockhash()) {
            return Err(TransactionError::BlockhashNotFound);
        }
        Ok(())
    }

    /// Simulates without committing anything; returns the logs and the accounts it would write.
    pub fn simulate(
        &self,
        tx: VersionedTransaction,
    ) -> Result<(TransactionMetadata, Vec<(Pubkey, AccountSharedData)>), TxFailure> {
        match self.svm.simulate_transaction(tx) {
            Ok(info) => Ok((info.meta, info.post_accounts)),
            Err(failed) => Err(TxFailure {
                err: failed.err,
                logs: failed.meta.logs,
                compute_units: failed.meta.compute_units_consumed,
            }),
        }
    }

    /// Executes and records the transaction. With `record_failure` false (a preflight), a transaction
    /// that would fail is simulated only: refused with its logs, nothing charged or recorded.
    /// Failed transactions land (fee charged) only when the sender skipped preflight, as on a cluster.
    pub fn execute(
        &mut self,
        tx: VersionedTransaction,
        record_failure: bool,
    ) -> Result<Signature, TxFailure> {
        let signature = tx.signatures[0];
        if !record_failure {
            // Preflight: a transaction that would fail is refused without touching the ledger
            // (LiteSVM charges the fee of a failed transaction, as a cluster does once it lands).
            self.simulate(tx.clone())?;
        }
        let keys: Vec<Pubkey> = tx.message.static_account_keys().to_vec();
        let pre_balances = self.balances(&keys);
        let result = self.svm.send_transaction(tx.clone());
        let (err, meta) = match result {
            Ok(meta) => (None, meta),
            Err(failed) => {
                if !record_failure {
                    return Err(TxFailure {
                        err: failed.err,
                        logs: failed.meta.logs,
                        compute_units: failed.meta.compute_units_consumed,
                    });
                }
                (Some(failed.err), failed.meta)
            }
        };
        let post_balances = self.balances(&keys);
        self.publish_transaction(&tx, &err, &meta.logs);
        for (i, key) in tx.message.static_account_keys().iter().enumerate() {
            if tx
                .message
                .is_maybe_writable_with_reserved_addresses(i, None::<&HashSet<Pubkey>>)
            {
                self.written.insert(*key);
            }
        }
        self.record(TxRecord {
            slot: self.slot,
            block_time: unix_now(),
            transaction: tx,
            err,
            logs: meta.logs,
            fee: meta.fee,
            compute_units: meta.compute_units_consumed,
            pre_balances,
            post_balances,
        });
        self.dirty = true;
        self.advance_slot();
        Ok(signature)
    }

    /// Transfers from the faucet, as `requestAirdrop` does on test clusters.
    pub fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<Signature, TxFailure> {
        let (blockhash, _) = self.latest_blockhash();
        let ix =
            solana_system_interface::instruction::transfer(&self.faucet.pubkey(), to, lamports);
        let message = solana_message::Message::new_with_blockhash(
            &[ix],
            Some(&self.faucet.pubkey()),
            &blockhash,
        );
        let tx = VersionedTransaction::try_new(VersionedMessage::Legacy(message), &[&self.faucet])
            .expect("faucet signs");
        self.execute(tx, false)
    }

    /// Hands a landed transaction and the accounts it wrote to the WebSocket subscribers.
    fn publish_transaction(
        &self,
        tx: &VersionedTransaction,
        err: &Option<TransactionError>,
        logs: &[String],
    ) {
        if !self.events.active() {
            return;
        }
        let keys = tx.message.static_account_keys().to_vec();
        let written = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                tx.message
                    .is_maybe_writable_with_reserved_addresses(*i, None::<&HashSet<Pubkey>>)
            })
            .map(|(_, k)| (*k, self.account(k).unwrap_or_default()))
            .collect();
        self.events
            .publish(crate::events::ChainEvent::Transaction(std::sync::Arc::new(
                crate::events::TxEvent {
                    signature: tx.signatures[0],
                    slot: self.slot,
                    err: err.clone(),
                    logs: logs.to_vec(),
                    keys,
                    written,
                },
            )));
    }

    fn balances(&self, keys: &[Pubkey]) -> Vec<u64> {
        keys.iter()
            .map(|k| self.svm.get_account(k).map(|a| a.lamports).unwrap_or(0))
            .collect()
    }

    fn record(&mut self, record: TxRecord) {
        let signature = record.transaction.signatures[0];
        self.transaction_count += 1;
        let mut keys: Vec<Pubkey> = record.transaction.message.static_account_keys().to_vec();
        keys.sort();
        keys.dedup();
        for key in keys {
            self.by_address.entry(key).or_default().push_back(signature);
        }
        self.txs.insert(signature, record);
        self.tx_order.push_back(signature);
        while self.tx_order.len() > MAX_TX_HISTORY {
            if let Some(old) = self.tx_order.pop_front() {
                if let Some(record) = self.txs.remove(&old) {
                    // The oldest transaction is first in each of its keys' lists.
                    for key in record.transaction.message.static_account_keys() {
                        if let Some(list) = self.by_address.get_mut(key) {
                            if list.front() == Some(&old) {
                                list.pop_front();
                            }
                            if list.is_empty() {
                                self.by_address.remove(key);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Accounts worth persisting: everything but programs, sysvars and native loader entries.
    pub fn user_accounts(&self) -> Vec<(Pubkey, AccountSharedData)> {
        let sysvar_owner = solana_pubkey::pubkey!("Sysvar1111111111111111111111111111111111111");
        let mut accounts: Vec<_> = self
            .svm
            .accounts_db()
            .inner
            .iter()
            .filter(|(_, a)| !a.executable() && a.owner() != &sysvar_owner && a.lamports() > 0)
            .map(|(k, a)| (*k, a.clone()))
            .collect();
        accounts.sort_by_key(|(k, _)| *k);
        accounts
    }

    /// Puts `data` at `address`, owned by `owner` and rent-exempt, as if a transaction had written
    /// it (tests and tools that build a large ledger without sending its transactions; no
    /// notification is sent).
    pub fn seed_account(
        &mut self,
        address: Pubkey,
        owner: Pubkey,
        data: Vec<u8>,
    ) -> anyhow::Result<()> {
        let account = Account {
            lamports: self.minimum_balance_for_rent_exemption(data.len()),
            data,
            owner,
            executable: false,
            rent_epoch: 0,
        };
        self.load_account(address, account)?;
        self.dirty = true;
        self.written.insert(address);
        Ok(())
    }

    pub fn load_account(&mut self, address: Pubkey, account: Account) -> anyhow::Result<()> {
        self.svm
            .set_account(address, account)
            .map_err(|e| anyhow::anyhow!("cannot load account {address}: {e:?}"))
    }
}

/// The genesis hash every roomcast local node reports (`getGenesisHash`): how tools recognise one.
pub fn genesis_hash() -> Hash {
    Hash::new_from_array(Sha256::digest(b"roomcast-localnet").into())
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
