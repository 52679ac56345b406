//! Every rejection of the API through the built binary, with exact status and error code, and
//! both upstreams checked afterwards (nothing created, nothing changed).
use crate::support;

use std::sync::OnceLock;

use roomcast_chain::{Keypair, Pubkey, RoomStatus, Signer};
use serde_json::{json, Value};
use support::*;

static SERVER: OnceLock<ServerInfo> = OnceLock::new();

fn server() -> &'static ServerInfo {
    Server::shared(&SERVER, &[])
}

/// Nothing exists for `host` on either side.
async fn assert_nothing_for(s: &ServerInfo, host: &Pubkey) {
    assert_eq!(
        s.rooms(Some(*host)).await.len(),
        0,
        "no room on-chain for {host}"
    );
    assert_eq!(
        s.emulator().inputs_of(host).await.len(),
        0,
        "no live input for {host}"
    );
}

/// A room hosted by a fresh wallet (created by the operator), with its session id and address.
async fn room_of(s: &ServerInfo, title: &str) -> (Keypair, String, Pubkey) {
    let host = wallet();
    let created = s.api().create_for(&host.pubkey(), title).await;
    let uid = created.str("sessionId");
    let room = s.room_address(&uid);
    (host, uid, room)
}

fn create_body(title: &str) -> Value {
    json!({ "title": title })
}

#[tokio::test]
async fn missing_and_malformed_credentials_are_401() {
    let s = server();
    let api = s.api();
    let host = wallet();
    let body = serde_json::to_vec(&create_body("No auth")).unwrap();
    let ct = Some("application/json");

    api.raw("POST", "/api/create", body.clone(), ct, Auth::None, &[])
        .await
        .assert_error(401, "missing_credentials");
    // Only some of the three headers.
    let mut partial = api
        .host_headers(&host, "POST", "/api/create", now_secs(), &body)
        .await;
    partial.remove(2);
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(partial),
        &[],
    )
    .await
    .assert_error(401, "incomplete_signature");
    // Not a base58 wallet.
    let mut bad_wallet = api
        .host_headers(&host, "POST", "/api/create", now_secs(), &body)
        .await;
    bad_wallet[0].1 = "not-a-wallet!".into();
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(bad_wallet),
        &[],
    )
    .await
    .assert_error(401, "invalid_wallet");
    // Not unix seconds.
    let mut bad_ts = api
        .host_headers(&host, "POST", "/api/create", now_secs(), &body)
        .await;
    bad_ts[1].1 = "yesterday".into();
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(bad_ts),
        &[],
    )
    .await
    .assert_error(401, "invalid_timestamp");
    // Not a base58 signature.
    let mut bad_sig = api
        .host_headers(&host, "POST", "/api/create", now_secs(), &body)
        .await;
    bad_sig[2].1 = "0OIl".into();
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(bad_sig),
        &[],
    )
    .await
    .assert_error(401, "invalid_signature");
    // Operator: wrong key, wrong scheme.
    let wrong_key = vec![(
        "authorization".to_string(),
        "Bearer not-the-operator-key".to_string(),
    )];
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(wrong_key),
        &[],
    )
    .await
    .assert_error_message(401, "invalid_operator_key", "the operator key is not valid");
    let basic = vec![("authorization".to_string(), format!("Basic {OPERATOR_KEY}"))];
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(basic),
        &[],
    )
    .await
    .assert_error(401, "invalid_authorization");
    // The scheme is case-insensitive; the key is not.
    let lower = vec![(
        "authorization".to_string(),
        format!("bearer {OPERATOR_KEY}"),
    )];
    let for_host = serde_json::to_vec(
        &json!({"title": "Lowercase scheme", "host": host.pubkey().to_string()}),
    )
    .unwrap();
    let r = api
        .raw(
            "POST",
            "/api/create",
            for_host,
            ct,
            Auth::Headers(lower),
            &[],
        )
        .await;
    r.assert_status(201);
    let upper_key = vec![(
        "authorization".to_string(),
        format!("Bearer {}", OPERATOR_KEY.to_uppercase()),
    )];
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(upper_key),
        &[],
    )
    .await
    .assert_error(401, "invalid_operator_key");
    assert_eq!(
        s.rooms(Some(host.pubkey())).await.len(),
        1,
        "only the lowercase-scheme create made a room"
    );
    assert_eq!(s.emulator().inputs_of(&host.pubkey()).await.len(), 1);
    s.api()
        .call(
            "POST",
            &format!("/api/rooms/{}/end", r.str("room")),
            None,
            Auth::Operator,
        )
        .await
        .assert_status(200);

    // Every change route needs credentials too.
    let (_, uid, room) = room_of(s, "Needs auth").await;
    api.call(
        "PATCH",
        &format!("/api/rooms/{room}"),
        Some(&json!({"title": "x"})),
        Auth::None,
    )
    .await
    .assert_error(401, "missing_credentials");
    api.call("POST", &format!("/api/rooms/{room}/end"), None, Auth::None)
        .await
        .assert_error(401, "missing_credentials");
    api.call(
        "POST",
        &format!("/api/rooms/{room}/rotate-key"),
        None,
        Auth::None,
    )
    .await
    .assert_error(401, "missing_credentials");
    api.call(
        "POST",
        "/api/end",
        Some(&json!({"sessionId": uid})),
        Auth::None,
    )
    .await
    .assert_error(401, "missing_credentials");
    let on_chain = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(
        (on_chain.status, on_chain.title.as_str()),
        (RoomStatus::Created, "Needs auth")
    );
    assert_eq!(s.emulator().input(&uid).await.unwrap()["enabled"], true);
}

#[tokio::test]
async fn bad_old_and_replayed_signatures_are_401() {
    let s = server();
    let api = s.api();
    let host = wallet();
    let other = wallet();
    let body = serde_json::to_vec(&create_body("Signed show")).unwrap();
    let ct = Some("application/json");
    let now = now_secs();

    // Signed by another key than X-Roomcast-Wallet names.
    let mut forged = api
        .host_headers(&other, "POST", "/api/create", now, &body)
        .await;
    forged[0].1 = host.pubkey().to_string();
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(forged),
        &[],
    )
    .await
    .assert_error_message(
        401,
        "invalid_signature",
        "the signature does not match the request",
    );
    // Signed over another body, path, method or timestamp than sent.
    let other_body = serde_json::to_vec(&create_body("Other show")).unwrap();
    for headers in [
        api.host_headers(&host, "POST", "/api/create", now, &other_body)
            .await,
        api.host_headers(&host, "POST", "/api/create?x=1", now, &body)
            .await,
        api.host_headers(&host, "PUT", "/api/create", now, &body)
            .await,
    ] {
        api.raw(
            "POST",
            "/api/create",
            body.clone(),
            ct,
            Auth::Headers(headers),
            &[],
        )
        .await
        .assert_error(401, "invalid_signature");
    }
    let mut shifted = api
        .host_headers(&host, "POST", "/api/create", now, &body)
        .await;
    shifted[1].1 = (now - 1).to_string();
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(shifted),
        &[],
    )
    .await
    .assert_error(401, "invalid_signature");
    // Old and future timestamps (the server allows 300 s of skew), validly signed.
    for ts in [now - 600, now + 600] {
        api.raw(
            "POST",
            "/api/create",
            body.clone(),
            ct,
            Auth::HostAt(&host, ts),
            &[],
        )
        .await
        .assert_error(401, "stale_timestamp");
    }
    assert_nothing_for(s, &host.pubkey()).await;

    // A valid signature works once, even a little old; the very same request again is a replay.
    let signed = api
        .host_headers(&host, "POST", "/api/create", now - 100, &body)
        .await;
    let first = api
        .raw(
            "POST",
            "/api/create",
            body.clone(),
            ct,
            Auth::Headers(signed.clone()),
            &[],
        )
        .await;
    first.assert_status(201);
    api.raw(
        "POST",
        "/api/create",
        body.clone(),
        ct,
        Auth::Headers(signed),
        &[],
    )
    .await
    .assert_error_message(
        401,
        "replayed_signature",
        "this signed request was already used",
    );
    assert_eq!(
        s.rooms(Some(host.pubkey())).await.len(),
        1,
        "the replay created no second room"
    );
    assert_eq!(
        s.emulator().inputs_of(&host.pubkey()).await.len(),
        1,
        "the replay created no second live input"
    );

    // Replaying a signed change is refused too (and changes nothing).
    let room = s.room_address(&first.str("sessionId"));
    let patch = serde_json::to_vec(&json!({"title": "Renamed once"})).unwrap();
    let path = format!("/api/rooms/{room}");
    let signed = api
        .host_headers(&host, "PATCH", &path, now_secs(), &patch)
        .await;
    api.raw(
        "PATCH",
        &path,
        patch.clone(),
        ct,
        Auth::Headers(signed.clone()),
        &[],
    )
    .await
    .assert_status(200);
    api.call(
        "PATCH",
        &path,
        Some(&json!({"title": "Renamed twice"})),
        Auth::Host(&host),
    )
    .await
    .assert_status(200);
    api.raw("PATCH", &path, patch, ct, Auth::Headers(signed), &[])
        .await
        .assert_error(401, "replayed_signature");
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().title,
        "Renamed twice",
        "the replay did not rename it back"
    );
}

#[tokio::test]
async fn someone_elses_room_is_403() {
    let s = server();
    let api = s.api();
    let emu = s.emulator();
    let (_, uid, room) = room_of(s, "Mine").await;
    let key_before = emu.input(&uid).await.unwrap()["rtmps"]["streamKey"].clone();
    let stranger = wallet();

    api.call(
        "PATCH",
        &format!("/api/rooms/{room}"),
        Some(&json!({"title": "Theirs now"})),
        Auth::Host(&stranger),
    )
    .await
    .assert_error_message(
        403,
        "forbidden",
        "only the room's host or the operator may change this room",
    );
    api.call(
        "POST",
        &format!("/api/rooms/{room}/rotate-key"),
        None,
        Auth::Host(&stranger),
    )
    .await
    .assert_error(403, "forbidden");
    api.call(
        "POST",
        &format!("/api/rooms/{room}/end"),
        None,
        Auth::Host(&stranger),
    )
    .await
    .assert_error(403, "forbidden");
    api.call(
        "POST",
        "/api/end",
        Some(&json!({"sessionId": uid})),
        Auth::Host(&stranger),
    )
    .await
    .assert_error(403, "forbidden");

    let on_chain = s.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(
        (on_chain.status, on_chain.title.as_str()),
        (RoomStatus::Created, "Mine")
    );
    let input = emu.input(&uid).await.unwrap();
    assert_eq!(input["enabled"], true);
    assert_eq!(
        input["rtmps"]["streamKey"], key_before,
        "the key was not rotated"
    );

    // A wallet cannot create a room for another host.
    let victim = wallet();
    api.call(
        "POST",
        "/api/create",
        Some(&json!({"title": "Yours", "host": victim.pubkey().to_string()})),
        Auth::Host(&stranger),
    )
    .await
    .assert_error_message(403, "forbidden", "a wallet can only create rooms it hosts");
    assert_nothing_for(s, &victim.pubkey()).await;
    assert_nothing_for(s, &stranger.pubkey()).await;
    // Naming itself as host is fine.
    let own = api
        .call(
            "POST",
            "/api/create",
            Some(&json!({"title": "Own", "host": stranger.pubkey().to_string()})),
            Auth::Host(&stranger),
        )
        .await;
    own.assert_status(201);
    assert_eq!(own.json["host"], stranger.pubkey().to_string());
}

#[tokio::test]
async fn titles_are_bounded_in_utf8_bytes() {
    let s = server();
    let api = s.api();

    // (title, accepted?) around the 100-byte bound, with multi-byte characters at the edge.
    let cases: Vec<(String, bool)> = vec![
        ("a".repeat(100), true),
        ("a".repeat(101), false),
        ("é".repeat(50), true),                     // 100 bytes, 50 characters
        (format!("a{}", "é".repeat(50)), false),    // 101 bytes, 51 characters
        (format!("{}😀", "a".repeat(96)), true), // 100 bytes: the emoji's 4 bytes end at the bound
        (format!("{}😀", "a".repeat(97)), false), // 101 bytes: the emoji straddles it
        (format!("{}日本", "a".repeat(94)), true), // 100 bytes
        (format!("{}日本", "a".repeat(95)), false), // 101 bytes
    ];
    for (title, accepted) in cases {
        let host = wallet();
        let r = api
            .call(
                "POST",
                "/api/create",
                Some(&create_body(&title)),
                Auth::Host(&host),
            )
            .await;
        if accepted {
            r.assert_status(201);
            assert_eq!(r.json["title"], title.as_str());
            let room = s.room_address(&r.str("sessionId"));
            assert_eq!(
                s.chain_reader().room(&room).await.unwrap().unwrap().title,
                title,
                "stored exactly, not truncated"
            );
            assert_eq!(
                s.emulator().input(&r.str("sessionId")).await.unwrap()["meta"]["name"],
                title.as_str()
            );
        } else {
            r.assert_error_message(
                400,
                "invalid_title",
                &format!(
                    "title is {} bytes; at most 100 bytes of UTF-8 are allowed",
                    title.len()
                ),
            );
            assert_nothing_for(s, &host.pubkey()).await;
        }
    }

    // Empty, blank and missing titles.
    let host = wallet();
    for (body, message) in [
        (json!({"title": ""}), "title must not be empty"),
        (json!({"title": " \t "}), "title must not be empty"),
        (json!({}), "title is required"),
        (json!({"title": null}), "title is required"),
    ] {
        api.call("POST", "/api/create", Some(&body), Auth::Host(&host))
            .await
            .assert_error_message(400, "invalid_title", message);
    }
    assert_nothing_for(s, &host.pubkey()).await;

    // PATCH has the same bound, and a refused title changes nothing.
    let (host, _, room) = room_of(s, "Short").await;
    let path = format!("/api/rooms/{room}");
    api.call(
        "PATCH",
        &path,
        Some(&json!({"title": format!("{}😀", "a".repeat(97))})),
        Auth::Host(&host),
    )
    .await
    .assert_error(400, "invalid_title");
    api.call(
        "PATCH",
        &path,
        Some(&json!({"title": "  "})),
        Auth::Host(&host),
    )
    .await
    .assert_error(400, "invalid_title");
    api.call("PATCH", &path, Some(&json!({})), Auth::Host(&host))
        .await
        .assert_error(400, "invalid_title");
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().title,
        "Short"
    );
    let edge = "é".repeat(50);
    let r = api
        .call(
            "PATCH",
            &path,
            Some(&json!({"title": edge})),
            Auth::Host(&host),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        s.chain_reader().room(&room).await.unwrap().unwrap().title,
        edge
    );
}

#[tokio::test]
async fn unknown_rooms_are_404_and_bad_ids_400() {
    let s = server();
    let api = s.api();
    let nobody = Pubkey::new_unique();
    let unknown_uid = "0123456789abcdef0123456789abcdef";
    let unknown_room = s.room_address(unknown_uid);

    api.get(&format!("/api/rooms/{nobody}"))
        .await
        .assert_error(404, "not_found");
    api.get(&format!("/api/rooms/{unknown_uid}"))
        .await
        .assert_error(404, "not_found");
    api.get(&format!("/api/livestream?sessionId={unknown_uid}"))
        .await
        .assert_error(404, "not_found");
    api.get(&format!("/api/livestream?room={unknown_room}"))
        .await
        .assert_error(404, "not_found");
    // An account that exists but is not a room (the registry itself).
    api.get(&format!("/api/rooms/{}", s.registry))
        .await
        .assert_error(404, "not_found");
    let host = wallet();
    for auth in [Auth::Operator, Auth::Host(&host)] {
        let op = matches!(auth, Auth::Operator);
        api.call(
            "PATCH",
            &format!("/api/rooms/{unknown_room}"),
            Some(&json!({"title": "x"})),
            auth,
        )
        .await
        .assert_error(404, "not_found");
        let auth = if op {
            Auth::Operator
        } else {
            Auth::Host(&host)
        };
        api.call(
            "POST",
            &format!("/api/rooms/{unknown_room}/end"),
            None,
            auth,
        )
        .await
        .assert_error(404, "not_found");
        let auth = if op {
            Auth::Operator
        } else {
            Auth::Host(&host)
        };
        api.call(
            "POST",
            &format!("/api/rooms/{unknown_room}/rotate-key"),
            None,
            auth,
        )
        .await
        .assert_error(404, "not_found");
        let auth = if op {
            Auth::Operator
        } else {
            Auth::Host(&host)
        };
        api.call(
            "POST",
            "/api/end",
            Some(&json!({"sessionId": unknown_uid})),
            auth,
        )
        .await
        .assert_error(404, "not_found");
    }
    assert!(s
        .chain_reader()
        .room(&unknown_room)
        .await
        .unwrap()
        .is_none());
    assert!(s.emulator().input(unknown_uid).await.is_none());

    // Ids that are neither an address nor a session id; bad queries.
    api.get("/api/rooms/not-a-room")
        .await
        .assert_error(400, "invalid_room_id");
    api.get("/api/livestream?sessionId=ABCDEF")
        .await
        .assert_error(400, "invalid_room_id");
    api.get("/api/livestream").await.assert_error_message(
        400,
        "invalid_query",
        "sessionId or room is required",
    );
    api.get(&format!(
        "/api/livestream?sessionId={unknown_uid}&room={unknown_room}"
    ))
    .await
    .assert_error_message(
        400,
        "invalid_query",
        "give either sessionId or room, not both",
    );
    // A repeated parameter is a JSON 400 (axum's own rejection is plain text), on every route
    // that reads a query: the viewer answer, discovery, and the Actions.
    api.get(&format!(
        "/api/livestream?room={unknown_room}&room={unknown_room}"
    ))
    .await
    .assert_error_message(
        400,
        "invalid_query",
        "invalid query: duplicate field `room`",
    );
    api.get("/api/rooms?limit=5&limit=6")
        .await
        .assert_error_message(
            400,
            "invalid_query",
            "invalid query: duplicate field `limit`",
        );
    // (Actions answer the spec's top-level `message` beside the usual `error`.)
    let action = api
        .get(&format!(
            "/api/actions/tip?room={unknown_room}&room={unknown_room}"
        ))
        .await;
    assert_eq!(action.status, 400, "{}", action.text);
    assert_eq!(
        action.json,
        json!({
            "message": "invalid query: duplicate field `room`",
            "error": {"code": "invalid_query", "message": "invalid query: duplicate field `room`"}
        })
    );
    api.call("POST", "/api/end", Some(&json!({})), Auth::Operator)
        .await
        .assert_error(400, "invalid_body");
    // Unknown routes are JSON 404s too.
    api.get("/api/nope").await.assert_error(404, "not_found");
}

#[tokio::test]
async fn malformed_oversize_and_mistyped_bodies() {
    let s = server();
    let api = s.api();
    let host = wallet();
    let ct = Some("application/json");
    let for_host = |title: &str| {
        serde_json::to_vec(&json!({"title": title, "host": host.pubkey().to_string()})).unwrap()
    };

    // Malformed JSON: 400 invalid_json, from the operator and from a signing host.
    let broken = br#"{"title": "Broken", "host": "#.to_vec();
    let r = api
        .raw(
            "POST",
            "/api/create",
            broken.clone(),
            ct,
            Auth::Operator,
            &[],
        )
        .await;
    r.assert_error(400, "invalid_json");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("request body: "),
        "{}",
        r.text
    );
    api.raw("POST", "/api/create", broken, ct, Auth::Host(&host), &[])
        .await
        .assert_error(400, "invalid_json");
    api.raw(
        "POST",
        "/api/create",
        b"[1,2".to_vec(),
        ct,
        Auth::Operator,
        &[],
    )
    .await
    .assert_error(400, "invalid_json");
    // Well-formed but wrong: unknown field, wrong type.
    api.call(
        "POST",
        "/api/create",
        Some(&json!({"title": "x", "host": host.pubkey().to_string(), "extra": 1})),
        Auth::Operator,
    )
    .await
    .assert_error(400, "invalid_body");
    api.call(
        "POST",
        "/api/create",
        Some(&json!({"title": 42, "host": host.pubkey().to_string()})),
        Auth::Operator,
    )
    .await
    .assert_error(400, "invalid_body");

    // Too large: one byte over the 16 KiB default is 413 (before any authentication) ...
    let mut big = for_host("Big");
    let pad = 16 * 1024 + 1 - big.len();
    big.splice(
        1..1,
        format!("\"pad\":\"{}\",", "p".repeat(pad - 9)).into_bytes(),
    );
    assert_eq!(big.len(), 16 * 1024 + 1);
    api.raw("POST", "/api/create", big.clone(), ct, Auth::Operator, &[])
        .await
        .assert_error_message(
            413,
            "payload_too_large",
            "request body is larger than 16384 bytes",
        );
    api.raw("POST", "/api/create", big, ct, Auth::None, &[])
        .await
        .assert_error(413, "payload_too_large");
    // ... while exactly 16 KiB is read and judged on its content (here: a title far over 100 bytes).
    let mut at_limit =
        serde_json::to_vec(&json!({"title": "", "host": host.pubkey().to_string()})).unwrap();
    let fill = 16 * 1024 - at_limit.len();
    at_limit.splice(10..10, std::iter::repeat_n(b't', fill));
    assert_eq!(at_limit.len(), 16 * 1024);
    api.raw("POST", "/api/create", at_limit, ct, Auth::Operator, &[])
        .await
        .assert_error(400, "invalid_title");

    // Wrong or missing content type: 415.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        api.raw(
            "POST",
            "/api/create",
            for_host("Typed"),
            content_type,
            Auth::Operator,
            &[],
        )
        .await
        .assert_error_message(
            415,
            "unsupported_media_type",
            "expected a JSON body (content-type: application/json)",
        );
    }
    // Parameters after the media type are fine.
    let ok = api
        .raw(
            "POST",
            "/api/create",
            for_host("Typed"),
            Some("application/json; charset=utf-8"),
            Auth::Operator,
            &[],
        )
        .await;
    ok.assert_status(201);
    assert_eq!(
        s.rooms(Some(host.pubkey())).await.len(),
        1,
        "only the last create made a room"
    );
    assert_eq!(s.emulator().inputs_of(&host.pubkey()).await.len(), 1);
}

#[tokio::test]
async fn operator_must_name_a_valid_host() {
    let s = server();
    let api = s.api();
    api.call(
        "POST",
        "/api/create",
        Some(&json!({"title": "Whose?"})),
        Auth::Operator,
    )
    .await
    .assert_error_message(
        400,
        "host_required",
        "the operator must name the room's host",
    );
    api.call(
        "POST",
        "/api/create",
        Some(&json!({"title": "Whose?", "host": "not base58!"})),
        Auth::Operator,
    )
    .await
    .assert_error_message(400, "invalid_host", "host must be a base58 wallet address");
    // Neither reached Cloudflare or the chain: no input or room carries this title.
    assert!(s
        .emulator()
        .inputs()
        .await
        .iter()
        .all(|i| i["meta"]["name"] != "Whose?"));
    assert!(s.rooms(None).await.iter().all(|r| r.room.title != "Whose?"));
}
