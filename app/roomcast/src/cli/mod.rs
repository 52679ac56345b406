//! Command line: Solana-CLI conventions (`--url/-u`, `--keypair/-k`, `--json`).
mod output;
mod registry;
mod room;
mod target;
mod token;
mod wallet;

use clap::{Parser, Subcommand};

pub use target::ChainTarget;

#[derive(Parser, Debug)]
#[command(
    name = "roomcast",
    version,
    about = "Livestream rooms: registry on Solana, video on Cloudflare Stream"
)]
pub struct Cli {
    #[command(flatten)]
    pub chain: ChainTarget,
    /// Print machine-readable JSON instead of human tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP API (embeds a local Solana node and a Stream emulator unless configured).
    Serve(Box<roomcast_api::ServeArgs>),
    /// Run a local Solana JSON-RPC node with the roomcast program loaded natively.
    Localnet(roomcast_localnet::LocalnetArgs),
    /// Run the Cloudflare Stream emulator (same paths and shapes as the real API).
    StreamEmulator(roomcast_stream::emulator::EmulatorArgs),
    /// Manage a registry (one per operator).
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Create, inspect, update, end and close rooms.
    #[command(subcommand)]
    Room(room::RoomCommand),
    /// Test tokens for gated rooms: create-mint, mint, transfer, balance (raw units).
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Write a new keypair file (Solana CLI format, mode 0600).
    Keygen(wallet::KeygenArgs),
    /// Request SOL from a roomcast local node's faucet (local node only).
    Airdrop(wallet::AirdropArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            roomcast_api::init_tracing(args.log_format);
            roomcast_app::serve(*args).await
        }
        Command::Localnet(args) => {
            init_tracing();
            roomcast_localnet::run(args).await
        }
        Command::StreamEmulator(args) => {
            init_tracing();
            roomcast_stream::emulator::run(args).await
        }
        Command::Registry(cmd) => registry::run(&cli.chain, cli.json, cmd).await,
        Command::Room(cmd) => room::run(&cli.chain, cli.json, cmd).await,
        Command::Token(cmd) => token::run(&cli.chain, cli.json, cmd).await,
        Command::Keygen(args) => wallet::keygen(&cli.chain, cli.json, args),
        Command::Airdrop(args) => wallet::airdrop(&cli.chain, cli.json, args).await,
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
