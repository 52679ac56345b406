//! Cloudflare Stream for roomcast: a typed live-input client ([`client`]),
//! the live-input webhook notification and its error codes ([`notifications`]), the vendored
//! hls.js both players load ([`hls_js`]),
//! and a faithful local emulator ([`emulator`], with its real video path in [`media`]) for tests
//! and local runs.
//! API facts follow `shared/reference/cloudflare-stream.md`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use roomcast_stream::client::{CreateLiveInput, Recording, StreamClient, StreamConfig};
//! use roomcast_stream::emulator::{Emulator, EmulatorOptions};
//! use secrecy::SecretString;
//!
//! let token = SecretString::from("dev-token".to_string());
//! let emu = Emulator::start(EmulatorOptions::new("acc1", token.clone())).await?;
//! let mut cfg = StreamConfig::new("acc1", token, emu.customer_code());
//! cfg.api_base_url = emu.api_base_url();
//! cfg.delivery_base_url = Some(emu.delivery_base_url());
//! let client = StreamClient::new(cfg)?;
//! let input = client
//!     .create_live_input(&CreateLiveInput {
//!         recording: Some(Recording::automatic()), // HLS needs automatic recording
//!         ..Default::default()
//!     })
//!     .await?;
//! emu.connect(&input.uid).await?; // encoder goes live
//! assert!(client.lifecycle(&input.uid).await?.live);
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The emulator's HTTP control routes (`/__emulator/...`) are listed in the
//! [`emulator`] module documentation.

pub mod client;
pub mod emulator;
pub mod hls_js;
pub mod media;
pub mod notifications;
pub mod signed_urls;
