//! Token gates on the bank: the same authority matrix and errors as the LiteSVM suite (host or
//! registrar set, change and remove; strangers refused; only token mints; amount ≥ 1; nothing after
//! the room ended but removal), with mint accounts placed in the genesis (owned by SPL Token and
//! Token-2022, laid out as the programs write them).
mod common;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use common::*;
use roomcast::state::Gate;
use roomcast::{RoomcastError, SPL_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID};
use solana_instruction::Instruction;
use solana_signer::Signer;

/// An initialized 82-byte mint with `decimals`, no authorities.
fn mint_account(owner: Pubkey, decimals: u8) -> solana_account::Account {
    let mut data = vec![0u8; 82];
    data[44] = decimals;
    data[45] = 1;
    solana_account::Account {
        lamports: 1_461_600,
        data,
        owner,
        executable: false,
        rent_epoch: 0,
    }
}

fn gate_address(room: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[roomcast::GATE_SEED, room.as_ref()], &roomcast::ID).0
}

fn set_ix(
    authority: &Pubkey,
    registry: &Pubkey,
    room: &Pubkey,
    mint: &Pubkey,
    min: u64,
) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::SetGate {
            authority: *authority,
            registry: *registry,
            room: *room,
            mint: *mint,
            gate: gate_address(room),
            system_program: system_program(),
        }
        .to_account_metas(None),
        data: roomcast::instruction::SetGate { min_amount: min }.data(),
    }
}

fn update_ix(
    authority: &Pubkey,
    registry: &Pubkey,
    room: &Pubkey,
    mint: &Pubkey,
    min: u64,
) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::UpdateGate {
            authority: *authority,
            registry: *registry,
            room: *room,
            mint: *mint,
            gate: gate_address(room),
        }
        .to_account_metas(None),
        data: roomcast::instruction::UpdateGate { min_amount: min }.data(),
    }
}

fn remove_ix(authority: &Pubkey, registry: &Pubkey, room: &Pubkey, payer: &Pubkey) -> Instruction {
    Instruction {
        program_id: roomcast::ID,
        accounts: roomcast::accounts::RemoveGate {
            authority: *authority,
            registry: *registry,
            room: *room,
            gate: gate_address(room),
            payer: *payer,
        }
        .to_account_metas(None),
        data: roomcast::instruction::RemoveGate {}.data(),
    }
}

async fn gate(env: &mut Env, room: &Pubkey) -> Option<Gate> {
    let account = env.banks.get_account(gate_address(room)).await.unwrap()?;
    Some(Gate::try_deserialize(&mut account.data.as_slice()).unwrap())
}

#[tokio::test]
async fn who_may_gate_a_room_and_with_what() {
    let spl = Pubkey::new_unique();
    let t22 = Pubkey::new_unique();
    let mut env = Env::with_accounts(vec![
        (spl, mint_account(SPL_TOKEN_PROGRAM_ID, 6)),
        (t22, mint_account(TOKEN_2022_PROGRAM_ID, 0)),
    ])
    .await;
    let reg = env.registry;
    let (registrar, host, stranger) = (
        env.registrar.insecure_clone(),
        env.host.insecure_clone(),
        env.stranger.insecure_clone(),
    );
    let room = env.create_room(&session_id(21), "Holders").await;

    // set: not a stranger; only token mints; at least 1.
    let code = custom(
        env.send(
            &[set_ix(&stranger.pubkey(), &reg, &room, &spl, 1)],
            &stranger,
        )
        .await,
    );
    assert_eq!(code, roomcast_code(RoomcastError::NotHostOrRegistrar));
    let code = custom(
        env.send(
            &[set_ix(&host.pubkey(), &reg, &room, &stranger.pubkey(), 1)],
            &host,
        )
        .await,
    );
    assert_eq!(code, roomcast_code(RoomcastError::NotATokenMint));
    let code = custom(
        env.send(&[set_ix(&host.pubkey(), &reg, &room, &spl, 0)], &host)
            .await,
    );
    assert_eq!(code, roomcast_code(RoomcastError::GateAmountZero));
    assert_eq!(gate(&mut env, &room).await, None);

    env.send(&[set_ix(&host.pubkey(), &reg, &room, &spl, 5)], &host)
        .await
        .expect("host sets");
    let stored = gate(&mut env, &room).await.unwrap();
    assert_eq!(
        (
            stored.room,
            stored.mint,
            stored.token_program,
            stored.decimals,
            stored.min_amount,
            stored.payer
        ),
        (room, spl, SPL_TOKEN_PROGRAM_ID, 6, 5, host.pubkey())
    );
    assert_eq!(env.lamports(&gate_address(&room)).await, 1_962_720);

    // update: host or registrar, not a stranger.
    let code = custom(
        env.send(
            &[update_ix(&stranger.pubkey(), &reg, &room, &t22, 1)],
            &stranger,
        )
        .await,
    );
    assert_eq!(code, roomcast_code(RoomcastError::NotHostOrRegistrar));
    env.send(
        &[update_ix(&registrar.pubkey(), &reg, &room, &t22, 3)],
        &registrar,
    )
    .await
    .expect("registrar updates");
    let stored = gate(&mut env, &room).await.unwrap();
    assert_eq!(
        (
            stored.mint,
            stored.token_program,
            stored.decimals,
            stored.min_amount
        ),
        (t22, TOKEN_2022_PROGRAM_ID, 0, 3)
    );

    // After the end: no update; removal returns the rent to the host who paid it.
    env.send(&[end_room_ix(&registrar.pubkey(), &reg, &room)], &registrar)
        .await
        .expect("ended");
    let code = custom(
        env.send(&[update_ix(&host.pubkey(), &reg, &room, &spl, 9)], &host)
            .await,
    );
    assert_eq!(code, roomcast_code(RoomcastError::RoomEnded));
    let code = custom(
        env.send(
            &[remove_ix(&stranger.pubkey(), &reg, &room, &host.pubkey())],
            &stranger,
        )
        .await,
    );
    assert_eq!(code, roomcast_code(RoomcastError::NotHostOrRegistrar));
    let before = env.lamports(&host.pubkey()).await;
    env.send(
        &[remove_ix(&registrar.pubkey(), &reg, &room, &host.pubkey())],
        &registrar,
    )
    .await
    .expect("removed");
    assert_eq!(gate(&mut env, &room).await, None);
    assert_eq!(env.lamports(&host.pubkey()).await, before + 1_962_720);
}
