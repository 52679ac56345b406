use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::Deserialize;

use crate::core::error::{AppError, AppResult};
use crate::http::extract::{Authed, NoBody};
use crate::live::answers::Kind;
use crate::rooms;
use crate::rooms::responses::{RoomChangeResponse, RotateKeyResponse};
use crate::state::StateRef;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivestreamQuery {
    session_id: Option<String>,
    room: Option<String>,
}

/// `GET /api/livestream?sessionId=…` or `?room=…`: public playback info; 410 once ended. The
/// same query is answered the kept bytes while nothing they are made of changed (`live::answers`).
pub async fn livestream(
    State(state): State<StateRef>,
    RawQuery(query): RawQuery,
) -> AppResult<axum::response::Response> {
    let query = query.unwrap_or_default();
    let body = rooms::answers::kept(&state, Kind::Livestream, query, |state, query| async move {
        let id = livestream_id(&query)?;
        let address = rooms::room_address(&state, &id)?;
        rooms::livestream_json(&state, &address).await
    })
    .await?;
    Ok(rooms::answers::json(body))
}

/// The room a `livestream` query names.
fn livestream_id(query: &str) -> AppResult<String> {
    let q: LivestreamQuery = crate::core::query::parse(query)?;
    match (q.session_id, q.room) {
        (Some(id), None) | (None, Some(id)) => Ok(id),
        (Some(_), Some(_)) => Err(AppError::bad_request(
            "invalid_query",
            "give either sessionId or room, not both",
        )),
        (None, None) => Err(AppError::bad_request(
            "invalid_query",
            "sessionId or room is required",
        )),
    }
}

/// `GET /api/rooms/{room}`: same view as `/api/livestream`.
pub async fn show(
    State(state): State<StateRef>,
    Path(room): Path<String>,
) -> AppResult<axum::response::Response> {
    let body = rooms::answers::kept(&state, Kind::Room, room, |state, room| async move {
        let address = rooms::room_address(&state, &room)?;
        rooms::livestream_json(&state, &address).await
    })
    .await?;
    Ok(rooms::answers::json(body))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    title: Option<String>,
}

/// `PATCH /api/rooms/{room}` `{title}`: host or operator.
pub async fn update(
    State(state): State<StateRef>,
    Path(room): Path<String>,
    Authed {
        principal, body, ..
    }: Authed<UpdateRequest>,
) -> AppResult<Json<RoomChangeResponse>> {
    let address = rooms::room_address(&state, &room)?;
    let title = body
        .title
        .ok_or_else(|| AppError::bad_request("invalid_title", "title is required"))?;
    Ok(Json(
        rooms::update_title(&state, &principal, &address, title).await?,
    ))
}

/// `POST /api/rooms/{room}/end`: host or operator; also disables the live input.
pub async fn end(
    State(state): State<StateRef>,
    Path(room): Path<String>,
    Authed { principal, .. }: Authed<NoBody>,
) -> AppResult<Json<RoomChangeResponse>> {
    let address = rooms::room_address(&state, &room)?;
    Ok(Json(rooms::end(&state, &principal, &address).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndRequest {
    session_id: Option<String>,
}

/// `POST /api/end` `{sessionId}`: the original contract's end.
pub async fn end_by_session(
    State(state): State<StateRef>,
    Authed {
        principal, body, ..
    }: Authed<EndRequest>,
) -> AppResult<Json<RoomChangeResponse>> {
    let id = body
        .session_id
        .ok_or_else(|| AppError::bad_request("invalid_body", "sessionId is required"))?;
    let address = rooms::room_address(&state, &id)?;
    Ok(Json(rooms::end(&state, &principal, &address).await?))
}

/// `POST /api/rooms/{room}/rotate-key`: new publish credentials; the old key stops working.
pub async fn rotate_key(
    State(state): State<StateRef>,
    Path(room): Path<String>,
    Authed { principal, .. }: Authed<NoBody>,
) -> AppResult<Json<RotateKeyResponse>> {
    let address = rooms::room_address(&state, &room)?;
    Ok(Json(rooms::rotate_key(&state, &principal, &address).await?))
}

/// `POST /api/rooms/{room}/playback`: signed playback URLs for the calling wallet (signed request
/// or sign-in session); 403 `not_a_holder` when it holds too little of a gated room's mint.
pub async fn playback(
    State(state): State<StateRef>,
    Path(room): Path<String>,
    crate::http::extract::ClientIp(ip): crate::http::extract::ClientIp,
    Authed { principal, .. }: Authed<NoBody>,
) -> AppResult<Json<crate::rooms::responses::PlaybackGrant>> {
    let address = rooms::room_address(&state, &room)?;
    Ok(Json(
        crate::rooms::playback::grant(&state, &principal, &address, ip).await?,
    ))
}
