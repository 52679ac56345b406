//! `GET /api/rooms?status=&host=&limit=&cursor=`: room discovery from the room index (`live::index`,
//! fed by the chain: no chain read per request), newest first, with broadcast state and live viewer
//! counts (both from Cloudflare's public endpoints, cached; never waited for: `live::fills`).
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use roomcast_chain::view::parse_status;
use roomcast_chain::{Pubkey, RoomRecord, RoomStatus};
use roomcast_stream::client::PlaybackUrls;
use serde::{Deserialize, Serialize};

use crate::core::error::{AppError, AppResult};
use crate::live::fills::Field;
use crate::live::index::{sort_key, Page, SortKey};
use crate::live::views::ListItemInputs;
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
    /// Whether an encoder is broadcasting (`null` if unknown — discovery never waits for
    /// Cloudflare: a room's first look-up is made in the background; `false` once ended).
    pub broadcasting: Option<bool>,
    /// Viewers watching now (`null` if unknown — read in the background like `broadcasting` — or
    /// ended).
    pub live_viewers: Option<u64>,
    /// Absent for a gated room (and when gates could not be read): see `gate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::rooms::responses::PlaybackUrlsDoc>)]
    pub playback: Option<PlaybackUrls>,
    /// Present for a gated room only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<crate::rooms::responses::GateView>,
    /// Tips viewers sent the host (read back from the chain); `null` until the room's history
    /// was first read (discovery never waits for it).
    pub tips: Option<crate::live::tips::TipTotals>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomList {
    pub rooms: Vec<RoomListItem>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/rooms?…`: the same query is answered the kept page while nothing it is made of
/// changed (`live::answers`): a create, an end or a broadcast change anywhere renders it again.
pub async fn list(State(state): State<StateRef>, RawQuery(query): RawQuery) -> AppResult<Response> {
    let body = rooms::answers::kept(
        &state,
        crate::live::answers::Kind::Listing,
        query.unwrap_or_default(),
        |state, query| async move { render(&state, &query).await },
    )
    .await?;
    Ok(rooms::answers::json(body))
}

/// One page, rendered from the room index and each item's kept bytes.
async fn render(state: &StateRef, query: &str) -> AppResult<Bytes> {
    let q: ListQuery = crate::core::query::parse(query)?;
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

    let page = indexed_page(state, status, host, after, limit).await?;
    let next_cursor = page
        .more
        .then(|| page.rooms.last().map(|r| encode_cursor(&sort_key(r))))
        .flatten();

    // Each item's broadcast state and viewer count are cached Cloudflare reads, never waited for
    // (`item`). Each item is kept serialized (`live::views`): the page is the kept bytes joined
    // (the shape of [`RoomList`]).
    let items =
        futures_util::future::join_all(page.rooms.iter().map(|record| item(state, record))).await;
    let mut body = Vec::with_capacity(64 + items.iter().map(|i| i.len() + 1).sum::<usize>());
    body.extend_from_slice(b"{\"rooms\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"],\"nextCursor\":");
    serde_json::to_writer(&mut body, &next_cursor).expect("a cursor serializes");
    body.push(b'}');
    Ok(body.into())
}

/// How long a listing waits for the room index's first load before answering 503.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// One page from the room index (`live::index`): no chain read per request. Until its first load
/// is in (start-up), waits a moment, then 503 `index_loading`.
async fn indexed_page(
    state: &AppState,
    status: Option<RoomStatus>,
    host: Option<Pubkey>,
    after: Option<SortKey>,
    limit: usize,
) -> AppResult<Page> {
    if !state.index.is_loaded()
        && tokio::time::timeout(INDEX_WAIT, state.index.wait_loaded())
            .await
            .is_err()
    {
        return Err(AppError::Unavailable {
            code: "index_loading",
            message: "the room index is still loading from the chain; try again shortly".into(),
        });
    }
    Ok(state.index.page(status, host, after, limit))
}

/// A room's item, serialized: kept per room while what it is made of is unchanged. Never waits
/// for an upstream (`live::fills`): the broadcast state, viewer count and tip totals are what is
/// known now, else what the item last showed, else `null`, while one background read fills them.
async fn item(state: &StateRef, record: &RoomRecord) -> Bytes {
    let session_id = &record.room.session_id;
    let address = &record.address;
    let ended = record.room.status == RoomStatus::Ended;
    let (broadcasting, live_viewers) = if ended {
        (Some(false), None)
    } else {
        let shown = state
            .list_items
            .peek(address, |i| (i.broadcasting, i.live_viewers));
        let broadcasting = match state.broadcasts.known(session_id).await {
            Some(known) => known,
            None => fill(
                state,
                Field::Broadcasting,
                record,
                shown.and_then(|s| s.0),
                |state, sid| async move { rooms::broadcasting(&state, &sid).await },
            ),
        };
        let live_viewers = match state.rooms.known_viewers(session_id).await {
            Some(known) => Some(known),
            None => fill(
                state,
                Field::Viewers,
                record,
                shown.and_then(|s| s.1),
                |state, sid| async move { viewers(&state, &sid).await },
            ),
        };
        (broadcasting, live_viewers)
    };
    let gate = crate::rooms::read::gate_of(state, address)
        .await
        .map_err(|_| ());
    let tips = crate::rooms::tips::kept_totals(
        state,
        address,
        &record.room.host,
        crate::rooms::tips::LISTED_FRESH_FOR,
    );
    let inputs = ListItemInputs {
        room: record.room.clone(),
        broadcasting,
        live_viewers,
        gate,
        tips,
    };
    state.list_items.get_or_render(address, inputs, |inputs| {
        // Fail closed: a room whose gate cannot be read shows no playable URLs.
        let (playback, gate) = match &inputs.gate {
            Ok(Some(gate)) => (None, Some(crate::rooms::responses::GateView::new(gate))),
            Ok(None) => (Some(state.stream.playback_urls(session_id)), None),
            Err(()) => (None, None),
        };
        let item = RoomListItem {
            tips: inputs.tips,
            session_id_legacy: session_id.clone(),
            fields: RoomFields::new(address, &inputs.room),
            broadcasting: inputs.broadcasting,
            live_viewers: inputs.live_viewers,
            playback,
            gate,
        };
        serde_json::to_vec(&item)
            .expect("a room item serializes")
            .into()
    })
}

/// What an item shows while `field` is unknown: `shown` (what it showed last). Starts `field`'s
/// background read of `record`'s upstream state unless one was started within
/// `live::fills::RETRY`; when it lands with something other than `shown`, listings render again.
fn fill<T, F>(
    state: &StateRef,
    field: Field,
    record: &RoomRecord,
    shown: Option<T>,
    read: impl FnOnce(StateRef, String) -> F + Send + 'static,
) -> Option<T>
where
    T: Copy + PartialEq + Send + 'static,
    F: std::future::Future<Output = Option<T>> + Send + 'static,
{
    if state.fills.claim(field, &record.address) {
        let (state, session_id) = (state.clone(), record.room.session_id.clone());
        tokio::spawn(async move {
            let found = read(state.clone(), session_id).await;
            state.fills.landed(found.is_some() && found != shown);
        });
    }
    shown
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
