//! `stream_emulator stream-emulator --listen ... --account-id ... --api-token ...`
//! — the same flags the real `roomcast` binary exposes.

use clap::{Parser, Subcommand};
use roomcast_stream::emulator::{self, EmulatorArgs};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the Cloudflare Stream emulator until ctrl-c.
    StreamEmulator(EmulatorArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cmd::StreamEmulator(args) = Cli::parse().cmd;
    emulator::run(args).await
}
