//! Shared fixtures: an in-process emulator and a client wired to it with
//! fast retries (no test asserts on timing; timeouts are only bounds).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use roomcast_stream::client::{RetryPolicy, StreamClient, StreamConfig};
use roomcast_stream::emulator::{Emulator, EmulatorHandle, EmulatorOptions, WebhookTarget};
use secrecy::SecretString;
use serde_json::Value;

pub const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "tok-SECRET-4f1c2b9a";

pub async fn emulator() -> EmulatorHandle {
    emulator_with(|_| {}).await
}

/// An emulator started with `change` applied to the default options.
pub async fn emulator_with(change: impl FnOnce(&mut EmulatorOptions)) -> EmulatorHandle {
    let mut options = EmulatorOptions::new(ACCOUNT, SecretString::from(TOKEN.to_string()));
    change(&mut options);
    Emulator::start(options).await.expect("emulator starts")
}

pub fn config(emu: &EmulatorHandle) -> StreamConfig {
    let mut c = StreamConfig::new(
        ACCOUNT,
        SecretString::from(TOKEN.to_string()),
        emu.customer_code(),
    );
    c.api_base_url = emu.api_base_url();
    c.delivery_base_url = Some(emu.delivery_base_url());
    c.request_timeout = Duration::from_secs(20);
    c.retry = RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_elapsed: Duration::from_secs(60),
    };
    c
}

pub fn client(emu: &EmulatorHandle) -> StreamClient {
    StreamClient::new(config(emu)).expect("valid config")
}

/// One notification as received by [`WebhookSink`].
#[derive(Debug, Clone)]
pub struct Received {
    pub auth: Option<String>,
    pub body: Value,
}

/// A tiny HTTP server that records notifications POSTed to `/hook`.
pub struct WebhookSink {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

pub async fn webhook_sink() -> WebhookSink {
    use axum::routing::post;
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let r = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let r = r.clone();
            async move {
                r.lock().unwrap().push(Received {
                    auth: headers
                        .get("cf-webhook-auth")
                        .map(|v| v.to_str().unwrap().to_string()),
                    body: serde_json::from_slice(&body).unwrap(),
                });
                "ok"
            }
        }),
    );
    WebhookSink {
        url: serve(app).await,
        received,
    }
}

/// Polls `f` every 50 ms until it yields a value; panics with `what` after `bound` (a deadline far
/// above the typical time: a condition, not a clock).
#[allow(dead_code)] // not every test binary polls
pub async fn until<T, F, Fut>(what: &str, bound: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + bound;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Serves `app` on a loopback port; its `/hook` URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

/// A webhook receiver that counts each notification as it arrives and answers only once
/// released (one permit a notification).
pub struct HeldSink {
    pub url: String,
    pub arrived: Arc<AtomicUsize>,
    pub release: Arc<tokio::sync::Semaphore>,
}

pub async fn held_sink() -> HeldSink {
    let arrived = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let (a, r) = (arrived.clone(), release.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let (a, r) = (a.clone(), r.clone());
            async move {
                a.fetch_add(1, Ordering::SeqCst);
                r.acquire().await.unwrap().forget();
                "ok"
            }
        }),
    );
    HeldSink {
        url: serve(app).await,
        arrived,
        release,
    }
}

/// Notifications to `url`, without a secret.
pub fn hook(url: &str) -> Option<WebhookTarget> {
    Some(WebhookTarget {
        url: url.to_string(),
        secret: None,
    })
}
