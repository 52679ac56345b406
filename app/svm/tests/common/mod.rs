//! Test fixture: a LiteSVM with roomcast loaded natively, funded actors, instruction builders, and
//! assertions for errors, untouched state and events.
#![allow(dead_code)]
// LiteSVM's failure metadata is large; tests only pass it up to assertions.
#![allow(clippy::result_large_err)]

use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use base64::Engine as _;
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use roomcast::state::{Registry, Room};
use solana_account::Account;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

pub const SOL: u64 = 1_000_000_000;
/// Anchor numbers custom errors from 6000 in declaration order.
pub const ERROR_CODE_OFFSET: u32 = 6000;
/// LiteSVM's default fee: 5000 lamports per signature, no priority fee.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5000;
/// `SystemError::AccountAlreadyInUse`, what `init` on an existing account fails with.
pub const SYSTEM_ERROR_ACCOUNT_ALREADY_IN_USE: u32 = 0;

pub const INGEST_URL: &str = "rtmps://live.cloudflare.com:443/live/";

/// A fixed starting time, so every timestamp a test asserts is a known constant.
pub const T0: i64 = 1_700_000_000;

pub fn system_program() -> Pubkey {
    Pubkey::default()
}

pub fn program_id() -> Pubkey {
    roomcast::ID
}

pub struct Env {
    pub svm: LiteSVM,
    pub admin: Keypair,
    pub registrar: Keypair,
    pub host: Keypair,
    pub stranger: Keypair,
    pub registry: Pubkey,
}

/// A second operator: its own admin, registrar and registry in the same chain.
pub struct Operator {
    pub admin: Keypair,
    pub registrar: Keypair,
    pub registry: Pubkey,
}

pub type TxResult = Result<TransactionMetadata, FailedTransactionMetadata>;

impl Env {
    /// A chain with the program loaded, the clock at [`T0`] and funded admin/registrar/host/stranger;
    /// no registry yet.
    pub fn bare() -> Self {
        let mut svm = roomcast_svm::new_svm();
        roomcast_svm::set_unix_timestamp(&mut svm, T0);
        let admin = Keypair::new();
        let registrar = Keypair::new();
        let host = Keypair::new();
        let stranger = Keypair::new();
        for k in [&admin, &registrar, &host, &stranger] {
            svm.airdrop(&k.pubkey(), 100 * SOL).unwrap();
        }
        let registry = registry_address(&admin.pubkey());
        Env {
            svm,
            admin,
            registrar,
            host,
            stranger,
            registry,
        }
    }

    /// A chain with the admin's registry initialized, naming `registrar`.
    pub fn new() -> Self {
        let mut env = Self::bare();
        let ix = initialize_registry_ix(&env.admin.pubkey(), &env.registrar.pubkey());
        let admin = env.admin.insecure_clone();
        env.send(&[ix], &[&admin]).expect("initialize_registry");
        env
    }

    /// Adds another operator with its own registry (and registrar) to the chain.
    pub fn other_operator(&mut self) -> Operator {
        let admin = Keypair::new();
        let registrar = Keypair::new();
        for k in [&admin, &registrar] {
            self.svm.airdrop(&k.pubkey(), 100 * SOL).unwrap();
        }
        let ix = initialize_registry_ix(&admin.pubkey(), &registrar.pubkey());
        self.send(&[ix], &[&admin])
            .expect("initialize second registry");
        let registry = registry_address(&admin.pubkey());
        Operator {
            admin,
            registrar,
            registry,
        }
    }

    /// Signs with `signers` (the first pays the fee) and sends, with a fresh blockhash afterwards so
    /// that identical instructions are distinct transactions.
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let payer = signers[0].pubkey();
        let msg = Message::new_with_blockhash(ixs, Some(&payer), &self.svm.latest_blockhash());
        let tx = Transaction::new(signers, msg, self.svm.latest_blockhash());
        let result = self.svm.send_transaction(tx);
        self.svm.expire_blockhash();
        result
    }

    /// Sends one instruction signed (and paid) by `signer` alone.
    pub fn send_one(&mut self, ix: Instruction, signer: &Keypair) -> TxResult {
        let signer = signer.insecure_clone();
        self.send(&[ix], &[&signer])
    }

    pub fn initialize_registry_ix(&self, admin: &Pubkey, registrar: &Pubkey) -> Instruction {
        initialize_registry_ix(admin, registrar)
    }

    pub fn set_registrar_ix(&self, admin: &Pubkey, registry: &Pubkey, new: &Pubkey) -> Instruction {
        set_registrar_ix(admin, registry, new)
    }

    pub fn create_room_ix(
        &self,
        registrar: &Pubkey,
        registry: &Pubkey,
        session_id: &str,
        ingest_url: &str,
        title: &str,
        host: &Pubkey,
    ) -> Instruction {
        create_room_ix_at(
            registrar,
            registry,
            &room_address(registry, session_id),
            session_id,
            ingest_url,
            title,
            host,
        )
    }

    /// Creates a room with the default registrar/registry/host and a valid ingest URL.
    pub fn create_room(&mut self, session_id: &str, title: &str) -> TxResult {
        let ix = self.create_room_ix(
            &self.registrar.pubkey(),
            &self.registry,
            session_id,
            INGEST_URL,
            title,
            &self.host.pubkey(),
        );
        let registrar = self.registrar.insecure_clone();
        self.send(&[ix], &[&registrar])
    }

    /// Creates a room (as [`Env::create_room`]) and returns its address; panics on failure.
    pub fn created_room(&mut self, session_id: &str, title: &str) -> Pubkey {
        self.create_room(session_id, title).expect("create_room");
        self.room_addr(session_id)
    }

    /// Creates a room and ends it (by the registrar); returns its address.
    pub fn ended_room(&mut self, session_id: &str) -> Pubkey {
        let room = self.created_room(session_id, "Ended soon");
        let ix = self.end_room_ix(&self.registrar.pubkey(), &room);
        let registrar = self.registrar.insecure_clone();
        self.send_one(ix, &registrar).expect("end_room");
        room
    }

    pub fn room_addr(&self, session_id: &str) -> Pubkey {
        room_address(&self.registry, session_id)
    }

    /// `update_room` with the payer the room records (the registrar when there is no room to read).
    pub fn update_room_ix(&self, authority: &Pubkey, room: &Pubkey, title: &str) -> Instruction {
        let payer = self.recorded_payer(room);
        update_room_ix(authority, &self.registry, room, &payer, title)
    }

    /// The payer recorded in the room at `address`, or the registrar if it holds no room.
    pub fn recorded_payer(&self, address: &Pubkey) -> Pubkey {
        self.svm
            .get_account(address)
            .and_then(|a| Room::try_deserialize(&mut a.data.as_slice()).ok())
            .map_or(self.registrar.pubkey(), |room| room.payer)
    }

    pub fn set_live_ix(&self, registrar: &Pubkey, room: &Pubkey) -> Instruction {
        set_live_ix(registrar, &self.registry, room)
    }

    pub fn end_room_ix(&self, authority: &Pubkey, room: &Pubkey) -> Instruction {
        end_room_ix(authority, &self.registry, room)
    }

    pub fn close_room_ix(&self, authority: &Pubkey, room: &Pubkey, payer: &Pubkey) -> Instruction {
        close_room_ix(authority, &self.registry, room, payer)
    }

    pub fn room(&self, address: &Pubkey) -> Option<Room> {
        let account = self.svm.get_account(address)?;
        Some(Room::try_deserialize(&mut account.data.as_slice()).expect("room account decodes"))
    }

    pub fn registry_account(&self, address: &Pubkey) -> Option<Registry> {
        let account = self.svm.get_account(address)?;
        Some(Registry::try_deserialize(&mut account.data.as_slice()).expect("registry decodes"))
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.svm
            .get_account(address)
            .map(|a| a.lamports)
            .unwrap_or(0)
    }

    /// The account at `address` if it exists (LiteSVM reports closed accounts as empty ones).
    pub fn account(&self, address: &Pubkey) -> Option<Account> {
        self.svm
            .get_account(address)
            .filter(|a| a.lamports > 0 || !a.data.is_empty() || a.owner != system_program())
    }

    pub fn clock_now(&self) -> i64 {
        self.svm.get_sysvar::<solana_clock::Clock>().unix_timestamp
    }

    pub fn set_now(&mut self, unix_timestamp: i64) {
        roomcast_svm::set_unix_timestamp(&mut self.svm, unix_timestamp);
    }

    /// Records the accounts at `addresses`, to compare after a transaction that must change nothing.
    pub fn snapshot(&self, addresses: &[Pubkey]) -> Snapshot {
        Snapshot(addresses.iter().map(|a| (*a, self.account(a))).collect())
    }

    /// Asserts that `result` failed and that every account of `before` is exactly as it was, except
    /// that `fee_payer` lost the transaction fee (5000 lamports per signature).
    pub fn assert_unchanged(
        &self,
        before: &Snapshot,
        result: &TxResult,
        fee_payer: &Pubkey,
        signatures: u64,
    ) {
        let failed = result.as_ref().expect_err("transaction must fail");
        assert_eq!(
            failed.meta.fee,
            LAMPORTS_PER_SIGNATURE * signatures,
            "fee charged"
        );
        for (address, old) in &before.0 {
            let mut expected = old.clone();
            if address == fee_payer {
                let payer = expected.as_mut().expect("fee payer exists");
                payer.lamports -= failed.meta.fee;
            }
            assert_eq!(self.account(address), expected, "account {address} changed");
        }
    }

    /// The default registry's `rooms_created`.
    pub fn rooms_created(&self) -> u64 {
        self.registry_account(&self.registry)
            .expect("registry")
            .rooms_created
    }
}

pub struct Snapshot(pub Vec<(Pubkey, Option<Account>)>);

pub fn initialize_registry_ix(admin: &Pubkey, registrar: &Pubkey) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::InitializeRegistry {
            admin: *admin,
            registry: registry_address(admin),
            system_program: system_program(),
        }
        .to_account_metas(None),
        data: roomcast::instruction::InitializeRegistry {
            registrar: *registrar,
        }
        .data(),
    }
}

pub fn set_registrar_ix(admin: &Pubkey, registry: &Pubkey, new: &Pubkey) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::SetRegistrar {
            admin: *admin,
            registry: *registry,
        }
        .to_account_metas(None),
        data: roomcast::instruction::SetRegistrar {
            new_registrar: *new,
        }
        .data(),
    }
}

/// `create_room` with an explicit room address (to pass a wrong PDA).
pub fn create_room_ix_at(
    registrar: &Pubkey,
    registry: &Pubkey,
    room: &Pubkey,
    session_id: &str,
    ingest_url: &str,
    title: &str,
    host: &Pubkey,
) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::CreateRoom {
            registrar: *registrar,
            registry: *registry,
            room: *room,
            system_program: system_program(),
        }
        .to_account_metas(None),
        data: roomcast::instruction::CreateRoom {
            session_id: session_id.to_string(),
            ingest_url: ingest_url.to_string(),
            title: title.to_string(),
            host: *host,
        }
        .data(),
    }
}

pub fn update_room_ix(
    authority: &Pubkey,
    registry: &Pubkey,
    room: &Pubkey,
    payer: &Pubkey,
    title: &str,
) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::UpdateRoom {
            authority: *authority,
            registry: *registry,
            room: *room,
            payer: *payer,
            system_program: system_program(),
        }
        .to_account_metas(None),
        data: roomcast::instruction::UpdateRoom {
            title: title.to_string(),
        }
        .data(),
    }
}

pub fn set_live_ix(registrar: &Pubkey, registry: &Pubkey, room: &Pubkey) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::SetLive {
            registrar: *registrar,
            registry: *registry,
            room: *room,
        }
        .to_account_metas(None),
        data: roomcast::instruction::SetLive {}.data(),
    }
}

pub fn end_room_ix(authority: &Pubkey, registry: &Pubkey, room: &Pubkey) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::EndRoom {
            authority: *authority,
            registry: *registry,
            room: *room,
        }
        .to_account_metas(None),
        data: roomcast::instruction::EndRoom {}.data(),
    }
}

pub fn close_room_ix(
    authority: &Pubkey,
    registry: &Pubkey,
    room: &Pubkey,
    payer: &Pubkey,
) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::CloseRoom {
            authority: *authority,
            registry: *registry,
            room: *room,
            payer: *payer,
        }
        .to_account_metas(None),
        data: roomcast::instruction::CloseRoom {}.data(),
    }
}

pub fn registry_address(admin: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[roomcast::REGISTRY_SEED, admin.as_ref()], &roomcast::ID).0
}

pub fn room_address(registry: &Pubkey, session_id: &str) -> Pubkey {
    Pubkey::find_program_address(
        &[
            roomcast::ROOM_SEED,
            registry.as_ref(),
            roomcast::room_seed(session_id),
        ],
        &roomcast::ID,
    )
    .0
}

/// A fresh valid session id (32 lowercase hex).
pub fn session_id(n: u64) -> String {
    format!(
        "{:032x}",
        0xabc0_0000_0000_0000_0000_0000_0000_0000u128 + n as u128
    )
}

/// The instruction error a failed transaction carries.
pub fn instruction_error(result: &TxResult) -> Option<InstructionError> {
    match result {
        Err(failed) => match &failed.err {
            TransactionError::InstructionError(_, err) => Some(err.clone()),
            _ => None,
        },
        Ok(_) => None,
    }
}

/// The custom program error a failed transaction carries, if any.
pub fn custom_error(result: &TxResult) -> Option<u32> {
    match instruction_error(result) {
        Some(InstructionError::Custom(code)) => Some(code),
        _ => None,
    }
}

fn describe(result: &TxResult) -> String {
    match result {
        Ok(meta) => format!("success, logs: {:#?}", meta.logs),
        Err(failed) => format!("{:?}, logs: {:#?}", failed.err, failed.meta.logs),
    }
}

/// Asserts `result` failed with the given roomcast error.
pub fn assert_roomcast_error(result: &TxResult, expected: roomcast::RoomcastError) {
    let expected_code = ERROR_CODE_OFFSET + expected as u32;
    assert_eq!(
        custom_error(result),
        Some(expected_code),
        "expected {expected:?} ({expected_code}), got {}",
        describe(result)
    );
}

/// Asserts `result` failed with the given anchor framework error (e.g. ConstraintSeeds).
pub fn assert_anchor_error(result: &TxResult, expected: anchor_lang::error::ErrorCode) {
    let expected_code: u32 = expected.into();
    assert_eq!(
        custom_error(result),
        Some(expected_code),
        "expected {expected:?} ({expected_code}), got {}",
        describe(result)
    );
}

/// Asserts `result` failed with exactly this instruction error (at instruction 0).
pub fn assert_instruction_error(result: &TxResult, expected: InstructionError) {
    match result {
        Err(failed) => assert_eq!(
            failed.err,
            TransactionError::InstructionError(0, expected),
            "{}",
            describe(result)
        ),
        Ok(_) => panic!("expected {expected:?}, got {}", describe(result)),
    }
}

/// The payloads of every `Program data: <base64>` log line, in order.
pub fn program_data(logs: &[String]) -> Vec<Vec<u8>> {
    logs.iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .map(|b64| {
            assert!(!b64.contains(' '), "one field per event: {b64}");
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("Program data is base64")
        })
        .collect()
}

/// Decodes an event as anchor clients do: 8-byte discriminator, then borsh (no trailing bytes).
pub fn decode_event<T: anchor_lang::Event>(data: &[u8]) -> T {
    assert_eq!(
        &data[..T::DISCRIMINATOR.len()],
        T::DISCRIMINATOR,
        "event discriminator"
    );
    T::try_from_slice(&data[T::DISCRIMINATOR.len()..]).expect("event decodes")
}

/// The single event the transaction emitted, decoded as `T`.
pub fn single_event<T: anchor_lang::Event>(meta: &TransactionMetadata) -> T {
    let data = program_data(&meta.logs);
    assert_eq!(
        data.len(),
        1,
        "exactly one event expected, logs: {:#?}",
        meta.logs
    );
    decode_event(&data[0])
}
