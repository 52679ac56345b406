//! The emulator over raw HTTP: auth, validation, shapes, delivery, control
//! routes and notifications.

mod common;

use common::*;
use std::sync::atomic::Ordering;

use reqwest::{Client, StatusCode};
use roomcast_stream::emulator::{EmulatorHandle, Route, WebhookTarget, WebhookTiming};
use secrecy::SecretString;
use serde_json::{json, Value};

struct Api {
    http: Client,
    base: String,
    ctl: String,
}

impl Api {
    fn new(emu: &roomcast_stream::emulator::EmulatorHandle) -> Self {
        Self {
            http: Client::new(),
            base: format!(
                "{}/accounts/{ACCOUNT}/stream/live_inputs",
                emu.api_base_url()
            ),
            ctl: format!("{}/__emulator", emu.delivery_base_url()),
        }
    }
    async fn call(
        &self,
        m: reqwest::Method,
        url: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(m, url).bearer_auth(TOKEN);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, v)
    }
    async fn create(&self, body: Value) -> Value {
        let (s, v) = self
            .call(reqwest::Method::POST, &self.base, Some(body))
            .await;
        assert_eq!(s, 200, "{v}");
        v["result"].clone()
    }
    async fn ctl(
        &self,
        m: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(m, &format!("{}{path}", self.ctl), body).await
    }
}

fn err_env(code: i64, message: &str) -> Value {
    json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null})
}

#[tokio::test]
async fn missing_or_malformed_auth_is_401_and_wrong_token_403() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let http = Client::new();
    let r = http.get(&api.base).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        err_env(
            10000,
            "Authentication error: missing Authorization: Bearer header"
        )
    );
    let r = http
        .get(&api.base)
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        err_env(
            10000,
            "Authentication error: Authorization header must be \"Bearer <token>\""
        )
    );
    let r = http
        .get(&api.base)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        err_env(10000, "Authentication error")
    );
    assert_eq!(emu.call_count(Route::ListLiveInputs), 3);
}

#[tokio::test]
async fn unknown_account_input_and_route_are_404_envelopes() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let other = format!("{}/accounts/abc/stream/live_inputs", emu.api_base_url());
    let (s, v) = api.call(reqwest::Method::GET, &other, None).await;
    assert_eq!(s, 404);
    assert_eq!(
        v,
        err_env(7003, "Could not route to /accounts/abc/stream/live_inputs, perhaps your object identifier is invalid?")
    );
    let (s, v) = api
        .call(
            reqwest::Method::GET,
            &format!("{}/deadbeef", api.base),
            None,
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(v, err_env(10003, "Live input deadbeef not found"));
    let (s, v) = api
        .call(
            reqwest::Method::DELETE,
            &format!("{}/deadbeef", api.base),
            None,
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(v, err_env(10003, "Live input deadbeef not found"));
    let (s, v) = api
        .call(
            reqwest::Method::GET,
            &format!("{}/accounts/{ACCOUNT}/stream/nope", emu.api_base_url()),
            None,
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        v,
        err_env(7003, &format!("Could not route to /client/v4/accounts/{ACCOUNT}/stream/nope, perhaps your object identifier is invalid?"))
    );
    let (s, v) = api.call(reqwest::Method::PATCH, &api.base, None).await;
    assert_eq!(s, 405);
    assert_eq!(v, err_env(10405, "Method not allowed for this route"));
}

#[tokio::test]
async fn create_validation_is_400() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let cases = [
        (
            json!({"deleteRecordingAfterDays": 29}),
            "deleteRecordingAfterDays must be an integer between 30 and 1096",
        ),
        (
            json!({"deleteRecordingAfterDays": "x"}),
            "deleteRecordingAfterDays must be an integer between 30 and 1096",
        ),
        (
            json!({"recording": {"mode": "always"}}),
            "recording.mode must be \"off\" or \"automatic\"",
        ),
        (
            json!({"recording": {"timeoutSeconds": -1}}),
            "recording.timeoutSeconds must be a non-negative integer",
        ),
        (
            json!({"recording": {"allowedOrigins": [1]}}),
            "recording.allowedOrigins must be an array of strings",
        ),
        (
            json!({"recording": {"requireSignedURLs": "yes"}}),
            "recording.requireSignedURLs must be a boolean",
        ),
        (json!({"meta": "x"}), "meta must be an object"),
        (
            json!({"defaultCreator": 5}),
            "defaultCreator must be a string",
        ),
        (json!({"enabled": 1}), "enabled must be a boolean"),
        (json!([]), "request body must be a JSON object"),
    ];
    for (body, msg) in cases {
        let (s, v) = api
            .call(reqwest::Method::POST, &api.base, Some(body.clone()))
            .await;
        assert_eq!(s, 400, "{body}");
        assert_eq!(v, err_env(10005, msg), "{body}");
    }
    let r = Client::new()
        .post(&api.base)
        .bearer_auth(TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("request body is not valid JSON: "));
    assert_eq!(emu.live_inputs(), vec![]);
}

#[tokio::test]
async fn shapes_of_create_list_and_delete() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    // Empty body creates an input with defaults.
    let r = Client::new()
        .post(&api.base)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let env: Value = r.json().await.unwrap();
    assert_eq!(env["success"], true);
    assert_eq!(env["errors"], json!([]));
    assert_eq!(env["messages"], json!([]));
    let li = &env["result"];
    assert_eq!(li["status"], Value::Null);
    assert_eq!(li["meta"], json!({}));
    assert_eq!(li["enabled"], true);
    assert_eq!(li["deleteRecordingAfterDays"], Value::Null);
    assert_eq!(
        li["recording"],
        json!({"mode": "off", "timeoutSeconds": 0, "requireSignedURLs": false, "hideLiveViewerCount": false})
    );
    let mut keys: Vec<_> = li.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created",
            "deleteRecordingAfterDays",
            "enabled",
            "meta",
            "modified",
            "recording",
            "rtmps",
            "rtmpsPlayback",
            "srt",
            "srtPlayback",
            "status",
            "uid",
            "webRTC",
            "webRTCPlayback"
        ]
    );

    let (s, v) = api.call(reqwest::Method::GET, &api.base, None).await;
    assert_eq!(s, 200);
    let item = &v["result"]["liveInputs"][0];
    let mut keys: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created",
            "deleteRecordingAfterDays",
            "enabled",
            "meta",
            "modified",
            "uid"
        ]
    );
    assert_eq!(v["result"]["total"], 1);

    let uid = li["uid"].as_str().unwrap();
    let r = Client::new()
        .delete(format!("{}/{uid}", api.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 0);
    let (s, _) = api
        .call(reqwest::Method::GET, &format!("{}/{uid}", api.base), None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = api
        .call(
            reqwest::Method::POST,
            &format!("{}/{uid}/rotate_keys", api.base),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = api
        .call(
            reqwest::Method::GET,
            &format!("{}/{uid}/videos", api.base),
            None,
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn delivery_routes_idle_and_live() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let li = api
        .create(json!({"recording": {"mode": "automatic"}}))
        .await;
    let uid = li["uid"].as_str().unwrap().to_string();
    let d = emu.delivery_base_url();
    let http = Client::new();

    for ext in ["m3u8", "mpd"] {
        let r = http
            .get(format!("{d}/{uid}/manifest/video.{ext}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        assert_eq!(r.bytes().await.unwrap().len(), 0);
    }
    let v: Value = http
        .get(format!("{d}/{uid}/lifecycle"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"isInput": true, "videoUID": null, "live": false}));

    let (s, out) = api
        .ctl(
            reqwest::Method::POST,
            &format!("/inputs/{uid}/connect"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(out["event"], "live_input.connected");
    assert_eq!(out["webhook"], Value::Null);
    let vuid = out["videoUID"].as_str().unwrap().to_string();
    let v: Value = http
        .get(format!("{d}/{uid}/lifecycle"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"isInput": true, "videoUID": vuid, "live": true}));
    let r = http
        .get(format!("{d}/{uid}/manifest/video.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m = r.text().await.unwrap();
    assert!(
        m.starts_with("#EXTM3U\n") && m.contains("#EXT-X-STREAM-INF:") && !m.contains("ENDLIST"),
        "{m}"
    );
    let r = http
        .get(format!("{d}/{vuid}/manifest/video.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (s, _) = api
        .ctl(
            reqwest::Method::PUT,
            &format!("/inputs/{uid}/views"),
            Some(json!({"liveViewers": 42})),
        )
        .await;
    assert_eq!(s, 200);
    let v: Value = http
        .get(format!("{d}/{uid}/views"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"liveViewers": 42}));
    assert_eq!(
        http.get(format!("{d}/{uid}/iframe"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    for path in ["lifecycle", "views", "manifest/video.m3u8", "iframe"] {
        let r = http.get(format!("{d}/ffff/{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    assert_eq!(emu.call_count(Route::Lifecycle), 3);
    assert_eq!(emu.call_count(Route::ManifestHls), 4);
    assert_eq!(emu.call_count(Route::ManifestDash), 1);
}

#[tokio::test]
async fn recording_off_is_never_playable() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let li = api.create(json!({})).await;
    let uid = li["uid"].as_str().unwrap();
    let out = emu.connect(uid).await.unwrap();
    assert_eq!(out.video_uid, None);
    assert!(emu.live_input(uid).unwrap().status.is_connected());
    let d = emu.delivery_base_url();
    let r = Client::new()
        .get(format!("{d}/{uid}/manifest/video.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(emu.videos(uid), vec![]);
}

#[tokio::test]
async fn encoder_control_conflicts_over_http() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let li = api.create(json!({"enabled": false})).await;
    let uid = li["uid"].as_str().unwrap();
    use reqwest::Method as M;
    let (s, v) = api
        .ctl(M::POST, &format!("/inputs/{uid}/connect"), None)
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        v,
        json!({"error": format!("live input {uid} is disabled (enabled=false) and refuses encoder connections")})
    );
    let (s, v) = api
        .ctl(M::POST, &format!("/inputs/{uid}/disconnect"), None)
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        v,
        json!({"error": format!("live input {uid} has no connected encoder")})
    );
    let (s, _) = api
        .call(
            M::PUT,
            &format!("{}/{uid}", api.base),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .ctl(M::POST, &format!("/inputs/{uid}/connect"), None)
        .await;
    assert_eq!(s, 200);
    let (s, v) = api
        .ctl(M::POST, &format!("/inputs/{uid}/connect"), None)
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        v,
        json!({"error": format!("live input {uid} already has a connected encoder")})
    );
    let (s, v) = api.ctl(M::POST, "/inputs/ffff/connect", None).await;
    assert_eq!(s, 404);
    assert_eq!(v, json!({"error": "live input ffff not found"}));
    let (s, v) = api
        .ctl(
            M::POST,
            &format!("/inputs/{uid}/error"),
            Some(json!({"code": "bad code"})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"error": "bad request: error code must look like ERR_SOMETHING, got \"bad code\""})
    );
    let (s, v) = api
        .ctl(
            M::POST,
            &format!("/inputs/{uid}/error"),
            Some(json!({"nope": 1})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("bad request: invalid JSON body: unknown field `nope`"),
        "{v}"
    );
    let (s, v) = api.ctl(M::GET, &format!("/inputs/{uid}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"]["current"]["state"], "connected");
    let (s, v) = api.ctl(M::GET, "/inputs", None).await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn faults_and_counters_over_http() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    use reqwest::Method as M;
    let (s, _) = api
        .ctl(M::POST, "/faults", Some(json!({"route": "live_inputs.list", "fault": {"kind": "rate_limited", "retry_after_secs": 2}, "times": 1})))
        .await;
    assert_eq!(s, 204);
    let r = Client::new()
        .get(&api.base)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        err_env(
            971,
            "Please wait and consider throttling your request speed"
        )
    );
    let (s, _) = api.call(M::GET, &api.base, None).await;
    assert_eq!(s, 200);

    let (s, v) = api
        .ctl(
            M::POST,
            "/faults",
            Some(json!({"route": "nope", "fault": {"kind": "hang"}})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("bad request: unknown route \"nope\"; expected one of live_inputs.create"),
        "{v}"
    );
    let (s, v) = api
        .ctl(M::POST, "/faults", Some(json!({"route": "live_inputs.get", "fault": {"kind": "server_error", "status": 404}})))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"error": "bad request: server_error status must be 500-599, got 404"})
    );
    let (s, v) = api
        .ctl(
            M::POST,
            "/faults",
            Some(json!({"route": "live_inputs.get", "fault": {"kind": "explode"}})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("bad request: invalid fault: unknown variant `explode`"),
        "{v}"
    );

    api.ctl(
        M::POST,
        "/faults",
        Some(json!({"route": "live_inputs.list", "fault": {"kind": "malformed"}, "times": 3})),
    )
    .await;
    let (s, _) = api.ctl(M::DELETE, "/faults", None).await;
    assert_eq!(s, 204);
    let (s, _) = api.call(M::GET, &api.base, None).await;
    assert_eq!(s, 200, "cleared faults no longer apply");

    let (_, v) = api.ctl(M::GET, "/calls", None).await;
    assert_eq!(v, json!({"live_inputs.list": 3}));
    api.ctl(M::DELETE, "/calls", None).await;
    let (_, v) = api.ctl(M::GET, "/calls", None).await;
    assert_eq!(v, json!({}));

    let (s, v) = api.ctl(M::GET, "/health", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"ok": true, "apiBaseUrl": emu.api_base_url(), "deliveryBaseUrl": emu.delivery_base_url(),
               "accountId": ACCOUNT, "customerCode": "roomcastemulator",
               "videoIngest": {"state": "notRequested"}})
    );
    api.create(json!({})).await;
    let (s, _) = api.ctl(M::POST, "/reset", None).await;
    assert_eq!(s, 204);
    assert_eq!(emu.live_inputs(), vec![]);
}

/// Background notifications: wait (bounded, generously) until `n` have arrived and
/// been recorded by the emulator.
async fn wait_for(emu: &EmulatorHandle, sink: &WebhookSink, n: usize) {
    until(&format!("{n} notifications"), || {
        sink.received.lock().unwrap().len() >= n && emu.webhook_deliveries().len() >= n
    })
    .await;
}

#[tokio::test]
async fn notifications_carry_cf_webhook_auth_and_cloudflare_shape() {
    let emu = emulator().await;
    let sink = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: sink.url.clone(),
        secret: Some(SecretString::from("hook-SECRET".to_string())),
    }));
    let api = Api::new(&emu);
    let li = api
        .create(json!({"recording": {"mode": "automatic"}}))
        .await;
    let uid = li["uid"].as_str().unwrap().to_string();

    let out = emu.connect(&uid).await.unwrap();
    assert_eq!(out.webhook, None, "sent after the answer, not in it");
    let out = emu.error(&uid, "ERR_GOP_OUT_OF_RANGE").await.unwrap();
    assert_eq!(out.event, "live_input.errored");
    // Disabling a connected input disconnects it (and notifies).
    emu.connect(&uid).await.unwrap();
    let (s, _) = api
        .call(
            reqwest::Method::PUT,
            &format!("{}/{uid}", api.base),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    wait_for(&emu, &sink, 4).await;
    // Rotating keys disconnects a live encoder too.
    api.call(
        reqwest::Method::PUT,
        &format!("{}/{uid}", api.base),
        Some(json!({"enabled": true})),
    )
    .await;
    emu.connect(&uid).await.unwrap();
    let (s, _) = api
        .call(
            reqwest::Method::POST,
            &format!("{}/{uid}/rotate_keys", api.base),
            None,
        )
        .await;
    assert_eq!(s, 200);
    wait_for(&emu, &sink, 6).await;

    let got = sink.received.lock().unwrap().clone();
    let events: Vec<_> = got
        .iter()
        .map(|r| r.body["data"]["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        [
            "live_input.connected",
            "live_input.errored",
            "live_input.connected",
            "live_input.disconnected",
            "live_input.connected",
            "live_input.disconnected"
        ]
    );
    for r in &got {
        assert_eq!(r.auth.as_deref(), Some("hook-SECRET"));
        assert_eq!(r.body["name"], "Stream Live Input");
        assert_eq!(r.body["data"]["notification_name"], "Stream Live Input");
        assert_eq!(r.body["data"]["input_id"], uid.as_str());
        let updated = r.body["data"]["updated_at"].as_str().unwrap();
        time::OffsetDateTime::parse(updated, &time::format_description::well_known::Rfc3339)
            .unwrap();
        assert!(r.body["ts"].as_i64().unwrap() > 1_600_000_000);
        let text = r.body["text"].as_str().unwrap();
        assert!(text.starts_with(&format!(
            "Notification type: Stream Live Input\nInput ID: {uid}\nEvent type: {}\nUpdated at: {updated}",
            r.body["data"]["event_type"].as_str().unwrap()
        )));
    }
    assert_eq!(
        got[1].body["data"]["live_input_errored"],
        json!({"error": {"code": "ERR_GOP_OUT_OF_RANGE", "message": "Input GOP size or keyframe interval is out of range."},
               "video_codec": "", "audio_codec": ""})
    );
    assert_eq!(got[0].body["data"].get("live_input_errored"), None);
    assert_eq!(emu.webhook_deliveries().len(), 6);

    // Same via the HTTP control API, without a secret.
    use reqwest::Method as M;
    let (s, _) = api
        .ctl(M::PUT, "/webhook", Some(json!({"url": sink.url})))
        .await;
    assert_eq!(s, 204);
    let (s, out) = api
        .ctl(
            M::POST,
            &format!("/inputs/{uid}/error"),
            Some(json!({"code": "ERR_UNHEALTHY", "message": "bad encoder"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(out["webhook"], Value::Null, "sent after the answer");
    wait_for(&emu, &sink, 7).await;
    let last = sink.received.lock().unwrap().last().unwrap().clone();
    assert_eq!(last.auth, None);
    assert_eq!(
        last.body["data"]["live_input_errored"]["error"],
        json!({"code": "ERR_UNHEALTHY", "message": "bad encoder"})
    );
    let (_, d) = api.ctl(M::GET, "/webhook/deliveries", None).await;
    assert_eq!(d.as_array().unwrap().len(), 7);
    let (s, v) = api
        .ctl(M::PUT, "/webhook", Some(json!({"url": "ftp://x"})))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v,
        json!({"error": "bad request: webhook url must be an http(s) URL, got \"ftp://x\""})
    );
    let (s, _) = api.ctl(M::DELETE, "/webhook", None).await;
    assert_eq!(s, 204);
    let out = emu.error(&uid, "ERR_UNHEALTHY").await.unwrap();
    assert_eq!(out.webhook, None);
}

#[tokio::test]
async fn unreachable_webhook_is_recorded_not_fatal() {
    let emu = emulator().await;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    emu.set_webhook(Some(WebhookTarget {
        url: format!("http://127.0.0.1:{port}/hook"),
        secret: None,
    }));
    let api = Api::new(&emu);
    let uid = api.create(json!({})).await["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let out = emu.connect(&uid).await.unwrap();
    assert_eq!(out.webhook, None);
    assert!(emu.live_input(&uid).unwrap().status.is_connected());
    until("the failed attempt's record", || {
        !emu.webhook_deliveries().is_empty()
    })
    .await;
    let d = emu.webhook_deliveries().pop().unwrap();
    assert_eq!(d.status, None);
    assert!(d.error.is_some());
}

/// Polls `ok` every 5 ms for up to 30 s (a bound, not a pass criterion).
async fn until(what: &str, ok: impl Fn() -> bool) {
    for _ in 0..6000 {
        if ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn control_calls_answer_before_their_notification_is_delivered() {
    // The default, like Cloudflare: the receiver below holds every notification until released,
    // so a control call that waited for its delivery could not answer while it does.
    let emu = emulator().await;
    let sink = held_sink().await;
    emu.set_webhook(hook(&sink.url));
    let uid = Api::new(&emu).create(json!({})).await["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let out = emu.connect(&uid).await.unwrap();
    assert_eq!(out.webhook, None);
    assert_eq!(emu.webhook_deliveries(), vec![], "nothing delivered yet");
    assert!(emu.live_input(&uid).unwrap().status.is_connected());
    // Then it arrives, and is recorded once the receiver answers.
    until("the notification reaching the receiver", || {
        sink.arrived.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(emu.webhook_deliveries(), vec![], "the receiver holds it");
    sink.release.add_permits(1);
    until("the delivery record", || {
        emu.webhook_deliveries().len() == 1
    })
    .await;
    let d = emu.webhook_deliveries().pop().unwrap();
    assert_eq!((d.status, d.error), (Some(200), None));
    assert_eq!(d.body["data"]["event_type"], "live_input.connected");
}

#[tokio::test]
async fn synchronous_timing_delivers_before_the_control_call_answers() {
    let emu = emulator_with(|o| o.webhook_timing = WebhookTiming::Synchronous).await;
    let sink = webhook_sink().await;
    emu.set_webhook(hook(&sink.url));
    let api = Api::new(&emu);
    let uid = api.create(json!({})).await["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let connect = format!("/inputs/{uid}/connect");
    let (s, out) = api.ctl(reqwest::Method::POST, &connect, None).await;
    assert_eq!(s, 200);
    assert_eq!(out["webhook"]["status"], 200, "{out}");
    assert_eq!(out["webhook"]["url"], sink.url.as_str());
    let got = sink.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "received before the answer");
    assert_eq!(got[0].body["data"]["event_type"], "live_input.connected");
    assert_eq!(emu.webhook_deliveries().len(), 1);
}

#[tokio::test]
async fn shutdown_releases_hung_requests() {
    let emu = emulator().await;
    emu.inject_fault(
        Route::ListLiveInputs,
        roomcast_stream::emulator::Fault::Hang,
        1,
    )
    .unwrap();
    let url = format!(
        "{}/accounts/{ACCOUNT}/stream/live_inputs",
        emu.api_base_url()
    );
    let req = tokio::spawn(async move {
        Client::new()
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .map(|r| r.status())
    });
    // Wait (bounded) until the request is inside the emulator.
    for _ in 0..2000 {
        if emu.call_count(Route::ListLiveInputs) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(emu.call_count(Route::ListLiveInputs), 1);
    emu.shutdown().await;
    assert_eq!(req.await.unwrap().unwrap(), 503);
}

#[tokio::test]
async fn start_rejects_bad_options() {
    use roomcast_stream::emulator::{Emulator, EmulatorOptions};
    let e = Emulator::start(EmulatorOptions::new(
        "../x",
        SecretString::from("t".to_string()),
    ))
    .await
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "account id must be 1-32 ASCII letters or digits, got \"../x\""
    );
    let e = Emulator::start(EmulatorOptions::new(
        "acc",
        SecretString::from(String::new()),
    ))
    .await
    .unwrap_err();
    assert_eq!(e.to_string(), "api token must not be empty");
    let emu = emulator().await;
    let mut o = EmulatorOptions::new("acc", SecretString::from("t".to_string()));
    o.listen = emu.addr();
    let e = Emulator::start(o).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("binding the stream emulator to {}", emu.addr())
    );
}
