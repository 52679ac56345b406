//! What the in-process API test files share: `roomcast serve` flags parsed into `ServeArgs`, and
//! what the process logs.
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use clap::Parser;
use roomcast_api::ServeArgs;
use roomcast_app::Server;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

/// `args` as `roomcast serve` flags, after the ones every in-process test needs: any free port for
/// HTTP and RTMP (test files run side by side) and a fresh embedded chain and emulator
/// (`--ephemeral`: nothing shared through a data dir).
pub fn serve_args(args: &[&str]) -> ServeArgs {
    let mut argv = vec![
        "roomcast",
        "--listen",
        "127.0.0.1:0",
        "--rtmp-listen",
        "127.0.0.1:0",
        "--srt-listen",
        "127.0.0.1:0",
        "--ephemeral",
    ];
    argv.extend_from_slice(args);
    Cli::parse_from(argv).serve
}

/// A server started in-process with these `roomcast serve` flags (after [`serve_args`]' own).
#[allow(dead_code)] // not every test file starts its servers this way
pub async fn start(args: &[&str]) -> Server {
    Server::start(serve_args(args))
        .await
        .expect("server starts")
}

/// Everything this test process logs at `info` and above (what `roomcast serve` logs by default),
/// from the first call on. One global subscriber: tests running at the same time are in it too.
#[allow(dead_code)] // not every test file reads the logs
pub fn captured_logs() -> String {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    let logs = LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .try_init()
            .expect("the e2e binary installs no other global subscriber");
        // Callsites first hit while the subscriber was being set may have cached "not
        // interested": ask them again.
        tracing::callsite::rebuild_interest_cache();
        logs
    });
    String::from_utf8_lossy(&logs.lock().unwrap()).into_owned()
}

/// Appends log lines to the shared buffer.
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
