//! Test fixture: a LiteSVM with roomcast loaded natively, funded actors and instruction builders.
#![allow(dead_code)]

use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use roomcast::state::{Registry, Room};
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;

pub const SOL: u64 = 1_000_000_000;
/// Anchor numbers custom errors from 6000 in declaration order.
pub const ERROR_CODE_OFFSET: u32 = 6000;

pub fn system_program() -> Pubkey {
    Pubkey::default()
}

pub struct Env {
    pub svm: LiteSVM,
    pub admin: Keypair,
    pub registrar: Keypair,
    pub host: Keypair,
    pub stranger: Keypair,
    pub registry: Pubkey,
}

pub type TxResult = Result<TransactionMetadata, FailedTransactionMetadata>;

impl Env {
    /// A chain with the program loaded and funded admin/registrar/host/stranger; no registry yet.
    pub fn bare() -> Self {
        let mut svm = roomcast_svm::new_svm();
        let admin = Keypair::new();
        let registrar = Keypair::new();
        let host = Keypair::new();
        let stranger = Keypair::new();
        for k in [&admin, &registrar, &host, &stranger] {
            svm.airdrop(&k.pubkey(), 100 * SOL).unwrap();
        }
        let registry = registry_address(&admin.pubkey());
        Env { svm, admin, registrar, host, stranger, registry }
    }

    /// A chain with the admin's registry initialized, naming `registrar`.
    pub fn new() -> Self {
        let mut env = Self::bare();
        let ix = env.initialize_registry_ix(&env.admin.pubkey(), &env.registrar.pubkey());
        let admin = env.admin.insecure_clone();
        env.send(&[ix], &[&admin]).expect("initialize_registry");
        env
    }

    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let payer = signers[0].pubkey();
        let msg = Message::new_with_blockhash(ixs, Some(&payer), &self.svm.latest_blockhash());
        let tx = Transaction::new(signers, msg, self.svm.latest_blockhash());
        let result = self.svm.send_transaction(tx);
        // A fresh blockhash per transaction, so identical instructions are distinct transactions.
        self.svm.expire_blockhash();
        result
    }

    pub fn initialize_registry_ix(&self, admin: &Pubkey, registrar: &Pubkey) -> Instruction {
        Instruction {
            program_id: roomcast::ID,
            accounts: roomcast::accounts::InitializeRegistry {
                admin: *admin,
                registry: registry_address(admin),
                system_program: system_program(),
            }
            .to_account_metas(None),
            data: roomcast::instruction::InitializeRegistry { registrar: *registrar }.data(),
        }
    }

    pub fn set_registrar_ix(&self, admin: &Pubkey, registry: &Pubkey, new: &Pubkey) -> Instruction {
        Instruction {
            program_id: roomcast::ID,
            accounts: roomcast::accounts::SetRegistrar { admin: *admin, registry: *registry }
                .to_account_metas(None),
            data: roomcast::instruction::SetRegistrar { new_registrar: *new }.data(),
        }
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
        Instruction {
            program_id: roomcast::ID,
            accounts: roomcast::accounts::CreateRoom {
                registrar: *registrar,
                registry: *registry,
                room: room_address(registry, session_id),
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

    /// Creates a room with the default registrar/registry and a valid ingest URL.
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

    pub fn update_room_ix(&self, authority: &Pubkey, room: &Pubkey, title: &str) -> Instruction {
        Instruction {
            program_id: roomcast::ID,
            accounts: roomcast::accounts::UpdateRoom {
                authority: *authority,
                registry: self.registry,
                room: *room,
            }
            .to_account_metas(None),
            data: roomcast::instruction::UpdateRoom { title: title.to_string() }.data(),
        }
    }

    pub fn set_live_ix(&self, registrar: &Pubkey, room: &Pubkey) -> Instruction {
        Instruction {
            program_id: roomcast::ID,
            accounts: roomcast::accounts::SetLive {
                registrar: *registrar,
                registry: self.registry,
                room: *room,
            }
            .to_account_metas(None),
            data: roomcast::instruction::SetLive {}.data(),
        }
    }

    pub fn end_room_ix(&self, authority: &Pubkey, room: &Pubkey) -> Instruction {
        Instruction {
            program_id: roomcast::ID,
            accounts: roomcast::accounts::EndRoom {
                authority: *authority,
                registry: self.registry,
                room: *room,
            }
            .to_account_metas(None),
            data: roomcast::instruction::EndRoom {}.data(),
        }
    }

    pub fn close_room_ix(&self, authority: &Pubkey, room: &Pubkey, payer: &Pubkey) -> Instruction {
        Instruction {
            program_id: roomcast::ID,
            accounts: roomcast::accounts::CloseRoom {
                authority: *authority,
                registry: self.registry,
                room: *room,
                payer: *payer,
            }
            .to_account_metas(None),
            data: roomcast::instruction::CloseRoom {}.data(),
        }
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
        self.svm.get_account(address).map(|a| a.lamports).unwrap_or(0)
    }

    pub fn clock_now(&self) -> i64 {
        self.svm.get_sysvar::<solana_clock::Clock>().unix_timestamp
    }

    pub fn set_now(&mut self, unix_timestamp: i64) {
        roomcast_svm::set_unix_timestamp(&mut self.svm, unix_timestamp);
    }
}

pub const INGEST_URL: &str = "rtmps://live.cloudflare.com:443/live/";

pub fn registry_address(admin: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[roomcast::REGISTRY_SEED, admin.as_ref()], &roomcast::ID).0
}

pub fn room_address(registry: &Pubkey, session_id: &str) -> Pubkey {
    Pubkey::find_program_address(
        &[roomcast::ROOM_SEED, registry.as_ref(), roomcast::room_seed(session_id)],
        &roomcast::ID,
    )
    .0
}

/// A fresh valid session id (32 lowercase hex).
pub fn session_id(n: u64) -> String {
    format!("{:032x}", 0xabc0_0000_0000_0000_0000_0000_0000_0000u128 + n as u128)
}

/// The custom program error a failed transaction carries, if any.
pub fn custom_error(result: &TxResult) -> Option<u32> {
    match result {
        Err(failed) => match &failed.err {
            solana_transaction_error::TransactionError::InstructionError(
                _,
                InstructionError::Custom(code),
            ) => Some(*code),
            _ => None,
        },
        Ok(_) => None,
    }
}

/// Asserts `result` failed with the given roomcast error.
pub fn assert_roomcast_error(result: &TxResult, expected: roomcast::RoomcastError) {
    let expected_code = ERROR_CODE_OFFSET + expected as u32;
    assert_eq!(
        custom_error(result),
        Some(expected_code),
        "expected {expected:?} ({expected_code}), got {:?}",
        result.as_ref().map(|m| m.logs.clone()).map_err(|e| (e.err.clone(), e.meta.logs.clone()))
    );
}

/// Asserts `result` failed with the given anchor framework error (e.g. ConstraintSeeds).
pub fn assert_anchor_error(result: &TxResult, expected: anchor_lang::error::ErrorCode) {
    let expected_code: u32 = expected.into();
    assert_eq!(
        custom_error(result),
        Some(expected_code),
        "expected {expected:?} ({expected_code}), got {:?}",
        result.as_ref().map(|m| m.logs.clone()).map_err(|e| (e.err.clone(), e.meta.logs.clone()))
    );
}
