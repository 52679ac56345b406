//! Random instruction sequences against a model: after every step the on-chain room equals the
//! model's, each refusal carries the model's error, and the status never moves backwards.
mod common;

use anchor_lang::error::ErrorCode;
use common::*;
use std::cell::{Cell, RefCell};

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use roomcast::state::{Room, RoomStatus};
use roomcast::RoomcastError;
use solana_signer::Signer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Host,
    Registrar,
    Stranger,
}

#[derive(Clone, Debug)]
enum Op {
    Update(Who, String),
    SetLive(Who),
    End(Who),
    Close(Who),
}

/// `Ok`, or the custom error code the transaction fails with.
type Expect = Result<(), u32>;

fn roomcast(error: RoomcastError) -> Expect {
    Err(ERROR_CODE_OFFSET + error as u32)
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![Just(Who::Host), Just(Who::Registrar), Just(Who::Stranger)]
}

fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 éü🎥]{1,25}",        // at most 100 bytes: valid
        1 => Just(String::new()),            // empty
        1 => Just("é".repeat(50)),           // exactly 100 bytes
        1 => Just(format!("{}a", "é".repeat(50))), // 101 bytes
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (who(), title()).prop_map(|(w, t)| Op::Update(w, t)),
        who().prop_map(Op::SetLive),
        who().prop_map(Op::End),
        who().prop_map(Op::Close),
    ]
}

fn rank(status: RoomStatus) -> u8 {
    match status {
        RoomStatus::Created => 0,
        RoomStatus::Live => 1,
        RoomStatus::Ended => 2,
    }
}

/// Applies `op` at time `now` to the model (`None` once closed) and returns the expected outcome,
/// in the order the program checks: accounts, then signer, then state, then arguments.
fn step(model: &mut Option<Room>, op: &Op, now: i64) -> Expect {
    let Some(room) = model.as_mut() else {
        return Err(ErrorCode::AccountNotInitialized.into());
    };
    let host_or_registrar = |w: &Who| matches!(w, Who::Host | Who::Registrar);
    match op {
        Op::Update(w, title) => {
            if !host_or_registrar(w) {
                return roomcast(RoomcastError::NotHostOrRegistrar);
            }
            if room.status == RoomStatus::Ended {
                return roomcast(RoomcastError::RoomEnded);
            }
            if title.is_empty() {
                return roomcast(RoomcastError::TitleEmpty);
            }
            if title.len() > 100 {
                return roomcast(RoomcastError::TitleTooLong);
            }
            room.title = title.clone();
            room.updated_at = now;
        }
        Op::SetLive(w) => {
            if *w != Who::Registrar {
                return roomcast(RoomcastError::NotRegistrar);
            }
            match room.status {
                RoomStatus::Ended => return roomcast(RoomcastError::RoomEnded),
                RoomStatus::Live => return roomcast(RoomcastError::NotCreated),
                RoomStatus::Created => {
                    room.status = RoomStatus::Live;
                    room.live_at = Some(now);
                    room.updated_at = now;
                }
            }
        }
        Op::End(w) => {
            if !host_or_registrar(w) {
                return roomcast(RoomcastError::NotHostOrRegistrar);
            }
            if room.status == RoomStatus::Ended {
                return roomcast(RoomcastError::RoomEnded);
            }
            room.status = RoomStatus::Ended;
            room.ended_at = Some(now);
            room.updated_at = now;
        }
        Op::Close(w) => {
            if !host_or_registrar(w) {
                return roomcast(RoomcastError::NotHostOrRegistrar);
            }
            if room.status != RoomStatus::Ended {
                return roomcast(RoomcastError::RoomNotEnded);
            }
            *model = None;
        }
    }
    Ok(())
}

fn outcome(result: &TxResult) -> Expect {
    match result {
        Ok(_) => Ok(()),
        Err(failed) => {
            Err(custom_error(result)
                .unwrap_or_else(|| panic!("not a custom error: {:?}", failed.err)))
        }
    }
}

/// 64 random sequences of up to 12 instructions. One chain serves every case (building a LiteSVM
/// is the slow part); each case gets a fresh room, so cases stay independent.
#[test]
fn the_room_follows_the_model() {
    let env = RefCell::new(Env::new());
    let (host, registrar, stranger) = {
        let env = env.borrow();
        (
            env.host.insecure_clone(),
            env.registrar.insecure_clone(),
            env.stranger.insecure_clone(),
        )
    };
    let cases = Cell::new(0u64);
    let config = ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(op(), 1..=12), |ops| {
        let mut env = env.borrow_mut();
        let case = cases.get() + 1;
        cases.set(case);
        let start = T0 + case as i64 * 100;
        env.set_now(start);
        let address = env.created_room(&session_id(case), "Start");
        let mut model = env.room(&address);
        prop_assert_eq!(model.as_ref().map(|r| r.created_at), Some(start));
        let mut last_rank = 0;

        for (i, op) in ops.iter().enumerate() {
            let now = start + 1 + i as i64;
            env.set_now(now);
            let signer = match op {
                Op::Update(w, _) | Op::SetLive(w) | Op::End(w) | Op::Close(w) => match w {
                    Who::Host => &host,
                    Who::Registrar => &registrar,
                    Who::Stranger => &stranger,
                },
            };
            let ix = match op {
                Op::Update(_, title) => env.update_room_ix(&signer.pubkey(), &address, title),
                Op::SetLive(_) => env.set_live_ix(&signer.pubkey(), &address),
                Op::End(_) => env.end_room_ix(&signer.pubkey(), &address),
                Op::Close(_) => env.close_room_ix(&signer.pubkey(), &address, &registrar.pubkey()),
            };
            let expected = step(&mut model, op, now);
            let parties = [
                host.pubkey(),
                registrar.pubkey(),
                stranger.pubkey(),
                address,
            ];
            let held = |env: &Env| parties.iter().map(|p| env.lamports(p)).sum::<u64>();
            let before = held(&env);
            let result = env.send_one(ix, signer);
            prop_assert_eq!(outcome(&result), expected, "step {} {:?}", i, op);
            // Resizes and closes only move lamports between the parties: the fee is all that leaves.
            let fee = match &result {
                Ok(meta) => meta.fee,
                Err(failed) => failed.meta.fee,
            };
            prop_assert_eq!(held(&env), before - fee, "step {} {:?}", i, op);

            let on_chain = env.account(&address).map(|_| env.room(&address).unwrap());
            prop_assert_eq!(&on_chain, &model, "step {} {:?}", i, op);
            if let Some(room) = &on_chain {
                // Sized to its content after every step, and exactly rent-exempt at that size.
                let account = env.account(&address).unwrap();
                let size = Room::space(room.ingest_url.len(), room.title.len());
                prop_assert_eq!(account.data.len(), size, "step {} {:?}", i, op);
                prop_assert_eq!(
                    account.lamports,
                    env.svm.minimum_balance_for_rent_exemption(size),
                    "step {} {:?}",
                    i,
                    op
                );
                prop_assert!(
                    rank(room.status) >= last_rank,
                    "status moved backwards at step {}",
                    i
                );
                last_rank = rank(room.status);
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert_eq!(
        env.borrow().rooms_created(),
        cases.get(),
        "every case ran on its own room"
    );
}
