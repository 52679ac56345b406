//! Token gates (`set_gate`, `update_gate`, `remove_gate`): a separate PDA `["gate", room]` created
//! only for gated rooms, host or registrar only, mints of SPL Token or Token-2022 only (created here
//! by the real token programs LiteSVM loads), rent paid by the signer and returned on removal.
mod common;

use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use common::*;
use roomcast::state::Gate;
use roomcast::{RoomcastError, SPL_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID};
use solana_account::Account;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// A gate's account size: discriminator + room, mint, token program, decimals, min amount, payer,
/// updated_at, bump.
const GATE_LEN: usize = 8 + 32 + 32 + 32 + 1 + 8 + 32 + 8 + 1;
/// A base SPL mint's size.
const MINT_LEN: usize = 82;

fn kp(k: &Keypair) -> Keypair {
    k.insecure_clone()
}

fn gate_address(room: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[roomcast::GATE_SEED, room.as_ref()], &roomcast::ID).0
}

fn set_gate_ix(
    env: &Env,
    authority: &Pubkey,
    room: &Pubkey,
    mint: &Pubkey,
    min: u64,
) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::SetGate {
            authority: *authority,
            registry: env.registry,
            room: *room,
            mint: *mint,
            gate: gate_address(room),
            system_program: system_program(),
        }
        .to_account_metas(None),
        data: roomcast::instruction::SetGate { min_amount: min }.data(),
    }
}

fn update_gate_ix(
    env: &Env,
    authority: &Pubkey,
    room: &Pubkey,
    gate: &Pubkey,
    mint: &Pubkey,
    min: u64,
) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::UpdateGate {
            authority: *authority,
            registry: env.registry,
            room: *room,
            mint: *mint,
            gate: *gate,
        }
        .to_account_metas(None),
        data: roomcast::instruction::UpdateGate { min_amount: min }.data(),
    }
}

fn remove_gate_ix(env: &Env, authority: &Pubkey, room: &Pubkey, payer: &Pubkey) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::RemoveGate {
            authority: *authority,
            registry: env.registry,
            room: *room,
            gate: gate_address(room),
            payer: *payer,
        }
        .to_account_metas(None),
        data: roomcast::instruction::RemoveGate {}.data(),
    }
}

/// Creates an initialized mint of `token_program` with the real program (`InitializeMint2`).
fn create_mint(env: &mut Env, token_program: Pubkey, decimals: u8) -> Pubkey {
    let mint = Keypair::new();
    let payer = kp(&env.stranger);
    let lamports = env.svm.minimum_balance_for_rent_exemption(MINT_LEN);
    let create = solana_system_interface::instruction::create_account(
        &payer.pubkey(),
        &mint.pubkey(),
        lamports,
        MINT_LEN as u64,
        &token_program,
    );
    // InitializeMint2: tag 20, decimals, mint authority, no freeze authority.
    let mut data = vec![20, decimals];
    data.extend_from_slice(payer.pubkey().as_ref());
    data.push(0);
    let init = Instruction {
        program_id: token_program,
        accounts: vec![AccountMeta::new(mint.pubkey(), false)],
        data,
    };
    env.send(&[create, init], &[&payer, &mint])
        .expect("create mint");
    mint.pubkey()
}

fn gate(env: &Env, address: &Pubkey) -> Option<Gate> {
    let account = env.account(address)?;
    Some(Gate::try_deserialize(&mut account.data.as_slice()).expect("gate decodes"))
}

#[test]
fn the_host_gates_a_room_and_pays_the_gates_rent() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(1), "Holders only");
    let room_len = env.account(&room).unwrap().data.len();
    let mint = create_mint(&mut env, SPL_TOKEN_PROGRAM_ID, 6);
    let host = kp(&env.host);
    let before = env.lamports(&host.pubkey());
    let meta = env
        .send_one(
            set_gate_ix(&env, &host.pubkey(), &room, &mint, 5_000_000),
            &host,
        )
        .expect("set_gate");
    let address = gate_address(&room);
    let rent = env.svm.minimum_balance_for_rent_exemption(GATE_LEN);
    assert_eq!(rent, 1_962_720);
    assert_eq!(env.lamports(&address), rent);
    assert_eq!(env.account(&address).unwrap().data.len(), GATE_LEN);
    assert_eq!(
        env.lamports(&host.pubkey()),
        before - rent - LAMPORTS_PER_SIGNATURE
    );
    let bump = Pubkey::find_program_address(&[roomcast::GATE_SEED, room.as_ref()], &roomcast::ID).1;
    assert_eq!(
        gate(&env, &address),
        Some(Gate {
            room,
            mint,
            token_program: SPL_TOKEN_PROGRAM_ID,
            decimals: 6,
            min_amount: 5_000_000,
            payer: host.pubkey(),
            updated_at: T0,
            bump,
        })
    );
    let event: roomcast::GateSet = single_event(&meta);
    assert_eq!(event.room, room);
    assert_eq!(event.gate, address);
    assert_eq!(event.mint, mint);
    assert_eq!(event.token_program, SPL_TOKEN_PROGRAM_ID);
    assert_eq!(event.decimals, 6);
    assert_eq!(event.min_amount, 5_000_000);
    assert_eq!(event.set_by, host.pubkey());
    assert_eq!(event.set_at, T0);
    // The room itself is untouched: an ungated room and a gated one have the same size.
    assert_eq!(env.account(&room).unwrap().data.len(), room_len);
}

#[test]
fn the_registrar_gates_a_room_in_its_create_transaction_with_a_token_2022_mint() {
    let mut env = Env::new();
    let mint = create_mint(&mut env, TOKEN_2022_PROGRAM_ID, 0);
    let sid = session_id(2);
    let room = env.room_addr(&sid);
    let registrar = kp(&env.registrar);
    let create = env.create_room_ix(
        &registrar.pubkey(),
        &env.registry,
        &sid,
        INGEST_URL,
        "Gated from the start",
        &env.host.pubkey(),
    );
    let set = set_gate_ix(&env, &registrar.pubkey(), &room, &mint, 1);
    env.send(&[create, set], &[&registrar])
        .expect("create + gate");
    let stored = gate(&env, &gate_address(&room)).expect("gate exists");
    assert_eq!(stored.mint, mint);
    assert_eq!(stored.token_program, TOKEN_2022_PROGRAM_ID);
    assert_eq!((stored.decimals, stored.min_amount), (0, 1));
    assert_eq!(stored.payer, registrar.pubkey());
}

#[test]
fn update_changes_mint_and_amount_and_remove_returns_the_rent() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(3), "Changing");
    let first = create_mint(&mut env, SPL_TOKEN_PROGRAM_ID, 6);
    let second = create_mint(&mut env, TOKEN_2022_PROGRAM_ID, 9);
    let host = kp(&env.host);
    env.send_one(set_gate_ix(&env, &host.pubkey(), &room, &first, 10), &host)
        .expect("set_gate");
    let address = gate_address(&room);
    env.set_now(T0 + 60);
    let registrar = kp(&env.registrar);
    let meta = env
        .send_one(
            update_gate_ix(&env, &registrar.pubkey(), &room, &address, &second, 7),
            &registrar,
        )
        .expect("update_gate");
    let stored = gate(&env, &address).unwrap();
    assert_eq!(
        (
            stored.mint,
            stored.token_program,
            stored.decimals,
            stored.min_amount,
            stored.updated_at
        ),
        (second, TOKEN_2022_PROGRAM_ID, 9, 7, T0 + 60)
    );
    assert_eq!(stored.payer, host.pubkey(), "the payer stays who paid");
    let event: roomcast::GateSet = single_event(&meta);
    assert_eq!(
        (event.mint, event.min_amount, event.set_by),
        (second, 7, registrar.pubkey())
    );

    // Removing it (after the room ended, too) gives the rent back to the host who paid it.
    let end = env.end_room_ix(&registrar.pubkey(), &room);
    env.send_one(end, &registrar).expect("end_room");
    let rent = env.lamports(&address);
    let before = env.lamports(&host.pubkey());
    let meta = env
        .send_one(
            remove_gate_ix(&env, &registrar.pubkey(), &room, &host.pubkey()),
            &registrar,
        )
        .expect("remove_gate");
    assert_eq!(env.account(&address), None);
    assert_eq!(env.lamports(&host.pubkey()), before + rent);
    let event: roomcast::GateRemoved = single_event(&meta);
    assert_eq!(
        (event.room, event.gate, event.removed_by, event.rent_to),
        (room, address, registrar.pubkey(), host.pubkey())
    );
}

/// Sends `ix` signed by `signer`, asserts `expected` and that the room, gate and signer (but its
/// fee) are unchanged.
fn refused(
    env: &mut Env,
    ix: Instruction,
    signer: &Keypair,
    room: &Pubkey,
    expected: RoomcastError,
) {
    let watched = [*room, gate_address(room), signer.pubkey()];
    let before = env.snapshot(&watched);
    let result = env.send_one(ix, signer);
    assert_roomcast_error(&result, expected);
    env.assert_unchanged(&before, &result, &signer.pubkey(), 1);
}

#[test]
fn a_stranger_cannot_set_change_or_remove_a_gate() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(4), "Mine");
    let mint = create_mint(&mut env, SPL_TOKEN_PROGRAM_ID, 2);
    let stranger = kp(&env.stranger);
    let ix = set_gate_ix(&env, &stranger.pubkey(), &room, &mint, 1);
    refused(
        &mut env,
        ix,
        &stranger,
        &room,
        RoomcastError::NotHostOrRegistrar,
    );
    assert_eq!(env.account(&gate_address(&room)), None);

    let host = kp(&env.host);
    env.send_one(set_gate_ix(&env, &host.pubkey(), &room, &mint, 100), &host)
        .expect("set_gate");
    let address = gate_address(&room);
    let ix = update_gate_ix(&env, &stranger.pubkey(), &room, &address, &mint, 1);
    refused(
        &mut env,
        ix,
        &stranger,
        &room,
        RoomcastError::NotHostOrRegistrar,
    );
    let ix = remove_gate_ix(&env, &stranger.pubkey(), &room, &host.pubkey());
    refused(
        &mut env,
        ix,
        &stranger,
        &room,
        RoomcastError::NotHostOrRegistrar,
    );
    assert_eq!(gate(&env, &address).unwrap().min_amount, 100);
    // Nor can the rent of a removal be sent to someone else.
    let ix = remove_gate_ix(&env, &host.pubkey(), &room, &stranger.pubkey());
    refused(&mut env, ix, &host, &room, RoomcastError::PayerMismatch);
}

#[test]
fn only_initialized_token_mints_and_positive_amounts_are_accepted() {
    let mut env = Env::new();
    let room = env.created_room(&session_id(5), "Strict");
    let host = kp(&env.host);
    let mint = create_mint(&mut env, SPL_TOKEN_PROGRAM_ID, 6);
    let ix = set_gate_ix(&env, &host.pubkey(), &room, &mint, 0);
    refused(&mut env, ix, &host, &room, RoomcastError::GateAmountZero);

    // A wallet (system account), an uninitialized mint, a token account, a foreign program's account.
    let wallet = env.stranger.pubkey();
    let uninitialized = Pubkey::new_unique();
    env.svm
        .set_account(
            uninitialized,
            account(SPL_TOKEN_PROGRAM_ID, vec![0; MINT_LEN]),
        )
        .unwrap();
    let token_account = Pubkey::new_unique();
    let mut data = vec![0; 165];
    data[..32].copy_from_slice(mint.as_ref());
    data[108] = 1; // initialized
    env.svm
        .set_account(token_account, account(SPL_TOKEN_PROGRAM_ID, data))
        .unwrap();
    let foreign = Pubkey::new_unique();
    let mut data = vec![0; MINT_LEN];
    data[45] = 1;
    env.svm
        .set_account(foreign, account(roomcast::ID, data))
        .unwrap();
    for bad in [wallet, uninitialized, token_account, foreign] {
        let ix = set_gate_ix(&env, &host.pubkey(), &room, &bad, 1);
        refused(&mut env, ix, &host, &room, RoomcastError::NotATokenMint);
    }
    // The same checks on update.
    env.send_one(set_gate_ix(&env, &host.pubkey(), &room, &mint, 1), &host)
        .expect("set_gate");
    let address = gate_address(&room);
    let ix = update_gate_ix(&env, &host.pubkey(), &room, &address, &token_account, 1);
    refused(&mut env, ix, &host, &room, RoomcastError::NotATokenMint);
    let ix = update_gate_ix(&env, &host.pubkey(), &room, &address, &mint, 0);
    refused(&mut env, ix, &host, &room, RoomcastError::GateAmountZero);
}

fn account(owner: Pubkey, data: Vec<u8>) -> Account {
    Account {
        lamports: 10_000_000,
        data,
        owner,
        executable: false,
        rent_epoch: 0,
    }
}

#[test]
fn an_ended_room_cannot_be_gated_and_a_gate_twice_is_refused() {
    let mut env = Env::new();
    let mint = create_mint(&mut env, SPL_TOKEN_PROGRAM_ID, 6);
    let ended = env.ended_room(&session_id(6));
    let host = kp(&env.host);
    let ix = set_gate_ix(&env, &host.pubkey(), &ended, &mint, 1);
    refused(&mut env, ix, &host, &ended, RoomcastError::RoomEnded);

    let room = env.created_room(&session_id(7), "Once");
    env.send_one(set_gate_ix(&env, &host.pubkey(), &room, &mint, 1), &host)
        .expect("set_gate");
    let again = env.send_one(set_gate_ix(&env, &host.pubkey(), &room, &mint, 2), &host);
    assert_instruction_error(
        &again,
        solana_instruction::error::InstructionError::Custom(SYSTEM_ERROR_ACCOUNT_ALREADY_IN_USE),
    );
    // Ending the room freezes the gate: no update after the end.
    let registrar = kp(&env.registrar);
    let end = env.end_room_ix(&registrar.pubkey(), &room);
    env.send_one(end, &registrar).expect("end_room");
    let ix = update_gate_ix(&env, &host.pubkey(), &room, &gate_address(&room), &mint, 5);
    refused(&mut env, ix, &host, &room, RoomcastError::RoomEnded);
}

#[test]
fn another_rooms_gate_is_refused() {
    let mut env = Env::new();
    let mint = create_mint(&mut env, SPL_TOKEN_PROGRAM_ID, 6);
    let host = kp(&env.host);
    let a = env.created_room(&session_id(8), "A");
    let b = env.created_room(&session_id(9), "B");
    env.send_one(set_gate_ix(&env, &host.pubkey(), &a, &mint, 1), &host)
        .expect("set_gate");
    // B's update naming A's gate: the gate's seeds are its room's, so it is refused.
    let ix = update_gate_ix(&env, &host.pubkey(), &b, &gate_address(&a), &mint, 9);
    let before = env.snapshot(&[gate_address(&a)]);
    let result = env.send_one(ix, &host);
    assert_anchor_error(&result, anchor_lang::error::ErrorCode::ConstraintSeeds);
    env.assert_unchanged(&before, &result, &host.pubkey(), 1);
}
