//! RPC URLs with credentials are never published and are redacted in logs and error bodies. The
//! functions live in `roomcast_chain::redact`, below both this crate and the chain client (whose
//! errors and PubSub watcher need them too).
pub use roomcast_chain::redact::{has_credentials, public_rpc_url, redact_url, redact_urls_in};
