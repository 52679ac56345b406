//! What the Solana RPC API says on the wire, shared by the HTTP server ([`crate::rpc`]) and the
//! WebSocket server ([`crate::pubsub`]): the JSON-RPC error object with validators' codes
//! (`error.rs`), positional params and their config objects (`params.rs`), and account and
//! transaction encodings with `getProgramAccounts` filters (`encoding.rs`). Neither server is
//! needed to use it, so both can.
pub(crate) mod encoding;
mod error;
pub(crate) mod params;
pub(crate) mod token;

pub use error::RpcError;
