//! README claims that no other test exercised, each through the built binary: CORS on `/api/*` and
//! `ROOMCAST_CORS_ORIGINS`, the webhook route's 404 without a secret, settings from `.env`, the
//! embedded state surviving `kill -9`, and `ROOMCAST_DELETE_RECORDING_AFTER_DAYS` reaching
//! Cloudflare. (MP3 at ingest is in `video.rs`, closed-room 410s after a restart in
//! `replicas.rs`, the session token in page memory only in `web.rs`.)
use crate::support;

use roomcast_chain::Signer;
use support::*;

/// A CORS preflight for a signed create from `origin`: the response headers.
/// A public read (`GET /api/info`) as a page on `origin` sends it.
async fn read_from(api: &Api, origin: &str) -> Resp {
    api.raw(
        "GET",
        "/api/info",
        vec![],
        None,
        Auth::None,
        &[("origin", origin)],
    )
    .await
}

async fn preflight(api: &Api, origin: &str) -> Resp {
    api.raw(
        "OPTIONS",
        "/api/create",
        vec![],
        None,
        Auth::None,
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type,idempotency-key,x-roomcast-wallet,x-roomcast-timestamp,x-roomcast-signature",
            ),
        ],
    )
    .await
}

fn header(r: &Resp, name: &str) -> Option<String> {
    r.headers.get(name).map(|v| v.to_str().unwrap().to_string())
}

/// README: "`ROOMCAST_CORS_ORIGINS` comma-separated origins (default any: auth is not cookie-based)".
#[tokio::test]
async fn cors_on_the_api_allows_any_origin_by_default_and_only_the_listed_ones_when_set() {
    let open = Server::start(&[]);
    let api = open.api();
    let r = preflight(&api, "https://app.example").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    let methods = header(&r, "access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "PATCH"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = header(&r, "access-control-allow-headers").unwrap();
    for h in [
        "content-type",
        "authorization",
        "idempotency-key",
        "x-roomcast-wallet",
        "x-roomcast-timestamp",
        "x-roomcast-signature",
    ] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }
    let read = read_from(&api, "https://x.example").await;
    assert_eq!(read.status, 200);
    assert_eq!(
        header(&read, "access-control-allow-origin").as_deref(),
        Some("*")
    );

    let listed = Server::start(&[(
        "ROOMCAST_CORS_ORIGINS",
        "https://app.example,https://studio.example",
    )]);
    let api = listed.api();
    for origin in ["https://app.example", "https://studio.example"] {
        let r = preflight(&api, origin).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            header(&r, "access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert!(
            header(&r, "vary").unwrap_or_default().contains("origin"),
            "{:?}",
            r.headers
        );
    }
    let r = preflight(&api, "https://evil.example").await;
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        None,
        "{:?}",
        r.headers
    );
    let read = read_from(&api, "https://evil.example").await;
    assert_eq!(
        read.status, 200,
        "CORS is the browser's check; the read itself is public"
    );
    assert_eq!(header(&read, "access-control-allow-origin"), None);
}

/// README: the webhook route exists only with a secret — against a real (here: standalone) Stream
/// account without `CLOUDFLARE_WEBHOOK_SECRET` it is 404; with the embedded emulator the server
/// makes a random secret, so an unauthenticated notification is 401.
#[tokio::test]
async fn the_webhook_route_is_404_without_a_secret_and_401_without_the_right_one() {
    let emulator = EmulatorProc::start();
    let env: Vec<(&str, String)> = emulator.server_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start(&env);
    let notification = serde_json::json!({
        "name": "Live Input",
        "text": "connected",
        "data": {"notification_name": "Stream Live Input", "input_id": "0123456789abcdef0123456789abcdef", "event_type": "live_input.connected", "updated_at": "2026-12-05T10:00:00Z"}
    });
    let r = server
        .api()
        .call(
            "POST",
            "/api/webhooks/cloudflare",
            Some(&notification),
            Auth::None,
        )
        .await;
    r.assert_error_message(
        404,
        "not_found",
        "the Cloudflare webhook is not configured on this server",
    );

    let embedded = Server::start(&[]);
    let r = embedded
        .api()
        .raw(
            "POST",
            "/api/webhooks/cloudflare",
            serde_json::to_vec(&notification).unwrap(),
            Some("application/json"),
            Auth::None,
            &[("cf-webhook-auth", "a guess")],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
}

/// README: "a `.env` file in the working directory is read if present" — and, as dotenv does, a
/// variable the process already has wins over the file.
#[tokio::test]
async fn settings_come_from_a_dotenv_file_in_the_working_directory() {
    let dir = scratch_dir("dotenv");
    std::fs::write(
        dir.join(".env"),
        "# a comment\nROOMCAST_PUBLIC_ORIGIN=https://dotenv.example\nROOMCAST_CORS_ORIGINS=https://from-file.example\n",
    )
    .unwrap();
    let server = Server::start_in(
        dir,
        &[("ROOMCAST_CORS_ORIGINS", "https://from-env.example")],
    );
    let api = server.api();
    let info = api.get("/api/info").await;
    info.assert_status(200);
    assert_eq!(info.json["authAudience"], "https://dotenv.example");
    let nonce = api.get("/api/auth/nonce").await;
    nonce.assert_status(200);
    assert_eq!(nonce.json["domain"], "dotenv.example");
    let r = preflight(&api, "https://from-env.example").await;
    assert_eq!(
        header(&r, "access-control-allow-origin").as_deref(),
        Some("https://from-env.example")
    );
    let r = preflight(&api, "https://from-file.example").await;
    assert_eq!(header(&r, "access-control-allow-origin"), None);
}

/// README: the embedded node's ledger and the emulator's inputs are saved every 2 s (and on
/// shutdown) — so a crash (`kill -9`, no shutdown) loses at most the last moments: a room saved
/// before it is still there after a restart, with its stream key.
#[tokio::test]
async fn embedded_state_survives_kill_9() {
    let dir = scratch_dir("crash-data");
    let data = dir.join("data");
    let env = [
        ("ROOMCAST_EPHEMERAL", "false"),
        ("ROOMCAST_DATA_DIR", data.to_str().unwrap()),
    ];
    let mut first = Server::start(&env);
    let host = wallet();
    let created = first
        .api()
        .create_for(&host.pubkey(), "Crash survivor")
        .await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let key = created.str("StreamKey");
    let room = first.room_address(&uid).to_string();
    // The premise: the periodic save has written both sides (no graceful shutdown will).
    eventually(
        "the periodic save to write the room and its input",
        || async {
            // The snapshot, or the journal the periodic save appends changes to.
            let ledger = std::fs::read_to_string(data.join("ledger.json")).unwrap_or_default()
                + &std::fs::read_to_string(data.join("ledger.json.journal")).unwrap_or_default();
            let inputs =
                std::fs::read_to_string(data.join("stream-inputs.json")).unwrap_or_default();
            (ledger.contains(&room) && inputs.contains(&uid)).then_some(())
        },
    )
    .await;
    first.proc.kill();

    let second = Server::start(&env);
    let shown = second
        .api()
        .get(&format!("/api/livestream?sessionId={uid}"))
        .await;
    shown.assert_status(200);
    assert_eq!(shown.json["room"], room);
    assert_eq!(shown.json["title"], "Crash survivor");
    let input = second.emulator().input(&uid).await.expect("input kept");
    assert_eq!(input["rtmps"]["streamKey"], key.as_str());
}

/// README: `ROOMCAST_DELETE_RECORDING_AFTER_DAYS` (default 45) is what the live input is created
/// with at Cloudflare.
#[tokio::test]
async fn delete_recording_after_days_reaches_cloudflare() {
    let server = Server::start(&[("ROOMCAST_DELETE_RECORDING_AFTER_DAYS", "90")]);
    let created = server
        .api()
        .create_for(&wallet().pubkey(), "Kept 90 days")
        .await;
    created.assert_status(201);
    let input = server
        .emulator()
        .input(&created.str("sessionId"))
        .await
        .unwrap();
    assert_eq!(input["deleteRecordingAfterDays"], 90, "{input}");

    let default = Server::start(&[]);
    let created = default
        .api()
        .create_for(&wallet().pubkey(), "Kept 45 days")
        .await;
    let input = default
        .emulator()
        .input(&created.str("sessionId"))
        .await
        .unwrap();
    assert_eq!(input["deleteRecordingAfterDays"], 45, "{input}");
}
