//! The API token (and the webhook secret) never appear in any formatted
//! error, Debug output or log line.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use common::*;
use roomcast_stream::client::*;
use roomcast_stream::emulator::{EmulatorArgs, EmulatorOptions, Fault, Route, WebhookTarget};
use secrecy::SecretString;

const WRONG: &str = "wrong-SECRET-77aa";
const HOOK: &str = "hook-SECRET-91bb";

fn assert_clean(what: &str, s: &str) {
    for secret in [TOKEN, WRONG, HOOK] {
        assert!(!s.contains(secret), "{what} leaks a secret: {s}");
    }
}

/// Collects everything the fmt subscriber writes.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// current_thread runtime: the thread-local subscriber also sees the
// emulator's server tasks.
#[tokio::test(flavor = "current_thread")]
async fn token_absent_from_errors_debug_and_logs() {
    let buf = Buf::default();
    let sink_buf = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink_buf.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = emulator().await;
    let hook = webhook_sink().await;
    emu.set_webhook(Some(WebhookTarget {
        url: hook.url.clone(),
        secret: Some(SecretString::from(HOOK.to_string())),
    }));
    let mut cfg = config(&emu);
    cfg.request_timeout = Duration::from_millis(300);
    let c = StreamClient::new(cfg.clone()).unwrap();
    let mut wrong_cfg = cfg.clone();
    wrong_cfg.api_token = SecretString::from(WRONG.to_string());
    let wrong = StreamClient::new(wrong_cfg).unwrap();

    let li = c
        .create_live_input(&CreateLiveInput {
            recording: Some(Recording::automatic()),
            ..Default::default()
        })
        .await
        .unwrap();
    emu.connect(&li.uid).await.unwrap();
    emu.error(&li.uid, "ERR_UNHEALTHY").await.unwrap();

    let mut errors = vec![
        wrong.list_live_inputs().await.unwrap_err(),
        c.get_live_input("ffff").await.unwrap_err(),
        c.create_live_input(&CreateLiveInput {
            delete_recording_after_days: Some(1),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    ];
    emu.inject_fault(
        Route::ListLiveInputs,
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        3,
    )
    .unwrap();
    errors.push(c.list_live_inputs().await.unwrap_err());
    emu.inject_fault(Route::ListLiveInputs, Fault::ServerError { status: 500 }, 3)
        .unwrap();
    errors.push(c.list_live_inputs().await.unwrap_err());
    emu.inject_fault(Route::ListLiveInputs, Fault::Malformed, 1)
        .unwrap();
    errors.push(c.list_live_inputs().await.unwrap_err());
    emu.inject_fault(Route::ListLiveInputs, Fault::Hang, 3)
        .unwrap();
    errors.push(c.list_live_inputs().await.unwrap_err());
    let mut refused = cfg.clone();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    refused.api_base_url = format!("http://{}/client/v4", l.local_addr().unwrap());
    drop(l);
    errors.push(
        StreamClient::new(refused)
            .unwrap()
            .list_live_inputs()
            .await
            .unwrap_err(),
    );
    let mut bad = cfg.clone();
    bad.api_base_url = "::nope".into();
    errors.push(StreamClient::new(bad).unwrap_err());

    let kinds: Vec<_> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split([' ', '('])
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Auth",
            "NotFound",
            "Validation",
            "RateLimited",
            "Server",
            "MalformedResponse",
            "Timeout",
            "Transport",
            "InvalidArgument"
        ]
    );
    for e in &errors {
        assert_clean("Display", &e.to_string());
        assert_clean("Debug", &format!("{e:?}"));
        assert_clean("Debug", &format!("{e:#?}"));
    }
    assert_clean("config Debug", &format!("{cfg:?}"));
    assert_clean("client Debug", &format!("{c:?}"));
    assert_clean("handle Debug", &format!("{emu:?}"));
    assert_clean(
        "live input Debug",
        &format!("{:?}", emu.live_input(&li.uid).unwrap()),
    );
    let mut opts = EmulatorOptions::new(ACCOUNT, SecretString::from(TOKEN.to_string()));
    opts.webhook = Some(WebhookTarget {
        url: hook.url.clone(),
        secret: Some(SecretString::from(HOOK.to_string())),
    });
    assert_clean("options Debug", &format!("{opts:?}"));

    emu.shutdown().await;
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    // The capture works (so the absence check below means something).
    assert!(logs.contains("retrying cloudflare stream call"), "{logs}");
    assert!(logs.contains("emulator sent live notification"), "{logs}");
    assert!(logs.contains("cloudflare stream call failed"), "{logs}");
    assert_clean("logs", &logs);
    // The secret reached the receiver, so it was really in play.
    assert_eq!(hook.received.lock().unwrap()[0].auth.as_deref(), Some(HOOK));
}

#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
}

#[test]
fn emulator_args_parse_with_defaults_and_hide_token() {
    let cli = Cli::try_parse_from(["x", "--account-id", "acc", "--api-token", TOKEN]).unwrap();
    assert_eq!(cli.args.listen, "127.0.0.1:8787".parse().unwrap());
    assert_eq!(cli.args.account_id, "acc");
    assert_eq!(cli.args.customer_code, "roomcastemulator");
    assert_eq!(cli.args.webhook_url, None);
    assert_clean("args Debug", &format!("{cli:?}"));

    let e = Cli::try_parse_from([
        "x",
        "--account-id",
        "acc",
        "--api-token",
        "t",
        "--webhook-secret",
        "s",
    ])
    .unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    let e = Cli::try_parse_from([
        "x",
        "--account-id",
        "acc",
        "--api-token",
        "t",
        "--listen",
        "nope",
    ])
    .unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
    let e = Cli::try_parse_from(["x", "--account-id", "acc", "--api-token", ""]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
}
