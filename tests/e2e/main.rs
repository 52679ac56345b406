//! The end-to-end tests: one test binary (linking the whole stack once instead of once per file),
//! one module per area. They drive the built `roomcast` binary (`support`: spawn it on free ports,
//! read its banner, sign host requests, look at both upstreams) or start servers in-process.
//!
//! Run one area with a filter on its module: `cargo test -p roomcast-app --test e2e video::`.
mod common;
mod support;

mod api;
mod api_errors;
mod api_failures;
mod api_gate;
mod api_rooms;
mod api_story;
mod chain_watch;
mod cli;
mod cli_token;
mod data_dir;
mod encoders;
mod gate_server;
mod hostile;
mod readme_claims;
mod redis_ops;
mod replicas;
mod serve_config;
mod video;
mod web;
mod web_gate;
mod web_tips;
mod web_webrtc;

// Issue 17 items 5, 7 and 11 (upstream links, RTMP ingest); `hostile` has the rest of the suite.
mod hostile_edges;
