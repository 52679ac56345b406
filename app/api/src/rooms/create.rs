//! Create: a live input at Cloudflare, then `create_room` on-chain, in a tracked task that
//! writes down each step (`idempotency`, `flight`, `renewals`) so a resume finishes the same room.
use std::str::FromStr;

use roomcast_chain::{NewGate, NewRoom, Pubkey, Room, RoomStatus};
use roomcast_stream::client::{CreateLiveInput, LiveInput, Recording, StreamError};
use serde_json::json;

use crate::core::error::{AppError, AppResult};
use crate::core::redact::redact_urls_in;
use crate::guard::auth::Principal;
use crate::rooms::flight::{Flight, META_FLIGHT_KEY};
use crate::rooms::idempotency::Journal;
use crate::rooms::responses::*;
use crate::rooms::*;
use crate::state::AppState;
use crate::store::{Progress, SentCreate};

/// The host a create acts for: the signing wallet, or the `host` an operator names.
pub fn create_host(principal: &Principal, requested: Option<&str>) -> AppResult<Pubkey> {
    let requested = requested
        .map(|h| {
            Pubkey::from_str(h).map_err(|_| {
                AppError::bad_request("invalid_host", "host must be a base58 wallet address")
            })
        })
        .transpose()?;
    match (principal, requested) {
        (Principal::Host(wallet), None) => Ok(*wallet),
        (Principal::Host(wallet), Some(host)) if host == *wallet => Ok(host),
        (Principal::Host(_), Some(_)) => Err(AppError::Forbidden(
            "a wallet can only create rooms it hosts".into(),
        )),
        (Principal::Operator, Some(host)) => Ok(host),
        (Principal::Operator, None) => Err(AppError::bad_request(
            "host_required",
            "the operator must name the room's host",
        )),
    }
}

/// Checks a requested gate: a mint that exists on the cluster and belongs to a token program
/// (400 `invalid_gate` otherwise), and a minimum of at least 1.
pub async fn checked_gate(state: &AppState, mint: &str, min_amount: u64) -> AppResult<NewGate> {
    use std::str::FromStr;
    let mint = Pubkey::from_str(mint)
        .map_err(|_| AppError::bad_request("invalid_gate", "gate.mint must be a base58 address"))?;
    if min_amount == 0 {
        return Err(AppError::bad_request(
            "invalid_gate",
            "gate.minAmount must be at least 1 (raw units)",
        ));
    }
    let info = roomcast_chain::token::mint_info(state.chain.rpc(), &mint)
        .await
        .map_err(AppError::from_chain)?;
    if info.is_none() {
        return Err(AppError::bad_request(
            "invalid_gate",
            format!("gate.mint {mint} is not an SPL Token or Token-2022 mint on this cluster"),
        ));
    }
    Ok(NewGate { mint, min_amount })
}

/// Creates the live input, then registers the room on-chain; if registration fails the live input is
/// deleted again, so neither side is left with an orphan.
///
/// With a [`Journal`] (an `Idempotency-Key`), each step is written down before it is taken, and a
/// create whose earlier holder died resumes from there: its live input, if it still exists, gets
/// its room (or the room that already landed answers), so a key never gets a second room.
///
/// Keyed or not, the create is in [`Flight`] from before Cloudflare makes the input until its room
/// exists, so the reconciler never deletes an input this create may still turn into a room.
pub async fn create(
    state: &AppState,
    title: String,
    host: Pubkey,
    gate: Option<NewGate>,
    journal: Option<&Journal>,
) -> AppResult<CreateResponse> {
    let resume = journal.map(Journal::progress).unwrap_or_default();
    if let Some(uid) = &resume.input {
        if let Some((input, flight)) = resumed_input(state, uid, &resume, journal).await? {
            tracing::info!(session_id = %uid, "resuming a create whose earlier holder died");
            let registered = register(
                state,
                title,
                host,
                gate,
                input,
                journal,
                flight.as_ref(),
                Some(resume.sent),
            );
            return in_flight(flight.as_ref(), registered).await;
        }
    }
    let flight = Flight::begin(state.idempotency.clone()).await?;
    let created = async {
        let input = state
            .stream
            .create_live_input(&CreateLiveInput {
                meta: Some(json!({
                    "name": title,
                    META_TAG_KEY: META_TAG_VALUE,
                    "registry": state.registry.to_string(),
                    "host": host.to_string(),
                    META_FLIGHT_KEY: flight.id(),
                })),
                // A gated room's video plays only through tokens this server signs.
                recording: Some(Recording {
                    require_signed_urls: gate.is_some().then_some(true),
                    ..Recording::automatic()
                }),
                delete_recording_after_days: Some(state.settings.delete_recording_after_days),
                default_creator: Some(host.to_string()),
                enabled: Some(true),
            })
            .await
            .map_err(AppError::from_stream)?;
        if let Some(journal) = journal {
            // Not written down: the input is left to the reconciler (a tagged input without a room).
            journal
                .record(Progress {
                    input: Some(input.uid.clone()),
                    sent: None,
                    flight: Some(flight.id().to_string()),
                })
                .await?;
        }
        register(
            state,
            title,
            host,
            gate,
            input,
            journal,
            Some(&flight),
            None,
        )
        .await
    };
    in_flight(Some(&flight), created).await
}

/// Runs `step` with `flight`'s lease renewed, then ends the hold: dropped once the room exists,
/// otherwise left to protect only what may still land.
async fn in_flight<T>(
    flight: Option<&Flight>,
    step: impl std::future::Future<Output = AppResult<T>>,
) -> AppResult<T> {
    let Some(flight) = flight else {
        return step.await;
    };
    let renewals = flight.renewals();
    let outcome = step.await;
    renewals.stop().await;
    flight.settle(outcome.is_ok()).await;
    outcome
}

/// The live input an earlier holder of the key made, if it still exists, with that holder's
/// flight taken over (before looking, so the reconciler cannot delete it from under the resume);
/// `None` (start afresh) once it is gone or doomed and the holder's `create_room`, if sent, can no
/// longer land.
async fn resumed_input(
    state: &AppState,
    uid: &str,
    resume: &Progress,
    journal: Option<&Journal>,
) -> AppResult<Option<(LiveInput, Option<Flight>)>> {
    let flight = match &resume.flight {
        // Progress written before creates were in flight.
        None => None,
        Some(id) => match Flight::resume(state.idempotency.clone(), id.clone()).await? {
            Some(flight) => Some(flight),
            None => {
                tracing::info!(session_id = %uid, "the earlier holder's live input was taken for an orphan; starting afresh");
                start_afresh(state, uid, resume, journal).await?;
                return Ok(None);
            }
        },
    };
    let found = state.stream.get_live_input(uid).await;
    if found.is_err() {
        if let Some(flight) = &flight {
            flight.settle(false).await;
        }
    }
    match found {
        Ok(input) => Ok(Some((input, flight))),
        Err(StreamError::NotFound { .. }) => {
            start_afresh(state, uid, resume, journal).await?;
            Ok(None)
        }
        Err(e) => Err(AppError::from_stream(e)),
    }
}

/// The earlier holder's input is gone: once its `create_room`, if sent, can no longer land, the
/// key's progress is wiped and the create starts over.
async fn start_afresh(
    state: &AppState,
    uid: &str,
    resume: &Progress,
    journal: Option<&Journal>,
) -> AppResult<()> {
    if let Some(sent) = &resume.sent {
        wait_until_expired(state, sent.last_valid_block_height).await?;
        let address = state.chain.room_address(&state.registry, uid);
        if let Ok(Some(_)) = state.chain.room(&address).await {
            // Its input is gone: the reconciler ends such a room (confirmed-gone input).
            tracing::warn!(room = %address, "the earlier holder's room has no live input any more; starting afresh");
        }
    }
    if let Some(journal) = journal {
        journal.record(Progress::default()).await?;
    }
    Ok(())
}

/// Longest wait for a transaction's blockhash to expire (150 blocks are about a minute).
const EXPIRY_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Waits until no transaction whose blockhash is valid up to `last_valid_block_height` can land.
async fn wait_until_expired(state: &AppState, last_valid_block_height: u64) -> AppResult<()> {
    let deadline = tokio::time::Instant::now() + EXPIRY_WAIT;
    loop {
        match state.chain.block_height().await {
            Ok(height) if height > last_valid_block_height => return Ok(()),
            Ok(_) | Err(_) if tokio::time::Instant::now() > deadline => {
                return Err(AppError::Unavailable {
                    code: "chain_unavailable",
                    message: "the Solana RPC node is unavailable; try again".into(),
                })
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
        }
    }
}

/// Registers the room of `input` on-chain and builds the answer. `resumed`: the input is an
/// earlier holder's (with its `create_room`, if that was sent): its room may already exist, and it
/// is never deleted here, since that earlier transaction may still land.
#[allow(clippy::too_many_arguments)]
async fn register(
    state: &AppState,
    title: String,
    host: Pubkey,
    gate: Option<NewGate>,
    input: LiveInput,
    journal: Option<&Journal>,
    flight: Option<&Flight>,
    resumed: Option<Option<SentCreate>>,
) -> AppResult<CreateResponse> {
    let (resumed, sent) = match resumed {
        Some(sent) => (true, sent),
        None => (false, None),
    };
    let ingest = match ingest_details(&input) {
        Ok(ingest) => ingest,
        Err(err) => {
            if !resumed {
                delete_input_of_failed_create(state, &input.uid, journal).await;
            }
            return Err(err);
        }
    };
    let address = state.chain.room_address(&state.registry, &input.uid);
    let earlier_signature = sent.as_ref().map(|s| s.signature.clone());
    let landed = if resumed {
        state
            .chain
            .room(&address)
            .await
            .map_err(AppError::from_chain)?
            .is_some()
    } else {
        false
    };
    let signature = if landed {
        earlier_signature
    } else {
        let new_room = NewRoom {
            session_id: input.uid.clone(),
            ingest_url: ingest.rtmps.url.clone(),
            title: title.clone(),
            host,
        };
        send_create_room(
            state,
            new_room,
            gate,
            &address,
            journal,
            flight,
            resumed,
            earlier_signature,
        )
        .await?
    };
    state.rooms.invalidate(&address).await;
    if gate.is_some() {
        state.gates.invalidate().await;
    }
    // The room is registered: from here on the create has succeeded and must answer as such, even
    // if reading it back fails (a retry with the same Idempotency-Key must not make a second room).
    let room = match load_room(state, &address, true).await {
        Ok(room) => room,
        Err(e) => {
            tracing::warn!(room = %address, error = %e, "room created but not readable yet; answering from what was sent");
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            Room {
                registry: state.registry,
                host,
                payer: state.chain.signer_pubkey(),
                status: RoomStatus::Created,
                bump: 0,
                created_at: now,
                updated_at: now,
                live_at: None,
                ended_at: None,
                session_id: input.uid.clone(),
                ingest_url: ingest.rtmps.url.clone(),
                title,
            }
        }
    };
    tracing::info!(room = %address, session_id = %room.session_id, host = %host, "room created");
    Ok(CreateResponse {
        session_id_legacy: room.session_id.clone(),
        ingest_url_legacy: ingest.rtmps.url.clone(),
        stream_key: ingest.rtmps.stream_key.clone(),
        playback: state.stream.playback_urls(&room.session_id),
        fields: RoomFields::new(&address, &room),
        ingest,
        signature,
        notice: state.settings.ingest_notice.clone(),
    })
}
/// Signs `create_room`, writes it down, sends it. The room's signature once it exists (`None` when
/// the answer was lost, or an earlier holder's transaction landed without a recorded signature).
#[allow(clippy::too_many_arguments)]
async fn send_create_room(
    state: &AppState,
    new_room: NewRoom,
    gate: Option<NewGate>,
    address: &Pubkey,
    journal: Option<&Journal>,
    flight: Option<&Flight>,
    resumed: bool,
    earlier_signature: Option<String>,
) -> AppResult<Option<String>> {
    let uid = new_room.session_id.clone();
    let signed = match state
        .chain
        .sign_create_gated_room(state.registry, new_room, gate)
        .await
    {
        Ok((_, signed)) => signed,
        Err(err) => {
            if !resumed {
                delete_input_of_failed_create(state, &uid, journal).await;
            }
            return Err(AppError::from_chain(err));
        }
    };
    if let Some(flight) = flight {
        // Refused once the reconciler took the input for an orphan: it is being deleted.
        flight.sending(signed.last_valid_block_height).await?;
    }
    if let Some(journal) = journal {
        journal
            .record(Progress {
                input: Some(uid.clone()),
                sent: Some(SentCreate {
                    signature: signed.signature.to_string(),
                    last_valid_block_height: signed.last_valid_block_height,
                }),
                flight: flight.map(|f| f.id().to_string()),
            })
            .await?;
    }
    match state.chain.send_signed(&signed).await {
        Ok(signature) => Ok(Some(signature.to_string())),
        // The room's address is the session id's: an earlier holder's transaction landed first.
        Err(err) if err.program_error_name() == Some("AccountAlreadyInUse") => {
            tracing::info!(room = %address, "an earlier create_room for this live input landed first");
            Ok(earlier_signature)
        }
        Err(err) if err.outcome_unknown() => {
            // The transaction may have landed: look before deleting anything.
            match state.chain.room(address).await {
                Ok(Some(_)) => {
                    tracing::warn!(room = %address, error = %redact_urls_in(&err.to_string()), "create_room outcome was unknown; the room exists");
                    Ok(None)
                }
                // Not yet — but it may still land, so the input stays: deleting it could leave a
                // room without video. With a key, the retry resumes it; either way its flight keeps
                // the sent transaction's last valid block height (only the lease is released), so
                // the reconciler deletes the input only once no room can appear on it any more.
                Ok(None) => {
                    tracing::warn!(session_id = %uid, error = %redact_urls_in(&err.to_string()), "create_room outcome unknown and no room yet; live input left for the reconciler");
                    Err(AppError::from_chain(err))
                }
                Err(lookup) => {
                    // Cannot tell: leave the tagged input to the reconciler, which deletes it after
                    // the grace period if no room appears, rather than risk a room without video.
                    tracing::error!(session_id = %uid, error = %redact_urls_in(&lookup.to_string()), "create_room outcome unknown; live input left for the reconciler");
                    Err(AppError::from_chain(err))
                }
            }
        }
        Err(err) => {
            if !resumed {
                delete_input_of_failed_create(state, &uid, journal).await;
            }
            Err(AppError::from_chain(err))
        }
    }
}

/// Deletes the live input of a create whose on-chain half certainly failed — with a key, only while
/// this create still holds it (after a takeover the input is its successor's).
async fn delete_input_of_failed_create(state: &AppState, uid: &str, journal: Option<&Journal>) {
    if let Some(journal) = journal {
        if !journal.release(true).await {
            return;
        }
    }
    if let Err(e) = state.stream.delete_live_input(uid).await {
        // The reconciler deletes tagged inputs without a room after a grace period.
        tracing::error!(session_id = %uid, error = %e, "could not delete the live input of a failed create");
    }
}
