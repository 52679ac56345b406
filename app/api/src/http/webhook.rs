//! `POST /api/webhooks/cloudflare`: Cloudflare Notifications for live inputs (connected,
//! disconnected, errored), authenticated by the `cf-webhook-auth` secret.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use roomcast_chain::{is_session_id, RoomStatus};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use roomcast_stream::notifications::{LiveInputEvent, LiveInputNotification};

use crate::core::broadcast::{hint_for, Applied, Broadcast, EncoderError, Phase, Protocol};
use crate::core::error::{AppError, AppResult};
use crate::rooms;
use crate::state::StateRef;

/// The header carrying the destination's secret (defined with the body, in `roomcast-stream`).
pub use roomcast_stream::notifications::AUTH_HEADER;

/// How far in the future an event's `updated_at` may be (clock skew); later ones are clamped to
/// now, so one far-future event cannot make every real one after it "stale".
const MAX_FUTURE_SKEW: time::Duration = time::Duration::seconds(30);
/// Longest encoder error code and message kept from a notification (they are shown to viewers).
const MAX_ERROR_CODE_CHARS: usize = 64;
const MAX_ERROR_MESSAGE_CHARS: usize = 500;

pub async fn cloudflare(
    State(state): State<StateRef>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let Some(secret) = &state.settings.webhook_secret else {
        return Err(AppError::NotFound(
            "the Cloudflare webhook is not configured on this server".into(),
        ));
    };
    let presented = headers
        .get(AUTH_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(presented.ct_eq(secret.expose_secret().as_bytes())) {
        return Err(AppError::unauthorized(
            "invalid_webhook_secret",
            "cf-webhook-auth is missing or wrong",
        ));
    }
    let notification: LiveInputNotification = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request("invalid_json", format!("notification body: {e}")))?;
    let Some(data) = notification.data else {
        return Ok(ignored(
            "not a live input notification (e.g. a destination test)",
        ));
    };
    let (Some(input_id), Some(event_type), Some(updated_at)) =
        (data.input_id, data.event_type, data.updated_at)
    else {
        return Ok(ignored(
            "not a live input notification (e.g. a destination test)",
        ));
    };
    let updated_at = OffsetDateTime::parse(&updated_at, &Rfc3339).map_err(|_| {
        AppError::bad_request(
            "invalid_notification",
            "data.updated_at is not an RFC 3339 time",
        )
    })?;
    let now = OffsetDateTime::now_utc();
    let updated_at = if updated_at > now + MAX_FUTURE_SKEW {
        tracing::warn!(%updated_at, "notification from the future; clamped to now");
        now
    } else {
        updated_at
    };
    let phase = match LiveInputEvent::parse(&event_type) {
        Some(LiveInputEvent::Connected) => Phase::Live,
        Some(LiveInputEvent::Disconnected) => Phase::Idle,
        Some(LiveInputEvent::Errored) => Phase::Errored,
        None => return Ok(ignored("unknown event type")),
    };
    if !is_session_id(&input_id) {
        return Ok(ignored("unknown live input"));
    }
    let address = rooms::room_address(&state, &input_id)?;
    let room = match rooms::load_room(&state, &address, false).await {
        Ok(room) => room,
        Err(AppError::NotFound(_)) => return Ok(ignored("unknown live input")),
        Err(e) => return Err(e),
    };
    if room.status == RoomStatus::Ended {
        state.broadcasts.ended(&input_id).await;
        return Ok(ignored("the room has ended"));
    }

    let error = data
        .live_input_errored
        .filter(|_| phase == Phase::Errored)
        .map(|e| {
            let code = bounded_text(&e.error.code, MAX_ERROR_CODE_CHARS);
            let message = bounded_text(&e.error.message, MAX_ERROR_MESSAGE_CHARS);
            EncoderError {
                hint: hint_for(&code, &message),
                code,
                message,
            }
        });
    let protocol = match phase {
        Phase::Live => ingest_protocol(&state, &input_id).await,
        _ => None,
    };
    let applied = state
        .apply_broadcast(
            &input_id,
            Broadcast {
                state: phase,
                updated_at,
                error,
                protocol,
            },
        )
        .await?;

    // Going live is monotonic on-chain, so it does not depend on event order: any `connected`
    // for a room still in Created marks it Live (once), including on a retried delivery — but only
    // once Cloudflare's public `lifecycle` confirms an encoder is live, so a forged or mistaken
    // event cannot write to the chain.
    let mut set_live = false;
    if phase == Phase::Live
        && room.status == RoomStatus::Created
        && confirmed_live(&state, &input_id).await
    {
        state
            .chain
            .set_live(state.registry, address)
            .await
            .map_err(AppError::from_chain)?;
        state.rooms.invalidate(&address).await;
        set_live = true;
        tracing::info!(room = %address, "room is live");
    }
    let status = match applied {
        Applied::Updated => "applied",
        Applied::Stale => "stale",
    };
    Ok(Json(
        json!({ "status": status, "event": event_type, "setLive": set_live }),
    ))
}

/// Whether `lifecycle` says the input is live now (a failed lookup is "not confirmed").
async fn confirmed_live(state: &crate::state::AppState, session_id: &str) -> bool {
    match state.stream.lifecycle(session_id).await {
        Ok(lifecycle) => {
            if !lifecycle.live {
                tracing::warn!(
                    session_id,
                    "connected notification, but lifecycle says not live; room not marked live"
                );
            }
            lifecycle.live
        }
        Err(e) => {
            tracing::warn!(session_id, error = %e, "could not confirm a connected notification");
            false
        }
    }
}

/// How the live input's encoder publishes (`status.current.ingestProtocol`); `None` when
/// Cloudflare does not say or cannot be asked.
async fn ingest_protocol(state: &crate::state::AppState, session_id: &str) -> Option<Protocol> {
    use roomcast_stream::client::LiveInputStatus;
    match state.stream.get_live_input(session_id).await {
        Ok(input) => match input.status {
            LiveInputStatus::Detailed(d) => d
                .current
                .and_then(|c| c.ingest_protocol)
                .and_then(|p| Protocol::parse(&p)),
            _ => None,
        },
        Err(e) => {
            tracing::warn!(session_id, error = %e, "could not read how the encoder publishes");
            None
        }
    }
}

/// At most `max` characters of `text`, without control characters (it comes from the sender and
/// is shown to viewers as text).
fn bounded_text(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn ignored(reason: &str) -> Json<Value> {
    Json(json!({ "status": "ignored", "reason": reason }))
}
