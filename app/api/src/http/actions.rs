//! The end-room **Solana Action** (Actions spec 2.4): `GET /api/actions/end-room?room=…` describes
//! it, `POST` with `{account}` answers an unsigned `end_room` transaction whose fee payer and only
//! signer is the host's wallet, with a fresh blockhash. The host console's "end on-chain with my
//! wallet" uses it, and any Actions-aware wallet can render it as a Blink. Errors carry the spec's
//! `{"message"}` and roomcast's `{"error":{"code","message"}}` side by side.
use std::str::FromStr;

use anchor_lang::{InstructionData, ToAccountMetas};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use roomcast_chain::{Pubkey, RoomStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::core::error::AppError;
use crate::rooms;
use crate::state::StateRef;

/// The spec version these answers follow (`X-Action-Version`).
pub const ACTION_VERSION: &str = "2.4";

/// The headers every Action route and `actions.json` send (the Actions SDK's `ACTIONS_CORS_HEADERS`).
pub const CORS_HEADERS: [(&str, &str); 4] = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "GET,POST,PUT,OPTIONS"),
    (
        "access-control-allow-headers",
        "Content-Type, Authorization, Content-Encoding, Accept-Encoding, X-Accept-Action-Version, X-Accept-Blockchain-Ids",
    ),
    (
        "access-control-expose-headers",
        "X-Action-Version, X-Blockchain-Ids",
    ),
];

/// An Action error: fatal per the spec (`message`), in roomcast's shape too (`error`).
pub struct ActionError(pub AppError);

impl From<AppError> for ActionError {
    fn from(e: AppError) -> Self {
        ActionError(e)
    }
}

/// An Action's query (`?room=…`), parsed as axum's `Query` does but refused in the Actions' error
/// shape (400 `invalid_query`: a repeated parameter, a value of the wrong type).
pub struct ActionParams<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for ActionParams<T>
{
    type Rejection = ActionError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ActionParams(crate::core::query::parse(
            parts.uri.query().unwrap_or(""),
        )?))
    }
}

impl IntoResponse for ActionError {
    fn into_response(self) -> Response {
        let message = self.0.to_string();
        (
            self.0.status(),
            Json(json!({ "message": message, "error": { "code": self.0.code(), "message": message } })),
        )
            .into_response()
    }
}

/// Adds the spec's CORS headers plus `X-Action-Version` / `X-Blockchain-Ids` to every answer.
pub async fn headers(State(state): State<StateRef>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    for (name, value) in CORS_HEADERS {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    h.insert(
        HeaderName::from_static("x-action-version"),
        HeaderValue::from_static(ACTION_VERSION),
    );
    if let Some(chain) = blockchain_id(&state).await {
        if let Ok(v) = HeaderValue::from_str(&chain) {
            h.insert(HeaderName::from_static("x-blockchain-ids"), v);
        }
    }
    response
}

/// CAIP-2 id of the cluster: `solana:` + the first 32 characters of its genesis hash.
async fn blockchain_id(state: &StateRef) -> Option<String> {
    state
        .action_chain_id
        .get_or_try_init(|| async {
            state.chain.rpc().get_genesis_hash().await.map(|hash| {
                let hash = hash.to_string();
                format!("solana:{}", &hash[..32.min(hash.len())])
            })
        })
        .await
        .ok()
        .cloned()
}

/// `OPTIONS` on Action routes: the same headers as `GET` (added by [`headers`]).
pub async fn options() -> StatusCode {
    StatusCode::OK
}

/// `GET /actions.json`: maps this site's Action paths to themselves.
pub async fn actions_json() -> Json<serde_json::Value> {
    Json(json!({ "rules": [ { "pathPattern": "/api/actions/**", "apiPath": "/api/actions/**" } ] }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionQuery {
    /// Room address or session id.
    pub room: Option<String>,
}

/// `ActionGetResponse`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActionMetadata {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub icon: String,
    pub title: String,
    pub description: String,
    pub label: String,
    pub disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ActionMessage>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActionMessage {
    pub message: String,
}

/// `ActionPostRequest`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ActionPostRequest {
    /// The wallet that will sign (base58).
    pub account: Option<String>,
    #[serde(rename = "type")]
    #[schema(ignore)]
    pub kind: Option<serde_json::Value>,
    #[schema(ignore)]
    pub data: Option<serde_json::Value>,
}

/// `TransactionResponse`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActionTransaction {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Base64 wire-format transaction: one empty signature slot, for `account`.
    pub transaction: String,
    pub message: String,
}

pub(crate) fn room_param(state: &StateRef, q: &ActionQuery) -> Result<Pubkey, AppError> {
    let id = q
        .room
        .as_deref()
        .ok_or_else(|| AppError::bad_request("invalid_query", "room is required"))?;
    rooms::room_address(state, id)
}

/// `GET /api/actions/end-room?room=…`.
pub async fn end_room_metadata(
    State(state): State<StateRef>,
    ActionParams(q): ActionParams<ActionQuery>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
) -> Result<Json<ActionMetadata>, ActionError> {
    let address = room_param(&state, &q)?;
    let room = rooms::load_room(&state, &address, false).await?;
    let ended = room.status == RoomStatus::Ended;
    Ok(Json(ActionMetadata {
        kind: "action",
        icon: format!(
            "{}/assets/icon.svg",
            origin(&state, &headers, &extensions)
        ),
        title: format!("End “{}”", room.title),
        description: "Ends this roomcast livestream on-chain: the broadcast stops and viewers see that the room has ended. Only the host's wallet can sign it.".into(),
        label: "End room".into(),
        disabled: ended,
        error: ended.then(|| ActionMessage {
            message: "this room has already ended".into(),
        }),
    }))
}

/// `POST /api/actions/end-room?room=…` `{account}`: the unsigned `end_room` transaction.
pub async fn end_room_transaction(
    State(state): State<StateRef>,
    ActionParams(q): ActionParams<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ActionTransaction>, ActionError> {
    let address = room_param(&state, &q)?;
    let body: ActionPostRequest = crate::http::extract::parse_json(&headers, &body)?;
    let account = body
        .account
        .as_deref()
        .ok_or_else(|| AppError::bad_request("invalid_body", "account is required"))?;
    let account = Pubkey::from_str(account).map_err(|_| {
        AppError::bad_request("invalid_account", "account must be a base58 wallet address")
    })?;
    // An unknown room is answered from the room cache's negative entry (no chain read per POST);
    // a known one is read fresh, so the host check sees the chain.
    rooms::load_room(&state, &address, false).await?;
    let room = rooms::load_room(&state, &address, true).await?;
    if room.host != account {
        return Err(AppError::Forbidden(
            "only the room's host can end it with their wallet".into(),
        )
        .into());
    }
    if room.status == RoomStatus::Ended {
        return Err(AppError::Gone("this room has already ended".into()).into());
    }
    let transaction = end_room_transaction_bytes(&state, account, address).await?;
    // Once the wallet sends it, stop the broadcast without waiting for the reconciler.
    crate::http::sse::watch_for_end(&state, address);
    Ok(Json(ActionTransaction {
        kind: "transaction",
        transaction: B64.encode(transaction),
        message: format!("Ends “{}” for everyone.", room.title),
    }))
}

/// The wire bytes of an `end_room` transaction signed (later) by `host` alone, who pays the fee.
async fn end_room_transaction_bytes(
    state: &StateRef,
    host: Pubkey,
    room: Pubkey,
) -> Result<Vec<u8>, AppError> {
    let accounts = roomcast::accounts::EndRoom {
        authority: host,
        registry: state.registry,
        room,
    }
    .to_account_metas(None);
    let instruction = solana_instruction::Instruction {
        program_id: state.chain.program_id(),
        accounts,
        data: roomcast::instruction::EndRoom {}.data(),
    };
    let blockhash = state
        .chain
        .rpc()
        .get_latest_blockhash()
        .await
        .map_err(|e| {
            AppError::from_chain(roomcast_chain::ChainError::Unreachable(e.to_string()))
        })?;
    let message =
        solana_message::Message::new_with_blockhash(&[instruction], Some(&host), &blockhash);
    let transaction = solana_transaction::Transaction::new_unsigned(message);
    bincode::serialize(&transaction).map_err(|e| AppError::Internal(e.to_string()))
}

/// `scheme://host` for absolute URLs (icons): this server's public origin when it has one;
/// otherwise the `Host` the client used, over `https` only when a trusted proxy
/// (`ROOMCAST_TRUSTED_PROXIES`) says so in `X-Forwarded-Proto`.
pub(crate) fn origin(
    state: &StateRef,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> String {
    if let Some(origin) = &state.settings.public_origin {
        return origin.clone();
    }
    let peer = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|ci| ci.0.ip());
    let trusted = peer.is_some_and(|ip| {
        crate::guard::client_ip::is_trusted_peer(ip, &state.settings.trusted_proxies)
    });
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.parse::<axum::http::uri::Authority>().is_ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .filter(|_| trusted)
        .and_then(|h| h.to_str().ok())
        .filter(|s| *s == "https" || *s == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}
