//! The API's end-to-end tests in process: each starts `roomcast_app::Server` (the API with its
//! embedded local node and Stream emulator, or faults injected into them) and talks HTTP to it.
//! This directory is a crate root today (`[[test]] name = "api"` in `app/roomcast/Cargo.toml`) and
//! can become `mod api;` of one end-to-end test binary; files reach each other as `super::…`.
mod common;

mod abuse;
mod create_resume;
mod hardening;
mod in_flight;
mod lease_fencing;
mod operations;
mod robustness;
mod tips;
mod web_api;
