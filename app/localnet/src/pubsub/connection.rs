//! One WebSocket connection: JSON-RPC subscribe/unsubscribe requests in, notifications out.
//!
//! Notifications of one event go out in subscription order, through a bounded queue to a writer
//! task. A client that stops reading fills
//! its queue (or falls behind the chain's event stream) and is disconnected; the node and the other
//! connections are not slowed down by it.
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::subscription::{signature_result, Kind};
use super::{stopped, Shared};
use crate::events::ChainEvent;
use crate::wire::params::Params;
use crate::wire::RpcError;

/// Largest request a client may send.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// How long a closing connection may take to flush what is queued.
const FLUSH_GRACE: Duration = Duration::from_secs(2);

/// Why the connection loop stopped.
enum End {
    Closed,
    Slow,
    /// Cut by an injected fault (`roomcastDropPubsubConnections`).
    Dropped,
}

pub async fn serve(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_REQUEST_BYTES))
        .max_frame_size(Some(MAX_REQUEST_BYTES));
    // Held by an injected fault: the handshake waits (its timeout starts after).
    tokio::select! {
        _ = shared.drops.released() => {}
        _ = stopped(&mut stop) => return,
    }
    // A client that connects and never completes the upgrade (or trickles it) is dropped.
    let handshake = tokio_tungstenite::accept_async_with_config(stream, Some(config));
    let ws = match tokio::time::timeout(shared.handshake_timeout, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "websocket handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(timeout = ?shared.handshake_timeout, "websocket handshake too slow: dropped");
            return;
        }
    };
    let (mut sink, mut source) = ws.split();
    let (out, mut queue) = mpsc::channel::<Message>(shared.queue_capacity);
    let mut writer = tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    let mut events = shared.events.subscribe();
    let mut drops = shared.drops.watch();
    let mut conn = Connection {
        shared: shared.clone(),
        subs: BTreeMap::new(),
        out,
    };
    let end = loop {
        tokio::select! {
            incoming = source.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Err(end) = conn.request(text.as_str()).await {
                        break end;
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    if let Err(end) = conn.request(&text).await {
                        break end;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break End::Closed,
                Some(Ok(_)) => {} // ping/pong are answered by tungstenite
            },
            event = events.recv() => match event {
                Ok(event) => {
                    if let Err(end) = conn.dispatch(&event) {
                        break end;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => break End::Slow,
                Err(broadcast::error::RecvError::Closed) => break End::Closed,
            },
            _ = drops.changed() => break End::Dropped,
            _ = stopped(&mut stop) => break End::Closed,
        }
    };
    shared
        .subscriptions
        .fetch_sub(conn.subs.len(), Ordering::Relaxed);
    drop(conn);
    match end {
        End::Slow => {
            tracing::warn!("websocket subscriber too slow: disconnected");
            writer.abort();
        }
        // Cut like a network drop: no close frame, nothing flushed.
        End::Dropped => {
            tracing::info!("websocket connection dropped (injected fault)");
            writer.abort();
        }
        End::Closed => {
            if tokio::time::timeout(FLUSH_GRACE, &mut writer)
                .await
                .is_err()
            {
                writer.abort();
            }
        }
    }
}

struct Connection {
    shared: Arc<Shared>,
    subs: BTreeMap<u64, Kind>,
    out: mpsc::Sender<Message>,
}

impl Connection {
    fn send(&self, value: Value) -> Result<(), End> {
        self.out
            .try_send(Message::text(value.to_string()))
            .map_err(|_| End::Slow)
    }

    async fn request(&mut self, text: &str) -> Result<(), End> {
        let reply = match serde_json::from_str::<Value>(text) {
            Err(_) => Some(error(Value::Null, RpcError::parse_error())),
            Ok(Value::Array(calls)) if calls.is_empty() => {
                Some(error(Value::Null, RpcError::invalid_request()))
            }
            Ok(Value::Array(calls)) => {
                let mut replies = Vec::new();
                let mut after = Vec::new();
                for call in calls {
                    let (reply, notes) = self.call(call).await;
                    replies.extend(reply);
                    after.extend(notes);
                }
                if !replies.is_empty() {
                    self.send(Value::Array(replies))?;
                }
                for note in after {
                    self.send(note)?;
                }
                None
            }
            Ok(call) => {
                let (reply, after) = self.call(call).await;
                if let Some(reply) = reply {
                    self.send(reply)?;
                }
                for note in after {
                    self.send(note)?;
                }
                None
            }
        };
        match reply {
            Some(reply) => self.send(reply),
            None => Ok(()),
        }
    }

    /// Answers one call; also returns notifications due right after the answer (a signature that
    /// already landed). A call without `id` is a JSON-RPC notification: no answer (e.g. pings).
    async fn call(&mut self, call: Value) -> (Option<Value>, Vec<Value>) {
        let id = call.get("id").cloned();
        let valid = call.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
        let Some(method) = call.get("method").and_then(Value::as_str).filter(|_| valid) else {
            return (
                Some(error(
                    id.unwrap_or(Value::Null),
                    RpcError::invalid_request(),
                )),
                Vec::new(),
            );
        };
        let params = call.get("params").cloned().unwrap_or(Value::Null);
        let result = self.method(method, params).await;
        let Some(id) = id else {
            return (None, Vec::new());
        };
        match result {
            Ok((value, after)) => (
                Some(json!({ "jsonrpc": "2.0", "result": value, "id": id })),
                after,
            ),
            Err(e) => (Some(error(id, e)), Vec::new()),
        }
    }

    async fn method(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<(Value, Vec<Value>), RpcError> {
        let p = Params::new(params)?;
        if let Some(name) = method.strip_suffix("Unsubscribe") {
            if Kind::parse_name(name).is_none() {
                return Err(RpcError::method_not_found());
            }
            let id = p.u64(0, "subscription id")?;
            return match self.subs.remove(&id) {
                Some(_) => {
                    self.shared.subscriptions.fetch_sub(1, Ordering::Relaxed);
                    Ok((json!(true), Vec::new()))
                }
                None => Err(RpcError::invalid_params("Invalid subscription id.")),
            };
        }
        let Some(name) = method.strip_suffix("Subscribe") else {
            return Err(RpcError::method_not_found());
        };
        if Kind::parse_name(name).is_none() {
            return Err(RpcError::method_not_found());
        }
        let kind = Kind::parse(name, &p)?;
        if self.subs.len() >= self.shared.max_per_connection {
            return Err(RpcError::new(
                RpcError::INTERNAL_ERROR,
                format!(
                    "Internal Error: Subscription refused. This connection holds {} subscriptions, the most one connection may hold",
                    self.shared.max_per_connection
                ),
            ));
        }
        if self.shared.subscriptions.fetch_add(1, Ordering::Relaxed)
            >= self.shared.max_subscriptions
        {
            self.shared.subscriptions.fetch_sub(1, Ordering::Relaxed);
            return Err(RpcError::new(
                RpcError::INTERNAL_ERROR,
                "Internal Error: Subscription refused. Node subscription limit reached",
            ));
        }
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let mut after = Vec::new();
        if let Kind::Signature { signature, .. } = &kind {
            // The transaction may have landed before the client subscribed (this node executes on
            // receipt): answer at once, as if it had landed right after.
            let signature = *signature;
            let landed = self
                .shared
                .chain
                .call(move |chain| chain.tx(&signature).map(|r| (r.slot, r.err.clone())))
                .await?;
            if let Some((slot, err)) = landed {
                self.shared.subscriptions.fetch_sub(1, Ordering::Relaxed);
                after.push(notification(
                    kind.notification_method(),
                    signature_result(slot, &err),
                    id,
                ));
                return Ok((json!(id), after));
            }
        }
        self.subs.insert(id, kind);
        Ok((json!(id), after))
    }

    fn dispatch(&mut self, event: &ChainEvent) -> Result<(), End> {
        let mut done = Vec::new();
        for (id, kind) in &self.subs {
            let results = kind.results(event);
            if results.is_empty() {
                continue;
            }
            for result in results {
                self.send(notification(kind.notification_method(), result, *id))?;
            }
            if kind.is_one_shot() {
                done.push(*id);
            }
        }
        for id in done {
            self.subs.remove(&id);
            self.shared.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

fn notification(method: &str, result: Value, subscription: u64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": method,
        "params": { "result": result, "subscription": subscription },
    })
}

fn error(id: Value, err: RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "error": err.to_json(), "id": id })
}
