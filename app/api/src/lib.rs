//! The roomcast HTTP API: create a room (Cloudflare live input + on-chain registration), watch it,
//! change it, end it. See `ARCHITECTURE.md` ("Inside the API") for the layers and where each
//! concept lives, and the README for the contract.
//!
//! Layers, each using only the ones below it: `server` → `http` → `jobs` → `rooms` → `state` →
//! `live` → `guard` → `store` → `core`.

pub mod core;
pub mod guard;
pub mod http;
pub mod jobs;
pub mod live;
pub mod rooms;
pub mod server;
pub mod state;
pub mod store;

pub use crate::core::config::ServeArgs;
pub use http::app;
pub use server::{Clients, Listener, Server, Upstreams};

/// Initializes logging (`--log-format json` for structured logs). Never logs request bodies.
pub fn init_tracing(format: crate::core::config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::core::config::LogFormat::Json => builder.json().try_init(),
        crate::core::config::LogFormat::Text => builder.try_init(),
    };
}
