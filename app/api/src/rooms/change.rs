//! Changing a room: title, stream-key rotation, end (on-chain first, then the live input).
use roomcast_chain::{Pubkey, Room, RoomRecord, RoomStatus};

use crate::core::error::{AppError, AppResult};
use crate::guard::auth::Principal;
use crate::rooms::chain_changes;
use crate::rooms::responses::*;
use crate::rooms::*;
use crate::state::AppState;

/// Loads a room for a change by `principal`: 404 unknown, 410 ended, 403 not theirs.
pub async fn load_for_change(
    state: &AppState,
    principal: &Principal,
    address: &Pubkey,
) -> AppResult<Room> {
    let room = load_room(state, address, true).await?;
    if !principal.may_act_for(&room.host) {
        return Err(AppError::Forbidden(
            "only the room's host or the operator may change this room".into(),
        ));
    }
    if room.status == RoomStatus::Ended {
        return Err(AppError::Gone("this room has ended".into()));
    }
    Ok(room)
}

pub async fn update_title(
    state: &AppState,
    principal: &Principal,
    address: &Pubkey,
    title: String,
) -> AppResult<RoomChangeResponse> {
    validate_title(&title)?;
    let payer = load_for_change(state, principal, address).await?.payer;
    let signature = state
        .chain
        .update_room(state.registry, *address, payer, title)
        .await
        .map_err(AppError::from_chain)?;
    state.rooms.invalidate(address).await;
    let room = load_room(state, address, true).await?;
    Ok(RoomChangeResponse {
        session_id_legacy: room.session_id.clone(),
        fields: RoomFields::new(address, &room),
        signature: signature.to_string(),
        live_input_disabled: None,
    })
}

/// Ends the room on-chain (the source of truth), then disables its live input so the broadcast stops.
pub async fn end(
    state: &AppState,
    principal: &Principal,
    address: &Pubkey,
) -> AppResult<RoomChangeResponse> {
    load_for_change(state, principal, address).await?;
    let signature = state
        .chain
        .end_room(state.registry, *address)
        .await
        .map_err(AppError::from_chain)?;
    // Other replicas drop their copy; here the fresh account goes through the same reaction as an
    // end noticed on-chain (input disabled, broadcast state dropped, cache and pages told).
    state.rooms.invalidate(address).await;
    let room = load_room(state, address, true).await?;
    let record = RoomRecord {
        address: *address,
        room,
    };
    let disabled = matches!(
        chain_changes::apply(state, &record).await,
        chain_changes::InputChange::Disabled
    );
    let room = record.room;
    tracing::info!(room = %address, session_id = %room.session_id, "room ended");
    Ok(RoomChangeResponse {
        session_id_legacy: room.session_id.clone(),
        fields: RoomFields::new(address, &room),
        signature: signature.to_string(),
        live_input_disabled: Some(disabled),
    })
}

pub async fn rotate_key(
    state: &AppState,
    principal: &Principal,
    address: &Pubkey,
) -> AppResult<RotateKeyResponse> {
    let room = load_for_change(state, principal, address).await?;
    let input = state
        .stream
        .rotate_keys(&room.session_id)
        .await
        .map_err(AppError::from_stream)?;
    let ingest = ingest_details(&input)?;
    tracing::info!(room = %address, "stream key rotated");
    Ok(RotateKeyResponse {
        session_id_legacy: room.session_id.clone(),
        ingest_url_legacy: ingest.rtmps.url.clone(),
        stream_key: ingest.rtmps.stream_key.clone(),
        room: address.to_string(),
        ingest,
    })
}
