//! Reading rooms: addresses, the (cached) account, broadcast state, the host's `livestream`.
use std::str::FromStr;

use roomcast_chain::{is_session_id, Pubkey, Room, RoomStatus};

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

/// Reads a room from the room index while the chain watcher keeps it current, else through the
/// cache (viewers), or straight from the chain (`fresh`, for writes). A
/// fresh read also goes into the room index with its slot, so the listing shows this server's own
/// writes as soon as they have answered.
pub async fn load_room(state: &AppState, address: &Pubkey, fresh: bool) -> AppResult<Room> {
    let room = if fresh {
        let (slot, room) = state
            .chain
            .room_at(address)
            .await
            .map_err(AppError::from_chain)?;
        match &room {
            Some(room) if room.registry == state.registry => {
                let record = roomcast_chain::RoomRecord {
                    address: *address,
                    room: room.clone(),
                };
                state.index.apply(&record, slot);
            }
            Some(_) => {}
            None => {
                state.index.remove(address, slot);
            }
        }
        state.rooms.put_room(*address, room.clone()).await;
        room
    } else if let Some(record) = state
        .feeds
        .watcher_live()
        .then(|| state.index.get(address))
        .flatten()
    {
        // While the chain watcher is subscribed, the index is current: no chain read at all.
        Some(record.room)
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

/// The public view a viewer gets, serialized (`live::views`: rendered once per change of the room
/// or its broadcast state, then the same bytes for every viewer); 410 once the room has ended.
pub async fn livestream_json(state: &AppState, address: &Pubkey) -> AppResult<axum::body::Bytes> {
    let room = load_room(state, address, false).await?;
    if room.status == RoomStatus::Ended {
        state.views.forget(address);
        return Err(AppError::Gone(
            "this room has ended and can no longer be watched".into(),
        ));
    }
    state.rooms.mark_watched(&room.session_id);
    let broadcasting = broadcasting(state, &room.session_id).await;
    let gate = gate_of(state, address).await?;
    let tips = crate::rooms::tips::totals_for_view(state, address, &room.host).await;
    let inputs = crate::live::views::ViewInputs {
        broadcast: state.broadcasts.get(&room.session_id),
        room,
        gate,
        tips,
        broadcasting,
    };
    Ok(state.views.get_or_render(address, inputs, |inputs| {
        // A gated room's URLs (WHEP's too) go only to granted viewers, through the gate.
        let playback = match inputs.gate {
            Some(_) => None,
            None => Some(state.stream.playback_urls(&inputs.room.session_id)),
        };
        let live_playback = playback
            .as_ref()
            .and_then(|p| super::responses::LivePlayback::of(inputs.broadcast.as_ref(), p));
        let response = LivestreamResponse {
            tips: inputs.tips,
            live_playback,
            broadcast: inputs.broadcast.clone(),
            session_id_legacy: inputs.room.session_id.clone(),
            playback,
            gate: inputs.gate.as_ref().map(GateView::new),
            fields: RoomFields::new(address, &inputs.room),
            broadcasting: inputs.broadcasting,
        };
        serde_json::to_vec(&response)
            .expect("a livestream answer serializes")
            .into()
    }))
}

/// Whether the encoder is live: from webhooks or the public `lifecycle` endpoint, cached.
pub async fn broadcasting(state: &AppState, session_id: &str) -> Option<bool> {
    let lookup = async { state.stream.lifecycle(session_id).await.map(|l| l.live) };
    state.broadcasts.is_live(session_id, lookup).await
}

/// The room's gate, if it has one, from the shared kept read of every gate (`live::gates`: never
/// waits for the chain once loaded).
pub(crate) async fn gate_of(
    state: &AppState,
    address: &Pubkey,
) -> AppResult<Option<roomcast_chain::Gate>> {
    let gates = state
        .gates
        .all(|| {
            let chain = state.chain.clone();
            async move { chain.all_gates().await.map_err(AppError::from_chain) }
        })
        .await
        .map_err(|e| (*e).clone())?;
    Ok(gates.get(address).cloned())
}
