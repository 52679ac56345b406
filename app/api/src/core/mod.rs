//! The bottom layer: what every other layer speaks — the error type and its JSON shape, who a caller
//! is, broadcast-state values, redaction of secrets in URLs, query strings with JSON refusals, and
//! the server's settings. Uses no other module of the crate.
pub mod broadcast;
pub mod config;
pub mod error;
pub mod identity;
pub mod query;
pub mod redact;
