//! `GET /api/rooms?status=&host=&limit=&cursor=`: room discovery from the chain, newest first, with
//! broadcast state and live viewer counts (both from Cloudflare's public endpoints, cached).
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use roomcast_chain::view::parse_status;
use roomcast_chain::{Pubkey, RoomFilter, RoomRecord, RoomStatus};
use roomcast_stream::client::PlaybackUrls;
use serde::{Deserialize, Serialize};

use crate::core::error::{AppError, AppResult};
use crate::rooms;
use crate::rooms::responses::RoomFields;
use crate::state::{AppState, StateRef};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `created`, `live` or `ended`.
    status: Option<String>,
    /// Host wallet (base58).
    host: Option<String>,
    /// Page size, 1..=100 (default 20).
    limit: Option<String>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomListItem {
    #[serde(rename = "SessionID")]
    pub session_id_legacy: String,
    #[serde(flatten)]
    pub fields: RoomFields,
    /// Whether an encoder is broadcasting (`null` if unknown; `false` once ended).
    pub broadcasting: Option<bool>,
    /// Viewers watching now (`null` if unknown or ended).
    pub live_viewers: Option<u64>,
    /// Absent for a gated room (and when gates could not be read): see `gate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::rooms::responses::PlaybackUrlsDoc>)]
    pub playback: Option<PlaybackUrls>,
    /// Present for a gated room only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<crate::rooms::responses::GateView>,
    /// Tips viewers sent the host (read back from the chain).
    pub tips: crate::live::tips::TipTotals,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomList {
    pub rooms: Vec<RoomListItem>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

pub async fn list(
    State(state): State<StateRef>,
    Query(q): Query<ListQuery>,
) -> AppResult<Json<RoomList>> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            parse_status(s).ok_or_else(|| {
                AppError::bad_request("invalid_status", "status must be created, live or ended")
            })
        })
        .transpose()?;
    let host = q
        .host
        .as_deref()
        .map(|h| {
            Pubkey::from_str(h).map_err(|_| {
                AppError::bad_request("invalid_host", "host must be a base58 wallet address")
            })
        })
        .transpose()?;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                AppError::bad_request(
                    "invalid_limit",
                    format!("limit must be an integer from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;

    let all = matching_rooms(&state, status, host).await?;
    let start = match after {
        Some(position) => all
            .iter()
            .position(|r| sort_key(r) < position)
            .unwrap_or(all.len()),
        None => 0,
    };
    let page: Vec<&RoomRecord> = all.iter().skip(start).take(limit).collect();
    let next_cursor = (start + page.len() < all.len())
        .then(|| page.last().map(|r| encode_cursor(&sort_key(r))))
        .flatten();

    let mut items = Vec::with_capacity(page.len());
    for record in page {
        items.push(item(&state, record).await);
    }
    Ok(Json(RoomList {
        rooms: items,
        next_cursor,
    }))
}

/// Rooms of this registry matching the filter, newest first; shared by concurrent listings.
async fn matching_rooms(
    state: &AppState,
    status: Option<RoomStatus>,
    host: Option<Pubkey>,
) -> AppResult<Arc<Vec<RoomRecord>>> {
    let key = format!("{status:?}:{host:?}");
    let load = async {
        let mut rooms = state
            .chain
            .rooms(&RoomFilter {
                registry: Some(state.registry),
                status,
                host,
            })
            .await
            .map_err(AppError::from_chain)?;
        rooms.sort_by_key(|r| std::cmp::Reverse(sort_key(r)));
        Ok::<_, AppError>(Arc::new(rooms))
    };
    state
        .rooms
        .listing(&key, load)
        .await
        .map_err(|e| (*e).clone())
}

async fn item(state: &AppState, record: &RoomRecord) -> RoomListItem {
    let session_id = &record.room.session_id;
    let ended = record.room.status == RoomStatus::Ended;
    let (broadcasting, live_viewers) = if ended {
        (Some(false), None)
    } else {
        (
            rooms::broadcasting(state, session_id).await,
            viewers(state, session_id).await,
        )
    };
    // Fail closed: a room whose gate cannot be read shows no playable URLs.
    let (playback, gate) = crate::rooms::read::public_view(state, &record.address, session_id)
        .await
        .unwrap_or((None, None));
    let tips = crate::rooms::tips::totals(
        state,
        &record.address,
        &record.room.host,
        crate::rooms::tips::FRESH_FOR,
    )
    .await;
    RoomListItem {
        tips,
        session_id_legacy: session_id.clone(),
        fields: RoomFields::new(&record.address, &record.room),
        broadcasting,
        live_viewers,
        playback,
        gate,
    }
}

pub(crate) async fn viewers(state: &AppState, session_id: &str) -> Option<u64> {
    let lookup = async { state.stream.views(session_id).await.map(|v| v.live_viewers) };
    match state.rooms.viewers(session_id, lookup).await {
        Ok(viewers) => Some(viewers),
        Err(e) => {
            tracing::debug!(error = %e, "views lookup failed");
            None
        }
    }
}

/// Newest first: (created_at, address) descending.
fn sort_key(r: &RoomRecord) -> (i64, [u8; 32]) {
    (r.room.created_at, r.address.to_bytes())
}

fn encode_cursor(key: &(i64, [u8; 32])) -> String {
    let mut raw = key.0.to_be_bytes().to_vec();
    raw.extend_from_slice(&key.1);
    B64.encode(raw)
}

fn decode_cursor(cursor: &str) -> AppResult<(i64, [u8; 32])> {
    let invalid =
        || AppError::bad_request("invalid_cursor", "cursor is not one this server returned");
    let raw = B64.decode(cursor).map_err(|_| invalid())?;
    if raw.len() != 40 {
        return Err(invalid());
    }
    let created_at = i64::from_be_bytes(raw[..8].try_into().map_err(|_| invalid())?);
    let address: [u8; 32] = raw[8..].try_into().map_err(|_| invalid())?;
    Ok((created_at, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejects_garbage() {
        let key = (1_764_072_000, [7u8; 32]);
        assert_eq!(decode_cursor(&encode_cursor(&key)).unwrap(), key);
        assert_eq!(decode_cursor("nope").unwrap_err().code(), "invalid_cursor");
        assert_eq!(
            decode_cursor(&B64.encode([1u8; 12])).unwrap_err().code(),
            "invalid_cursor"
        );
    }
}
