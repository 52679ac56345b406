//! A local stand-in for Cloudflare Stream (live inputs + delivery), used by
//! tests and as the API server's embedded default.
//!
//! # API routes (same paths, envelope and shapes as Cloudflare)
//! Under `/client/v4/accounts/{account_id}/stream/live_inputs`:
//! `POST` create, `GET` list, `GET|PUT|DELETE /{uid}`, `POST /{uid}/rotate_keys`,
//! `GET /{uid}/videos`. Every call needs `Authorization: Bearer <token>`:
//! missing/not Bearer/empty → 401, wrong token → 403 (code 10000; the
//! legacy `X-Auth-Email`/`X-Auth-Key` pair is not emulated). An unknown account id → 404
//! (code 7003, "Could not route..."), following the issue; real Cloudflare
//! may answer 403 for accounts the token cannot see. Unknown input → 404
//! (code 10003). Invalid bodies → 400 (code 10005), e.g.
//! `deleteRecordingAfterDays` outside 30..=1096. DELETE answers 200 with an
//! empty body. The numeric codes are emulator choices (the reference found
//! no authoritative list); branch on HTTP status, as the client does.
//!
//! # Delivery routes (the `customer-<code>.cloudflarestream.com` host)
//! `GET /{uid}/manifest/video.m3u8` and `.mpd`: 204 while the input is idle
//! (or records nothing: `recording.mode = "off"`), a manifest while live;
//! video uids are served too. A broadcast published over RTMP serves its real
//! fMP4 HLS (`no-cache`, CORS) and `GET /{uid}/manifest/{init.mp4|segNNNNN.m4s}`;
//! one started through the control API gets a placeholder manifest (so does
//! `.mpd` always). `GET /{uid}/lifecycle` → `{isInput, videoUID, live}` (`live` while an
//! encoder is connected, recorded or not; `videoUID` null when nothing is recorded);
//! `GET /{uid}/views` → `{liveViewers}`; `GET /{uid}/iframe` → the player page
//! (hls.js from `GET /player/hls-<version>.min.js`).
//! URLs inside API responses keep the real hosts (`https://customer-<code>...`);
//! `rtmps.url` is `rtmp://<rtmp listener>/live/` when RTMP ingest runs
//! ([`EmulatorOptions::rtmp_listen`], see [`crate::media`]), otherwise
//! `rtmps://live.cloudflare.com:443/live/`.
//!
//! # Control routes (`/__emulator`, no auth; tests only)
//! | Method & path | Body | Effect |
//! |---|---|---|
//! | `GET /__emulator/health` | | `{ok, apiBaseUrl, deliveryBaseUrl, accountId, customerCode, videoIngest}` |
//! | `GET /__emulator/inputs` | | all inputs, full objects |
//! | `GET /__emulator/inputs/{uid}` | | one input (404 if unknown) |
//! | `GET /__emulator/inputs/{uid}/videos` | | its videos, newest first (as the account API) |
//! | `POST /__emulator/inputs/{uid}/connect` | | encoder connects (409 if disabled/already connected) |
//! | `POST /__emulator/inputs/{uid}/disconnect` | | encoder disconnects (409 if not connected) |
//! | `POST /__emulator/inputs/{uid}/error` | `{"code":"ERR_GOP_OUT_OF_RANGE","message"?:..}` | `live_input.errored` |
//! | `PUT /__emulator/inputs/{uid}/views` | `{"liveViewers":n}` | sets the viewer count |
//! | `PUT /__emulator/webhook` | `{"url":..,"secret"?:..}` | notification target |
//! | `DELETE /__emulator/webhook` | | no notifications |
//! | `GET /__emulator/webhook/deliveries` | | notifications sent so far |
//! | `POST /__emulator/faults` | `{"route":"live_inputs.get","fault":{"kind":"rate_limited","retry_after_secs":1},"times":2}` | fault for the next N calls |
//! | `DELETE /__emulator/faults` | | clears faults |
//! | `GET /__emulator/calls` / `DELETE` | | per-route call counters / reset |
//! | `POST /__emulator/reset` | | forget inputs, videos, faults, counters, deliveries |
//!
//! Fault kinds: `latency{ms}`, `rate_limited{retry_after_secs}`,
//! `server_error{status}` (500-599), `status{status}` (400-599), `hang`
//! (answers 503 only when the emulator shuts down), `malformed` (200 with
//! truncated JSON). Route names are
//! those of [`Route::as_str`]. Encoder-control answers are
//! `{event, videoUID, webhook}` where `webhook` is the delivery record with
//! [`WebhookTiming::Synchronous`] (null otherwise, or when no webhook is
//! configured); errors are `{"error": "..."}`.
//! Notifications are sent like Cloudflare's: after whatever caused them, in
//! the background, through one ordered queue, each a small delay plus jitter
//! after it happened ([`WebhookTiming::Asynchronous`], the default), so a
//! receiver must not assume a notification has arrived when a control call
//! answers, and an API caller that is also the receiver cannot deadlock. Only
//! [`WebhookTiming::Synchronous`] (in-process option, for tests about one
//! delivery's result) delivers a control call's notification before it answers.
//!
//! # Where things are
//! | file | what it holds |
//! |---|---|
//! | `options.rs` | flags, start options, [`VideoIngest`] |
//! | `start.rs` | [`Emulator::start`] (listeners, video ingest, tasks) and [`run`] |
//! | `handle.rs` | [`EmulatorHandle`]: what a test or the server drives |
//! | `service.rs` | the running emulator shared by handlers, ingest and handle; encoder control |
//! | `state.rs` | everything behind its one lock |
//! | `inputs.rs` | live inputs: create, list, get, update, delete, rotate; their videos |
//! | `broadcast.rs` | encoder transitions: connect, disconnect, error, end of a broadcast |
//! | `patch.rs` | create/update bodies: validation and `recording` |
//! | `ids.rs` | uids, secrets, hosts, ingest URLs, timestamps shaped like Cloudflare's |
//! | `route.rs`, `faults.rs` | route names; injectable faults and their queue |
//! | `gate.rs` | counting, fault application and authentication around every route |
//! | `envelope.rs` | the v4 answer envelope |
//! | `webhook.rs`, `notify.rs` | notification target, deliveries, a transition's notification; sending them (the body is [`crate::notifications`]) |
//! | `routes.rs`, `delivery.rs`, `control.rs` | the account API, the delivery host, `/__emulator` |
//! | `viewers.rs`, `player.rs` | live viewer counts; the player page and hls.js |
//! | `ingest.rs`, `persist.rs` | real RTMP publishes ([`crate::media`]); inputs kept across restarts |

mod broadcast;
mod control;
mod delivery;
mod envelope;
mod faults;
mod gate;
mod handle;
mod ids;
mod ingest;
mod inputs;
mod keys;
mod notify;
mod options;
mod patch;
mod persist;
mod player;
mod publish;
mod route;
mod routes;
mod service;
mod start;
mod state;
mod viewers;
mod webhook;
mod webrtc;

pub use broadcast::ControlError;
pub use faults::Fault;
pub use handle::EmulatorHandle;
pub use ingest::APP as RTMP_APP;
pub use options::{
    EmulatorArgs, EmulatorOptions, VideoIngest, WebhookTiming, DEFAULT_CUSTOMER_CODE,
};
pub use persist::InputStore;
pub use route::Route;
pub use service::ControlOutcome;
pub use start::{run, Emulator};
pub use webhook::{WebhookDelivery, WebhookTarget};

pub use crate::media::rtmp::{RtmpDrops, RtmpLimits};
pub use crate::media::webrtc::WebRtcLimits;
