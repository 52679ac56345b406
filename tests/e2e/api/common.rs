//! What the in-process API test files share: `roomcast serve` flags parsed into `ServeArgs`.
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
