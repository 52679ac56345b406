//! Signed URLs as Cloudflare enforces them: the signing keys API (`/stream/keys`, through the typed
//! client and raw HTTP) and delivery of an input with `recording.requireSignedURLs` — unsigned,
//! tampered, expired, not-yet-valid, unknown-key and revoked-key tokens are 401, an access rule's
//! block and a foreign `Origin` 403; a good token plays.

mod common;

use base64::Engine as _;
use common::*;
use reqwest::{Client, StatusCode};
use roomcast_stream::client::{CreateLiveInput, Recording, RecordingMode, StreamError};
use roomcast_stream::signed_urls::{AccessRule, Claims, SigningKey};
use serde_json::{json, Value};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn signed_input() -> CreateLiveInput {
    CreateLiveInput {
        recording: Some(Recording {
            mode: RecordingMode::Automatic,
            require_signed_urls: Some(true),
            allowed_origins: Some(vec!["*.example.com".into(), "localhost:3000".into()]),
            ..Recording::default()
        }),
        ..CreateLiveInput::default()
    }
}

async fn status(http: &Client, url: &str) -> StatusCode {
    http.get(url).send().await.unwrap().status()
}

#[tokio::test]
async fn signing_keys_are_shown_once_listed_and_revoked() {
    let emu = emulator().await;
    let http = Client::new();
    let base = format!("{}/accounts/{ACCOUNT}/stream/keys", emu.api_base_url());
    let created: Value = http
        .post(&base)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["success"], true, "{created}");
    let id = created["result"]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    let pem = base64::engine::general_purpose::STANDARD
        .decode(created["result"]["pem"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8(pem)
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let jwk: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(created["result"]["jwk"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (&jwk["kid"], &jwk["alg"], &jwk["kty"]),
        (&json!(id), &json!("RS256"), &json!("RSA"))
    );
    assert_eq!(jwk["e"], "AQAB");

    // The typed client: create, list (ids and times only: no private half), delete.
    let client = client(&emu);
    let second = client.create_signing_key().await.unwrap();
    assert!(
        !format!("{second:?}").contains("BEGIN"),
        "Debug never shows the key"
    );
    let listed = client.list_signing_keys().await.unwrap();
    let mut ids: Vec<_> = listed.iter().map(|k| k.id.clone()).collect();
    ids.sort();
    let mut expected = vec![id.clone(), second.id().to_string()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(listed.iter().all(|k| k.created.is_some()));
    let raw_list: Value = http
        .get(&base)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!raw_list.to_string().contains("pem"), "{raw_list}");

    let revoked: Value = http
        .delete(format!("{base}/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revoked["result"], "Revoked");
    client.delete_signing_key(second.id()).await.unwrap();
    assert_eq!(client.list_signing_keys().await.unwrap(), vec![]);
    match client.delete_signing_key(second.id()).await {
        Err(StreamError::NotFound {
            status: 404,
            errors,
        }) => {
            assert_eq!(errors[0].code, 10003);
        }
        other => panic!("expected 404, got {other:?}"),
    }
    // Without the API token: 401 as every account route.
    assert_eq!(http.post(&base).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn an_input_that_requires_signed_urls_plays_only_with_a_valid_token() {
    let emu = emulator().await;
    let client = client(&emu);
    let http = Client::new();
    let d = emu.delivery_base_url();
    let input = client.create_live_input(&signed_input()).await.unwrap();
    let uid = input.uid.clone();
    let key = client.create_signing_key().await.unwrap();
    let control = format!("{d}/__emulator/inputs/{uid}/connect");
    assert_eq!(http.post(&control).send().await.unwrap().status(), 200);

    // Unsigned: manifest, DASH, iframe and thumbnail all refused; lifecycle stays public.
    for tail in [
        "manifest/video.m3u8",
        "manifest/video.mpd",
        "iframe",
        "thumbnails/thumbnail.jpg",
    ] {
        assert_eq!(
            status(&http, &format!("{d}/{uid}/{tail}")).await,
            401,
            "{tail}"
        );
    }
    assert_eq!(status(&http, &format!("{d}/{uid}/lifecycle")).await, 200);

    // A good token in place of the uid plays.
    let t = now();
    let good = key.sign(&Claims::new(&uid, t - 60, t + 300));
    let r = http
        .get(format!("{d}/{good}/manifest/video.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("#EXTM3U"));
    let page = http.get(format!("{d}/{good}/iframe")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains(&good),
        "the player plays the token it came with"
    );

    // Tampered (another sub, same signature), expired, not yet valid, signed by a key the account
    // does not have, wrong algorithm, garbage.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let other_claims =
        serde_json::to_vec(&json!({"sub": "0".repeat(32), "kid": key.id(), "exp": t + 300}))
            .unwrap();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(other_claims);
    let tampered = parts.join(".");
    let expired = key.sign(&Claims::new(&uid, t - 600, t - 1));
    let early = key.sign(&Claims::new(&uid, t + 600, t + 900));
    let stranger = SigningKey::generate()
        .unwrap()
        .sign(&Claims::new(&uid, t - 60, t + 300));
    let mut none_alg: Vec<String> = good.split('.').map(str::to_string).collect();
    none_alg[0] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "kid": key.id()}).to_string());
    let none_alg = none_alg.join(".");
    for (what, token) in [
        ("tampered", tampered.as_str()),
        ("expired", expired.as_str()),
        ("not yet valid", early.as_str()),
        ("foreign key", stranger.as_str()),
        ("alg none", none_alg.as_str()),
        ("garbage", "a.b.c"),
    ] {
        assert_eq!(
            status(&http, &format!("{d}/{token}/manifest/video.m3u8")).await,
            401,
            "{what}"
        );
    }

    // Access rules: first match wins; a block of this client's address is 403, an allow of it
    // before a catch-all block plays, a country rule cannot be evaluated locally and never matches.
    let rule = |kind: &str, action: &str, ip: Option<&str>| AccessRule {
        kind: kind.into(),
        action: action.into(),
        ip: ip.map(|i| vec![i.to_string()]),
        country: None,
    };
    let with_rules = |rules: Vec<AccessRule>| {
        let mut c = Claims::new(&uid, t - 60, t + 300);
        c.access_rules = rules;
        key.sign(&c)
    };
    let cases = [
        (vec![rule("ip.src", "block", Some("127.0.0.0/8"))], 403),
        (
            vec![
                rule("ip.src", "allow", Some("10.9.8.0/24")),
                rule("any", "block", None),
            ],
            403,
        ),
        (
            vec![
                rule("ip.src", "allow", Some("127.0.0.1/32")),
                rule("any", "block", None),
            ],
            200,
        ),
        (vec![rule("ip.geoip.country", "block", None)], 200),
    ];
    for (rules, expected) in cases {
        let token = with_rules(rules.clone());
        assert_eq!(
            status(&http, &format!("{d}/{token}/manifest/video.m3u8")).await,
            expected,
            "{rules:?}"
        );
    }

    // allowedOrigins: a page on another origin is refused, a subdomain and the listed localhost port play.
    for (origin, expected) in [
        ("https://evil.test", 403),
        ("https://example.com", 403),
        ("https://app.example.com", 200),
        ("http://localhost:3000", 200),
        ("http://localhost:4000", 403),
    ] {
        let r = http
            .get(format!("{d}/{good}/manifest/video.m3u8"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected, "{origin}");
    }

    // The live video's uid is governed by its input: unsigned 401, signed for the video 200.
    let video = client.live_input_videos(&uid).await.unwrap()[0].uid.clone();
    assert_eq!(
        status(&http, &format!("{d}/{video}/manifest/video.m3u8")).await,
        401
    );
    let for_video = key.sign(&Claims::new(&video, t - 60, t + 300));
    assert_eq!(
        status(&http, &format!("{d}/{for_video}/manifest/video.m3u8")).await,
        200
    );

    // Revoking the key stops every token it signed at once.
    client.delete_signing_key(key.id()).await.unwrap();
    assert_eq!(
        status(&http, &format!("{d}/{good}/manifest/video.m3u8")).await,
        401
    );
    assert_eq!(
        status(&http, &format!("{d}/{for_video}/manifest/video.m3u8")).await,
        401
    );
}

#[tokio::test]
async fn inputs_without_signed_urls_play_unsigned_as_before() {
    let emu = emulator().await;
    let client = client(&emu);
    let http = Client::new();
    let d = emu.delivery_base_url();
    let input = client
        .create_live_input(&CreateLiveInput {
            recording: Some(Recording::automatic()),
            ..CreateLiveInput::default()
        })
        .await
        .unwrap();
    assert_eq!(
        status(&http, &format!("{d}/{}/manifest/video.m3u8", input.uid)).await,
        204
    );
    assert_eq!(
        status(&http, &format!("{d}/{}/iframe", input.uid)).await,
        200
    );
}
