//! `roomcast`: the API server, the operator CLI, the local Solana node and the Cloudflare Stream
//! emulator, as one binary.
mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Settings may come from a `.env` file in the working directory (never overriding the env).
    let _ = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
