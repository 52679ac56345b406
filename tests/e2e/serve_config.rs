//! `roomcast serve` refuses missing or contradictory settings at start, with one clear line.
use std::process::Command;

/// Runs `roomcast serve` with exactly these settings (none inherited) and returns (exit code, stderr).
fn serve_with(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    cmd.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .args(["--rtmp-listen", "127.0.0.1:0"])
        .arg("--ephemeral")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    // A directory without a .env file, so nothing is read from the developer's checkout.
    cmd.current_dir(std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run roomcast");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "exactly one error line: {stderr}");
    lines[0]
}

#[test]
fn incomplete_cloudflare_settings_name_what_is_missing() {
    let (code, stderr) = serve_with(&[("CLOUDFLARE_ACCOUNT_ID", "abc")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        error_line(&stderr),
        "error: incomplete Cloudflare settings: also set CLOUDFLARE_API_TOKEN, CLOUDFLARE_CUSTOMER_CODE"
    );
}

#[test]
fn an_rpc_url_needs_the_registrar_keypair_and_vice_versa() {
    let (code, stderr) = serve_with(&[("SOLANA_RPC_URL", "http://127.0.0.1:8899")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        error_line(&stderr),
        "error: SOLANA_RPC_URL needs ROOMCAST_REGISTRAR_KEYPAIR (the key that signs room transactions)"
    );
    let (code, stderr) = serve_with(&[("ROOMCAST_REGISTRAR_KEYPAIR", "/nonexistent.json")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        error_line(&stderr),
        "error: ROOMCAST_REGISTRAR_KEYPAIR needs SOLANA_RPC_URL"
    );
}

#[test]
fn a_registry_without_a_cluster_is_contradictory() {
    let (code, stderr) = serve_with(&[("ROOMCAST_REGISTRY", "11111111111111111111111111111112")]);
    assert_eq!(code, Some(1));
    assert_eq!(
        error_line(&stderr),
        "error: ROOMCAST_REGISTRY needs SOLANA_RPC_URL (the embedded node creates its own registry)"
    );
}

#[test]
fn an_unreadable_registrar_keypair_is_reported_with_its_path() {
    let (code, stderr) = serve_with(&[
        ("SOLANA_RPC_URL", "http://127.0.0.1:1"),
        ("ROOMCAST_REGISTRAR_KEYPAIR", "/nonexistent/registrar.json"),
    ]);
    assert_eq!(code, Some(1));
    let line = error_line(&stderr);
    assert!(
        line.starts_with(
            "error: ROOMCAST_REGISTRAR_KEYPAIR: cannot read keypair /nonexistent/registrar.json"
        ),
        "{line}"
    );
}

#[test]
fn out_of_range_recording_retention_is_a_usage_error() {
    let (code, stderr) = serve_with(&[("ROOMCAST_DELETE_RECORDING_AFTER_DAYS", "7")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("7 is not in 30..=1096"), "{stderr}");
}

#[test]
fn json_log_format_writes_one_json_object_per_line() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--ephemeral",
        ])
        .args(["--rtmp-listen", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start roomcast serve");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.starts_with("Operator key:");
        banner.push(line);
        if done {
            break;
        }
    }
    assert!(
        banner[0].starts_with("roomcast API listening on http://127.0.0.1:"),
        "{banner:?}"
    );
    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "the embedded upstreams log at start");
    for line in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            value["level"].is_string() && value["timestamp"].is_string(),
            "{line}"
        );
    }
}

#[test]
fn a_chain_watch_silence_limit_within_one_ping_interval_is_refused() {
    let (code, stderr) = serve_with(&[
        ("ROOMCAST_CHAIN_WATCH_PING_SECS", "20"),
        ("ROOMCAST_CHAIN_WATCH_DEAD_SECS", "20"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        error_line(&stderr),
        "error: ROOMCAST_CHAIN_WATCH_DEAD_SECS (20) must be longer than ROOMCAST_CHAIN_WATCH_PING_SECS (20)"
    );
    let (code, stderr) = serve_with(&[("ROOMCAST_CHAIN_WATCH_PING_SECS", "0")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("0 is not in 1.."), "{stderr}");
}
