//! Reading rooms: addresses, the (cached) account, broadcast state, the host's `livestream`.
use std::str::FromStr;

use roomcast_chain::{is_session_id, Pubkey, Room, RoomStatus};
use roomcast_stream::client::PlaybackUrls;

use crate::core::error::{AppError, AppResult};
use crate::rooms::responses::*;
use crate::state::AppState;

/// A room named by its PDA (base58) or its session id (32 lowercase hex).
pub fn room_address(state: &AppState, id: &str) -> AppResult<Pubkey> {
    if is_session_id(id) {
        return Ok(state
            .rooms
            .address_of(id, || state.chain.room_address(&state.registry, id)));
    }
    Pubkey::from_str(id).map_err(|_| {
        AppError::bad_request(
            "invalid_room_id",
            "a room is named by its address (base58) or its session id (32 lowercase hex)",
        )
    })
}

/// Reads a room through the cache (viewers) or straight from the chain (`fresh`, for writes).
pub async fn load_room(state: &AppState, address: &Pubkey, fresh: bool) -> AppResult<Room> {
    let room = if fresh {
        let room = state
            .chain
            .room(address)
            .await
            .map_err(AppError::from_chain)?;
        state.rooms.put_room(*address, room.clone()).await;
        room
    } else {
        state
            .rooms
            .room(address, async {
                state
                    .chain
                    .room(address)
                    .await
                    .map_err(AppError::from_chain)
            })
            .await
            .map_err(|e| (*e).clone())?
    };
    let Some(room) = room else {
        if state.tombstones.is_closed(address) {
            return Err(AppError::Gone("this room has ended and was closed".into()));
        }
        return Err(AppError::NotFound("no such room".into()));
    };
    if room.registry != state.registry {
        return Err(AppError::NotFound("no such room in this registry".into()));
    }
    Ok(room)
}

/// The public view a viewer gets; 410 once the room has ended.
pub async fn livestream(state: &AppState, address: &Pubkey) -> AppResult<LivestreamResponse> {
    let room = load_room(state, address, false).await?;
    if room.status == RoomStatus::Ended {
        return Err(AppError::Gone(
            "this room has ended and can no longer be watched".into(),
        ));
    }
    state.rooms.mark_watched(&room.session_id);
    let broadcasting = broadcasting(state, &room.session_id).await;
    let (playback, gate) = public_view(state, address, &room.session_id).await?;
    let tips =
        crate::rooms::tips::totals(state, address, &room.host, crate::rooms::tips::FRESH_FOR).await;
    let broadcast = state.broadcasts.get(&room.session_id);
    // A gated room's URLs (WHEP's too) go only to granted viewers, through the gate.
    let live_playback = playback
        .as_ref()
        .and_then(|p| super::responses::LivePlayback::of(broadcast.as_ref(), p));
    Ok(LivestreamResponse {
        tips,
        live_playback,
        broadcast,
        session_id_legacy: room.session_id.clone(),
        playback,
        gate,
        fields: RoomFields::new(address, &room),
        broadcasting,
    })
}

/// Whether the encoder is live: from webhooks or the public `lifecycle` endpoint, cached.
pub async fn broadcasting(state: &AppState, session_id: &str) -> Option<bool> {
    let lookup = async { state.stream.lifecycle(session_id).await.map(|l| l.live) };
    match state.broadcasts.is_live(session_id, lookup).await {
        Ok(live) => Some(live),
        Err(e) => {
            tracing::debug!(error = %e, "lifecycle lookup failed");
            None
        }
    }
}

/// What a public read shows of a room's playback: its URLs when it is ungated, its gate (and no
/// URLs) when it is gated. Gates come from one cached read of every gate (`live::gates`); an
/// error there is an error (the caller decides how to fail closed).
pub async fn public_view(
    state: &AppState,
    address: &Pubkey,
    session_id: &str,
) -> AppResult<(Option<PlaybackUrls>, Option<GateView>)> {
    let gates = state
        .gates
        .all(async { state.chain.all_gates().await.map_err(AppError::from_chain) })
        .await
        .map_err(|e| (*e).clone())?;
    Ok(match gates.get(address) {
        Some(gate) => (None, Some(GateView::new(gate))),
        None => (Some(state.stream.playback_urls(session_id)), None),
    })
}
