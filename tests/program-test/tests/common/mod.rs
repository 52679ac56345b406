//! The program under `solana-program-test` (BanksClient over the Agave bank), natively through
//! `processor!`, plus instruction builders mirroring app/svm/tests/common.
#![allow(dead_code)]
// solana-program-test 3.x marks its API "Agave unstable" (deprecated without the 4.x feature).
#![allow(deprecated)]

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use solana_instruction::Instruction;
use solana_instruction_error::InstructionError;
use solana_keypair::Keypair;
use solana_program_test::{processor, BanksClient, BanksClientError, ProgramTest};
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

pub const INGEST_URL: &str = "rtmps://live.cloudflare.com:443/live/";
pub const SOL: u64 = 1_000_000_000;

/// Anchor ties every account lifetime to `'info`; the bank's processor hands out shorter ones.
/// The slice outlives the call, so widening the lifetime for the call is sound.
fn process(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    roomcast::entry(program_id, accounts, data)
}

pub struct Env {
    pub banks: BanksClient,
    pub payer: Keypair,
    pub admin: Keypair,
    pub registrar: Keypair,
    pub host: Keypair,
    pub stranger: Keypair,
    pub registry: Pubkey,
}

impl Env {
    /// A bank with the program, four funded keys, and the admin's registry naming the registrar.
    pub async fn new() -> Env {
        Self::with_accounts(Vec::new()).await
    }

    /// [`Env::new`] with `extra` accounts in the genesis (e.g. token mints).
    pub async fn with_accounts(extra: Vec<(Pubkey, solana_account::Account)>) -> Env {
        let mut test = ProgramTest::new("roomcast", roomcast::ID, processor!(process));
        for (address, account) in extra {
            test.add_account(address, account);
        }
        test.prefer_bpf(false);
        let (admin, registrar, host, stranger) = (
            Keypair::new(),
            Keypair::new(),
            Keypair::new(),
            Keypair::new(),
        );
        for k in [&admin, &registrar, &host, &stranger] {
            test.add_account(
                k.pubkey(),
                solana_account::Account {
                    lamports: 10 * SOL,
                    ..Default::default()
                },
            );
        }
        let (banks, payer, _) = test.start().await;
        let mut env = Env {
            banks,
            payer,
            registry: registry_address(&admin.pubkey()),
            admin,
            registrar,
            host,
            stranger,
        };
        let ix = initialize_registry_ix(&env.admin.pubkey(), &env.registrar.pubkey());
        let admin = env.admin.insecure_clone();
        env.send(&[ix], &admin).await.expect("registry initialized");
        env
    }

    /// Sends `ixs` signed (and paid) by `signer`, on a fresh blockhash.
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signer: &Keypair,
    ) -> Result<(), TransactionError> {
        let blockhash = self.banks.get_latest_blockhash().await.unwrap();
        let tx =
            Transaction::new_signed_with_payer(ixs, Some(&signer.pubkey()), &[signer], blockhash);
        match self.banks.process_transaction(tx).await {
            Ok(()) => Ok(()),
            Err(BanksClientError::TransactionError(e)) => Err(e),
            Err(BanksClientError::SimulationError { err, .. }) => Err(err),
            Err(other) => panic!("transport: {other:?}"),
        }
    }

    pub async fn create_room(&mut self, session_id: &str, title: &str) -> Pubkey {
        let ix = create_room_ix(
            &self.registrar.pubkey(),
            &self.registry,
            session_id,
            INGEST_URL,
            title,
            &self.host.pubkey(),
        );
        let registrar = self.registrar.insecure_clone();
        self.send(&[ix], &registrar).await.expect("room created");
        room_address(&self.registry, session_id)
    }

    pub async fn room(&mut self, address: &Pubkey) -> Option<roomcast::state::Room> {
        let account = self.banks.get_account(*address).await.unwrap()?;
        Some(roomcast::state::Room::try_deserialize(&mut account.data.as_slice()).unwrap())
    }

    pub async fn registry_account(&mut self) -> roomcast::state::Registry {
        let account = self
            .banks
            .get_account(self.registry)
            .await
            .unwrap()
            .unwrap();
        roomcast::state::Registry::try_deserialize(&mut account.data.as_slice()).unwrap()
    }

    pub async fn lamports(&mut self, address: &Pubkey) -> u64 {
        self.banks.get_balance(*address).await.unwrap()
    }

    pub async fn now(&mut self) -> i64 {
        let clock: anchor_lang::prelude::Clock = self.banks.get_sysvar().await.unwrap();
        clock.unix_timestamp
    }
}

/// The custom error of instruction 0, as the bank reports it.
pub fn custom(result: Result<(), TransactionError>) -> u32 {
    match result {
        Err(TransactionError::InstructionError(0, InstructionError::Custom(code))) => code,
        other => panic!("expected a custom program error, got {other:?}"),
    }
}

pub fn roomcast_code(e: roomcast::RoomcastError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + e as u32
}

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

pub fn system_program() -> Pubkey {
    Pubkey::default()
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

pub fn session_id(n: u64) -> String {
    format!(
        "{:032x}",
        0xabc0_0000_0000_0000_0000_0000_0000_0000u128 + n as u128
    )
}

pub fn initialize_registry_ix(admin: &Pubkey, registrar: &Pubkey) -> Instruction {
    ix(
        roomcast::accounts::InitializeRegistry {
            admin: *admin,
            registry: registry_address(admin),
            system_program: system_program(),
        },
        roomcast::instruction::InitializeRegistry {
            registrar: *registrar,
        },
    )
}

pub fn set_registrar_ix(admin: &Pubkey, registry: &Pubkey, new: &Pubkey) -> Instruction {
    ix(
        roomcast::accounts::SetRegistrar {
            admin: *admin,
            registry: *registry,
        },
        roomcast::instruction::SetRegistrar {
            new_registrar: *new,
        },
    )
}

pub fn create_room_ix(
    registrar: &Pubkey,
    registry: &Pubkey,
    session_id: &str,
    ingest_url: &str,
    title: &str,
    host: &Pubkey,
) -> Instruction {
    ix(
        roomcast::accounts::CreateRoom {
            registrar: *registrar,
            registry: *registry,
            room: room_address(registry, session_id),
            system_program: system_program(),
        },
        roomcast::instruction::CreateRoom {
            session_id: session_id.into(),
            ingest_url: ingest_url.into(),
            title: title.into(),
            host: *host,
        },
    )
}

/// `update_room`; `payer` must be the room's recorded payer (it receives a shrink's refund).
pub fn update_room_ix(
    authority: &Pubkey,
    registry: &Pubkey,
    room: &Pubkey,
    payer: &Pubkey,
    title: &str,
) -> Instruction {
    ix(
        roomcast::accounts::UpdateRoom {
            authority: *authority,
            registry: *registry,
            room: *room,
            payer: *payer,
            system_program: Pubkey::default(),
        },
        roomcast::instruction::UpdateRoom {
            title: title.into(),
        },
    )
}

pub fn set_live_ix(registrar: &Pubkey, registry: &Pubkey, room: &Pubkey) -> Instruction {
    ix(
        roomcast::accounts::SetLive {
            registrar: *registrar,
            registry: *registry,
            room: *room,
        },
        roomcast::instruction::SetLive {},
    )
}

pub fn end_room_ix(authority: &Pubkey, registry: &Pubkey, room: &Pubkey) -> Instruction {
    ix(
        roomcast::accounts::EndRoom {
            authority: *authority,
            registry: *registry,
            room: *room,
        },
        roomcast::instruction::EndRoom {},
    )
}

pub fn close_room_ix(
    authority: &Pubkey,
    registry: &Pubkey,
    room: &Pubkey,
    payer: &Pubkey,
) -> Instruction {
    ix(
        roomcast::accounts::CloseRoom {
            authority: *authority,
            registry: *registry,
            room: *room,
            payer: *payer,
        },
        roomcast::instruction::CloseRoom {},
    )
}
