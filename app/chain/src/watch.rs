//! Live room changes over WebSocket PubSub: `programSubscribe` on the program's room accounts,
//! filtered by registry (`memcmp` at [`room_offsets::REGISTRY`]), decoded to [`RoomRecord`]s.
use anchor_lang::prelude::Pubkey;
use futures_util::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use tokio::sync::mpsc;

use roomcast::state::room_offsets;

use crate::client::RoomRecord;
use crate::error::ChainError;
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
    Changed(Box<RoomRecord>),
}

/// Subscribes to `registry`'s room accounts and forwards every change until the connection ends
/// (then returns, so the caller can reconnect) or `changes` is closed.
pub async fn watch_rooms(
    ws_url: &str,
    program_id: &Pubkey,
    registry: &Pubkey,
    changes: mpsc::Sender<RoomWatch>,
) -> Result<(), ChainError> {
    let client = PubsubClient::new(ws_url)
        .await
        .map_err(|e| ChainError::Unreachable(format!("websocket {ws_url}: {e}")))?;
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
    let (mut stream, unsubscribe) = client
        .program_subscribe(program_id, Some(config))
        .await
        .map_err(|e| ChainError::Rpc(format!("programSubscribe: {e}")))?;
    tracing::info!(url = %ws_url, registry = %registry, "watching rooms over PubSub");
    if changes.send(RoomWatch::Subscribed).await.is_err() {
        return Ok(());
    }
    while let Some(update) = stream.next().await {
        let keyed = update.value;
        tracing::debug!(account = %keyed.pubkey, "program account changed");
        let Ok(address) = keyed.pubkey.parse::<Pubkey>() else {
            continue;
        };
        let Some(data) = keyed.account.data.decode() else {
            continue;
        };
        // Registries share the program but not the layout: only rooms decode.
        let Some(room) = Room::decode(&data) else {
            continue;
        };
        let change = RoomWatch::Changed(Box::new(RoomRecord { address, room }));
        if changes.send(change).await.is_err() {
            break;
        }
    }
    drop(stream);
    unsubscribe().await;
    Ok(())
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
