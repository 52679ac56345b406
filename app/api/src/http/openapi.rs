//! The OpenAPI 3.1 description of the API, generated from the code with utoipa and served at
//! `GET /api/openapi.json`. A test keeps it in sync with the router and with `docs/openapi.json`.
//!
//! Response types derive their schemas where they are defined; the functions below only carry
//! each route's documentation (method, path, parameters, bodies, statuses).
#![allow(dead_code)]

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::core::broadcast::{Broadcast, EncoderError, Phase, Protocol};
use crate::guard::sign_in::{SessionResponse, SignInInput, SignInRequest};
use crate::http::actions::{
    ActionMessage, ActionMetadata, ActionPostRequest, ActionQuery, ActionTransaction,
};
use crate::http::sse::RoomEvent;
use crate::http::tips::{
    ActionParameter, LinkedAction, NextActionLink, NextLinks, TipActionMetadata, TipCompleted,
    TipDoneRequest, TipLinks, TipQuery, TipTransaction,
};
use crate::jobs::reconciler::ReconcileReport;
use crate::rooms::listing::{ListQuery, RoomList, RoomListItem};
use crate::rooms::responses::*;
use crate::state::{EmbeddedInfo, PublicInfo};

/// Every error: `{"error":{"code","message"}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable (e.g. `invalid_title`, `room_ended`, `replayed_signature`).
    pub code: String,
    /// Human-readable.
    pub message: String,
}

/// `POST /api/create` body.
#[derive(Serialize, ToSchema)]
pub struct CreateRequestDoc {
    /// 1..=100 bytes of UTF-8.
    pub title: String,
    /// Host wallet (base58). Required for the operator; optional (must match) for a signing wallet.
    pub host: Option<String>,
    /// A token gate: only holders of `minAmount` raw units of `mint` may watch (400 `invalid_gate`
    /// when the mint is not an SPL Token or Token-2022 mint on the cluster, or `minAmount` is 0).
    pub gate: Option<GateRequestDoc>,
}

/// `gate` of `POST /api/create`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateRequestDoc {
    pub mint: String,
    pub min_amount: u64,
}

/// `PATCH /api/rooms/{room}` body.
#[derive(Serialize, ToSchema)]
pub struct UpdateRequestDoc {
    pub title: String,
}

/// `POST /api/end` body.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndRequestDoc {
    pub session_id: String,
}

#[utoipa::path(post, path = "/api/create", tag = "rooms", request_body = CreateRequestDoc,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the same room")),
    security(("wallet_signature" = []), ("session" = []), ("operator" = [])),
    responses(
        (status = 201, description = "Room created: live input at Cloudflare and room on-chain", body = CreateResponse),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 409, description = "Idempotency-Key in progress (`idempotency_key_in_progress`) or reused with another body (`idempotency_key_reused`)", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse), (status = 429, body = ErrorResponse),
        (status = 502, body = ErrorResponse),
        (status = 503, description = "An upstream is unavailable, the request timed out (the create still finishes: retry with the same Idempotency-Key), `overloaded`, a security store is full (`replay_store_full`, `idempotency_store_full`), the registrar is at its balance floor (`registrar_underfunded`), or the replicas' shared state (Redis) is unreachable (`shared_state_unavailable`)", body = ErrorResponse)))]
fn create() {}

#[utoipa::path(get, path = "/api/livestream", tag = "viewers",
    params(("sessionId" = Option<String>, Query, description = "Session id (live input uid)"),
           ("room" = Option<String>, Query, description = "Room address or session id")),
    responses((status = 200, body = LivestreamResponse), (status = 400, body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 410, description = "The room has ended", body = ErrorResponse),
              (status = 429, description = "Too many reads from this address (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, description = "Overloaded (`overloaded`) or an upstream is unavailable", body = ErrorResponse)))]
fn livestream() {}

#[utoipa::path(get, path = "/api/rooms", tag = "viewers", params(ListQuery),
    responses((status = 200, body = RoomList), (status = 400, body = ErrorResponse),
              (status = 429, description = "Too many reads from this address (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, description = "Overloaded (`overloaded`) or an upstream is unavailable", body = ErrorResponse)))]
fn list_rooms() {}

#[utoipa::path(get, path = "/api/rooms/{room}", tag = "viewers",
    params(("room" = String, Path, description = "Room address or session id")),
    responses((status = 200, body = LivestreamResponse), (status = 404, body = ErrorResponse), (status = 410, body = ErrorResponse),
              (status = 429, description = "Too many reads from this address (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, description = "Overloaded (`overloaded`) or an upstream is unavailable", body = ErrorResponse)))]
fn show_room() {}

#[utoipa::path(patch, path = "/api/rooms/{room}", tag = "rooms", request_body = UpdateRequestDoc,
    params(("room" = String, Path, description = "Room address or session id")),
    security(("wallet_signature" = []), ("session" = []), ("operator" = [])),
    responses((status = 200, body = RoomChangeResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 410, body = ErrorResponse)))]
fn update_room() {}

#[utoipa::path(post, path = "/api/rooms/{room}/end", tag = "rooms",
    params(("room" = String, Path, description = "Room address or session id")),
    security(("wallet_signature" = []), ("session" = []), ("operator" = [])),
    responses((status = 200, body = RoomChangeResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 410, body = ErrorResponse)))]
fn end_room() {}

#[utoipa::path(post, path = "/api/end", tag = "rooms", request_body = EndRequestDoc,
    security(("wallet_signature" = []), ("session" = []), ("operator" = [])),
    responses((status = 200, body = RoomChangeResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
              (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse), (status = 410, body = ErrorResponse)))]
fn end_by_session() {}

#[utoipa::path(post, path = "/api/rooms/{room}/rotate-key", tag = "rooms",
    params(("room" = String, Path, description = "Room address or session id")),
    security(("wallet_signature" = []), ("session" = []), ("operator" = [])),
    responses((status = 200, body = RotateKeyResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 410, body = ErrorResponse)))]
fn rotate_key() {}

#[utoipa::path(get, path = "/api/info", tag = "operations", responses((status = 200, body = PublicInfo)))]
fn info() {}

#[utoipa::path(post, path = "/api/webhooks/cloudflare", tag = "operations",
    params(("cf-webhook-auth" = String, Header, description = "The notification destination's secret")),
    responses((status = 200, description = "`{status: applied|stale|ignored, ...}`"), (status = 400, body = ErrorResponse),
              (status = 401, body = ErrorResponse), (status = 404, description = "Webhook not configured", body = ErrorResponse),
              (status = 503, body = ErrorResponse)))]
fn cloudflare_webhook() {}

#[utoipa::path(post, path = "/api/admin/reconcile", tag = "operations", security(("operator" = [])),
    responses((status = 200, body = ReconcileReport), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
fn reconcile() {}

#[utoipa::path(get, path = "/api/openapi.json", tag = "operations", responses((status = 200, description = "This document")))]
fn openapi_json() {}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process is up")))]
fn healthz() {}

/// `{"ok":true}` behind the same middleware as every API route (body limit, timeout, load
/// shedding, per-address read limit, metrics): the floor the benchmarks compare viewer routes to.
#[utoipa::path(get, path = "/api/ping", tag = "operations", responses((status = 200, description = "`{\"ok\":true}`"), (status = 429, body = ErrorResponse), (status = 503, body = ErrorResponse)))]
fn ping() {}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Solana RPC and Cloudflare answer (and Redis, `checks.sharedState`, when replicas share state)"), (status = 503, description = "An upstream (or the shared Redis) is down")))]
fn readyz() {}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
fn metrics() {}

#[utoipa::path(get, path = "/api/rooms/{room}/events", tag = "viewers",
    params(("room" = String, Path, description = "Room address or session id")),
    responses((status = 200, content_type = "text/event-stream",
        description = "Server-Sent Events: an `event: room` with a `RoomEvent` JSON `data` on connect (the current state) and on every change \
                       (status, broadcasting, viewers, title, tips), and an `event: tip` with a `TipEvent` JSON `data` (`{from, lamports, signature}`) for each tip that lands \
                       (read back from the chain; never counted twice). The first event carries `retry:` (ms before EventSource reconnects). \
                       The stream ends after the room has ended, after `ROOMCAST_SSE_MAX_LIFETIME_SECS` (900 s; reconnect) and at once on shutdown.", body = RoomEvent),
        (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 429, description = "This address (IPv6: its /64) has `ROOMCAST_SSE_MAX_PER_CLIENT` (32) streams open (`rate_limited`, with Retry-After)", body = ErrorResponse),
        (status = 503, description = "The server has `ROOMCAST_SSE_MAX_STREAMS` (10,000) streams open (`too_many_streams`, with Retry-After)", body = ErrorResponse)))]
fn room_events() {}

#[utoipa::path(get, path = "/api/auth/nonce", tag = "auth",
    responses((status = 200, description = "Sign-In With Solana input for the wallet's `solana:signIn` (single-use nonce, expiry); `domain` and `uri` are this server's public origin, never the request's `Host`. The nonce is stateless (HMAC-tagged issue and expiry times): issuing one stores nothing", body = SignInInput),
              (status = 429, description = "Too many reads from this address (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, description = "The replicas' shared state (Redis) is unreachable (`shared_state_unavailable`), or sign-in is off: a non-loopback listener without `ROOMCAST_PUBLIC_ORIGIN` (`sign_in_unavailable`)", body = ErrorResponse)))]
fn auth_nonce() {}

#[utoipa::path(post, path = "/api/auth/sign-in", tag = "auth", request_body = SignInRequest,
    responses((status = 200, description = "A session token for the signing wallet: send it as `Authorization: Bearer <token>`", body = SessionResponse),
              (status = 400, body = ErrorResponse),
              (status = 401, description = "`unknown_nonce` (unknown or already used), `sign_in_expired`, `invalid_sign_in_message`, `invalid_signature`, `wrong_domain` (signed for another site than this server's origin)", body = ErrorResponse),
              (status = 415, body = ErrorResponse),
              (status = 503, description = "The replicas' shared state (Redis) is unreachable (`shared_state_unavailable`), or sign-in is off (`sign_in_unavailable`)", body = ErrorResponse)))]
fn auth_sign_in() {}

#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth", security(("session" = [])),
    responses((status = 204, description = "The session token no longer works"), (status = 401, body = ErrorResponse),
              (status = 503, description = "The replicas' shared state (Redis) is unreachable (`shared_state_unavailable`)", body = ErrorResponse)))]
fn auth_sign_out() {}

#[utoipa::path(get, path = "/api/actions/end-room", tag = "actions", params(ActionQuery),
    responses((status = 200, description = "Solana Action metadata (`ActionGetResponse`, spec 2.4); `disabled` once ended", body = ActionMetadata),
              (status = 400, description = "`{message, error}`"), (status = 404, description = "`{message, error}` (an unknown room is answered from the room cache)"),
              (status = 429, description = "Too many reads from this address (`rate_limited`, with Retry-After; the Actions CORS headers too)", body = ErrorResponse),
              (status = 503, description = "Overloaded (`overloaded`), timed out (`timeout`) or an upstream is unavailable", body = ErrorResponse)))]
fn action_end_room_get() {}

#[utoipa::path(post, path = "/api/actions/end-room", tag = "actions", params(ActionQuery), request_body = ActionPostRequest,
    responses((status = 200, description = "An unsigned `end_room` transaction: fee payer and only signer is `account`, fresh blockhash", body = ActionTransaction),
              (status = 400, description = "`{message, error}`"), (status = 403, description = "`account` is not the room's host: `{message, error}`"),
              (status = 404, description = "`{message, error}`"), (status = 410, description = "Already ended: `{message, error}`"),
              (status = 413, description = "Body larger than `ROOMCAST_MAX_BODY_BYTES`"),
              (status = 429, description = "Too many requests from this address: the POST spends the read budget (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, description = "Overloaded (`overloaded`), timed out (`timeout`) or an upstream is unavailable", body = ErrorResponse)))]
fn action_end_room_post() {}

#[utoipa::path(get, path = "/actions.json", tag = "actions",
    responses((status = 200, description = "Actions rules: `{rules: [{pathPattern, apiPath}]}`"),
              (status = 429, description = "Too many reads from this address (`rate_limited`, with Retry-After)", body = ErrorResponse)))]
fn actions_json() {}

#[utoipa::path(post, path = "/api/rooms/{room}/playback", tag = "viewers",
    params(("room" = String, Path, description = "Room address or session id")),
    security(("wallet_signature" = []), ("session" = []), ("operator" = [])),
    responses((status = 200, description = "Playback for the calling wallet: for a gated room, URLs with a token signed for this room \
                       (valid until `expiresAt`, `ROOMCAST_PLAYBACK_TOKEN_SECS`, at most 30 min; ask again before then), after its holdings \
                       of the gate's mint were read on-chain (the host and the operator always play); for an ungated room, its plain URLs", body = PlaybackGrant),
              (status = 401, body = ErrorResponse),
              (status = 403, description = "`not_a_holder`: the wallet holds less than the gate's minimum (unfrozen accounts of both token programs summed); the message gives both amounts", body = ErrorResponse),
              (status = 404, body = ErrorResponse), (status = 410, body = ErrorResponse),
              (status = 429, description = "`ROOMCAST_PLAYBACK_GRANTS_PER_MINUTE` grants for this wallet or address (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, body = ErrorResponse)))]
fn room_playback() {}

#[utoipa::path(get, path = "/api/actions/tip", tag = "actions", params(TipQuery),
    responses((status = 200, description = "Solana Action metadata (`ActionGetResponse`, spec 2.4): three fixed amounts and one `amount` parameter (SOL, 0.001–100) in `links.actions`; `disabled` once ended", body = TipActionMetadata),
              (status = 400, description = "`{message, error}`"), (status = 404, description = "`{message, error}`"),
              (status = 429, description = "Too many reads from this address (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, description = "Overloaded (`overloaded`), timed out (`timeout`) or an upstream is unavailable", body = ErrorResponse)))]
fn action_tip_get() {}

#[utoipa::path(post, path = "/api/actions/tip", tag = "actions", params(TipQuery), request_body = ActionPostRequest,
    responses((status = 200, description = "An unsigned tip: fee payer and only signer is `account`; a System Program transfer of `amount` to the room's host with the room as a read-only reference key, and the SPL Memo `roomcast tip <room>`; `links.next` is the `done` callback", body = TipTransaction),
              (status = 400, description = "`invalid_amount` (missing, not a number, more than 9 decimals, out of 0.001–100 SOL), `invalid_account`, `invalid_body`: `{message, error}`"),
              (status = 403, description = "`account` is the room's host: `{message, error}`"),
              (status = 404, description = "`{message, error}`"), (status = 410, description = "The room has ended: `{message, error}`"),
              (status = 413, description = "Body larger than `ROOMCAST_MAX_BODY_BYTES`"),
              (status = 429, description = "Too many requests from this address (`rate_limited`, with Retry-After)", body = ErrorResponse),
              (status = 503, description = "Overloaded (`overloaded`), timed out (`timeout`) or an upstream is unavailable", body = ErrorResponse)))]
fn action_tip_post() {}

#[utoipa::path(post, path = "/api/actions/tip/done", tag = "actions", params(TipQuery), request_body = TipDoneRequest,
    responses((status = 200, description = "`CompletedAction`: the tip was found on-chain and counted; with the room's totals", body = TipCompleted),
              (status = 400, description = "`invalid_signature`, `invalid_account`, `invalid_body`: `{message, error}`"),
              (status = 404, description = "No tip to this room with that signature has landed (yet), or no such room: `{message, error}`"),
              (status = 429, description = "Too many requests from this address (`rate_limited`, with Retry-After)", body = ErrorResponse)))]
fn action_tip_done() {}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "wallet_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Roomcast-Signature",
                "ed25519 signature by the host wallet (with X-Roomcast-Wallet and X-Roomcast-Timestamp) over \
                 `roomcast-auth-v2\\n<AUDIENCE>\\n<METHOD>\\n<PATH_AND_QUERY>\\n<TIMESTAMP>\\n<HEX_SHA256_OF_BODY>`, where AUDIENCE is `authAudience` from GET /api/info",
            ))),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Session token (`rcs_…`) from POST /api/auth/sign-in"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("ROOMCAST_OPERATOR_KEY"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "roomcast API", description = "Livestream rooms: registry on Solana, video on Cloudflare Stream."),
    paths(create, livestream, list_rooms, show_room, update_room, end_room, end_by_session, rotate_key, info,
          cloudflare_webhook, reconcile, openapi_json, healthz, ping, readyz, metrics, room_events, auth_nonce, auth_sign_in,
          auth_sign_out, action_end_room_get, action_end_room_post, actions_json, action_tip_get, action_tip_post, action_tip_done, room_playback),
    components(schemas(CreateResponse, LivestreamResponse, RoomChangeResponse, RotateKeyResponse, RoomFields, IngestDetails,
        RtmpsIngest, SrtIngest, WebRtcIngest, PlaybackUrlsDoc, LivePlayback, Protocol, Broadcast, EncoderError, Phase, RoomList, RoomListItem,
        PublicInfo, EmbeddedInfo, ReconcileReport, ErrorResponse, ErrorDetail, CreateRequestDoc, UpdateRequestDoc, EndRequestDoc,
        RoomEvent, SignInInput, SignInRequest, SessionResponse, ActionMetadata, ActionMessage, ActionPostRequest, ActionTransaction,
        TipActionMetadata, TipLinks, LinkedAction, ActionParameter, TipTransaction, NextLinks, NextActionLink, TipDoneRequest, TipCompleted,
        crate::live::tips::TipTotals, crate::live::tips::TipEvent,
        GateView, PlaybackGrant, SignedPlayback, GateRequestDoc)),
    modifiers(&Security),
    tags((name = "rooms", description = "Hosts and the operator: create, change, end"),
         (name = "viewers", description = "Public reads; never contain a secret"),
         (name = "operations", description = "Health, metrics, webhooks, reconciliation"),
         (name = "auth", description = "Sign-In With Solana: one wallet signature, then a short-lived session token"),
         (name = "actions", description = "Solana Actions (Blinks): wallet-signed transactions")),
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The document as committed in `docs/openapi.json`.
pub fn pretty_json() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().expect("serializable");
    text.push('\n');
    text
}
