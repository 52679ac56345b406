//! Live room changes over WebSocket PubSub: `programSubscribe` on the program's room accounts,
//! filtered by registry (`memcmp` at [`room_offsets::REGISTRY`]), decoded to [`RoomRecord`]s.
//! Spoken directly over tokio-tungstenite rather than through `solana-pubsub-client`, whose socket
//! sends pings but never notices that no answer comes back (a half-open link waits forever).
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::response::{Response, RpcKeyedAccount};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use roomcast::state::room_offsets;

use crate::client::RoomRecord;
use crate::error::ChainError;
use crate::redact::redact_url;
use crate::room::Room;

/// The WebSocket URL Solana clients derive from an RPC URL: same host, `ws(s)://`, and the port
/// plus one when a port is given (as `@solana/web3.js` does for `solana-test-validator`).
pub fn derive_ws_url(rpc_url: &str) -> String {
    let (scheme, rest) = match rpc_url.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", rpc_url),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once(':') {
        // `[::1]` alone has no port: its last segment does not parse as one.
        Some((host, port)) => match port.parse::<u16>() {
            Ok(p) if p < u16::MAX => format!("{host}:{}", p + 1),
            _ => authority.to_string(),
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{path}")
}

/// What a room watch reports.
#[derive(Debug, Clone)]
pub enum RoomWatch {
    /// The subscription is (again) in place: changes made while it was down were not seen, so the
    /// caller should catch up once from a listing.
    Subscribed,
    /// A room account as written at `slot` (the notification's context slot): a consumer keeping
    /// state orders by it, so a late or repeated notification never overwrites a newer one.
    Changed { record: Box<RoomRecord>, slot: u64 },
}

/// How a watch tells a live link from a silently dead one (NAT timeout, half-open TCP): a
/// WebSocket ping every `ping_every`; nothing at all heard (no pong, no message) for `dead_after`
/// ends the watch so the caller reconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub ping_every: Duration,
    pub dead_after: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            ping_every: Duration::from_secs(15),
            dead_after: Duration::from_secs(45),
        }
    }
}

/// How a watch that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEnd {
    /// The node closed the connection (or `changes` was closed).
    Closed,
    /// Nothing was heard for [`Keepalive::dead_after`]: the link is presumed dead.
    Silent,
}

/// Subscribes to `registry`'s room accounts and forwards every change until the connection ends
/// or goes silent (then returns, so the caller can reconnect) or `changes` is closed.
pub async fn watch_rooms(
    ws_url: &str,
    program_id: &Pubkey,
    registry: &Pubkey,
    keepalive: Keepalive,
    changes: mpsc::Sender<RoomWatch>,
) -> Result<WatchEnd, ChainError> {
    // The URL may carry the provider's API key (derived from the RPC URL): never in an error or log.
    let shown = redact_url(ws_url);
    let unreachable = |e: String| ChainError::unreachable(format!("websocket {shown}: {e}"));
    // Connecting and subscribing over a dead link must not hang either.
    let (mut ws, subscription) = tokio::time::timeout(keepalive.dead_after, async {
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        ws.send(Message::text(
            subscribe_request(program_id, registry).to_string(),
        ))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
        let subscription = loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let reply: Value = serde_json::from_str(text.as_str())
                        .map_err(|e| ChainError::rpc(format!("programSubscribe: {e}")))?;
                    if reply["id"] != SUBSCRIBE_ID {
                        continue;
                    }
                    match reply["result"].as_u64() {
                        Some(id) => break id,
                        None => {
                            return Err(ChainError::rpc(format!(
                                "programSubscribe: {}",
                                reply["error"]
                            )))
                        }
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(unreachable(e.to_string())),
                None => return Err(unreachable("closed while subscribing".into())),
            }
        };
        Ok((ws, subscription))
    })
    .await
    .map_err(|_| unreachable(format!("no answer within {:?}", keepalive.dead_after)))??;
    tracing::info!(url = %shown, registry = %registry, "watching rooms over PubSub");
    if changes.send(RoomWatch::Subscribed).await.is_err() {
        return Ok(WatchEnd::Closed);
    }
    let mut ping = tokio::time::interval(keepalive.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut heard = Instant::now();
    loop {
        let silent_at = heard + keepalive.dead_after;
        let message = tokio::select! {
            message = ws.next() => message,
            _ = ping.tick() => {
                // A send into a dead link usually succeeds (the kernel buffers it); only the
                // missing answer tells.
                let _ = tokio::time::timeout(keepalive.ping_every, ws.send(Message::Ping(Vec::new().into()))).await;
                continue;
            }
            _ = tokio::time::sleep_until(silent_at) => return Ok(WatchEnd::Silent),
        };
        heard = Instant::now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => return Ok(WatchEnd::Closed),
            Some(Ok(_)) => continue, // pongs (and pings, which tungstenite answers)
            Some(Err(e)) => return Err(unreachable(e.to_string())),
        };
        let Some((slot, record)) = decode_notification(text.as_str(), subscription) else {
            continue;
        };
        if changes
            .send(RoomWatch::Changed {
                record: Box::new(record),
                slot,
            })
            .await
            .is_err()
        {
            let _ = ws.close(None).await;
            return Ok(WatchEnd::Closed);
        }
    }
}

const SUBSCRIBE_ID: u64 = 1;

/// `programSubscribe` for rooms of `registry` (`memcmp` on the registry field), base64, confirmed.
fn subscribe_request(program_id: &Pubkey, registry: &Pubkey) -> Value {
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
            room_offsets::REGISTRY,
            registry.as_ref(),
        ))]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(CommitmentConfig::confirmed()),
            ..RpcAccountInfoConfig::default()
        },
        ..RpcProgramAccountsConfig::default()
    };
    json!({
        "jsonrpc": "2.0",
        "id": SUBSCRIBE_ID,
        "method": "programSubscribe",
        "params": [program_id.to_string(), config],
    })
}

/// A `programNotification` of `subscription` decoded to its slot and room (other accounts and
/// messages: `None`).
fn decode_notification(text: &str, subscription: u64) -> Option<(u64, RoomRecord)> {
    #[derive(Deserialize)]
    struct Notification {
        method: String,
        params: Params,
    }
    #[derive(Deserialize)]
    struct Params {
        result: Response<RpcKeyedAccount>,
        subscription: u64,
    }
    let n: Notification = serde_json::from_str(text).ok()?;
    if n.method != "programNotification" || n.params.subscription != subscription {
        return None;
    }
    let slot = n.params.result.context.slot;
    let keyed = n.params.result.value;
    tracing::debug!(account = %keyed.pubkey, "program account changed");
    let address = keyed.pubkey.parse::<Pubkey>().ok()?;
    let data = keyed.account.data.decode()?;
    // Registries share the program but not the layout: only rooms decode.
    let room = Room::decode(&data)?;
    Some((slot, RoomRecord { address, room }))
}

#[cfg(test)]
mod tests {
    use super::derive_ws_url;

    #[test]
    fn ws_url_is_derived_like_web3js() {
        assert_eq!(
            derive_ws_url("http://127.0.0.1:8899"),
            "ws://127.0.0.1:8900"
        );
        assert_eq!(
            derive_ws_url("http://localhost:1234/rpc"),
            "ws://localhost:1235/rpc"
        );
        assert_eq!(
            derive_ws_url("https://api.devnet.solana.com"),
            "wss://api.devnet.solana.com"
        );
        assert_eq!(
            derive_ws_url("https://rpc.example.com/key/abc"),
            "wss://rpc.example.com/key/abc"
        );
        assert_eq!(derive_ws_url("http://[::1]:8899"), "ws://[::1]:8900");
    }
}
