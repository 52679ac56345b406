//! Solana JSON-RPC 2.0 over HTTP: envelope, batches and error codes as real clusters use them.
//! The vocabulary it shares with the WebSocket server (errors, params, encodings) is in
//! [`crate::wire`]; one function per method is in `methods.rs`.
pub(crate) mod methods;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

pub use crate::wire::RpcError;

use crate::executor::ChainExecutor;

/// The `apiVersion` reported in every response context, and by `getVersion`.
pub const API_VERSION: &str = "3.1.12";

#[derive(Clone)]
pub struct RpcState {
    pub chain: ChainExecutor,
    pub limits: RpcLimits,
    /// Faults for the next `sendTransaction` calls (tests of "landed, answer lost", "lands late").
    pub send_faults: SendFaults,
    /// Whether callers may queue [`SendFault`]s (`roomcastInjectSendFault`).
    pub fault_injection: bool,
    /// Calls answered so far, by method (what a test counts: "no chain read per request").
    pub calls: MethodCalls,
    /// Cuts every PubSub connection (`roomcastDropPubsubConnections`, with `fault_injection`).
    pub pubsub_drops: crate::events::PubsubDrops,
    /// Methods answered with "Method not found", as a provider that does not serve them
    /// (`roomcastRefuseMethods`, with `fault_injection`).
    pub refused: RefusedMethods,
}

/// Methods the node refuses for now (an injected fault: a provider that does not serve them).
#[derive(Clone, Default)]
pub struct RefusedMethods(std::sync::Arc<std::sync::RwLock<Vec<String>>>);

impl RefusedMethods {
    pub fn set(&self, methods: Vec<String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = methods;
    }

    fn refuses(&self, method: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|m| m == method)
    }
}

/// How many times each JSON-RPC method was called (a batch counts each of its calls).
#[derive(Clone, Default)]
pub struct MethodCalls(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>);

impl MethodCalls {
    pub fn count(&self, method: &str) {
        let mut calls = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match calls.get_mut(method) {
            Some(n) => *n += 1,
            // Only names the node knows are kept, so callers cannot grow the map.
            None if crate::rpc::methods::KNOWN.contains(&method) => {
                calls.insert(method.to_string(), 1);
            }
            None => {}
        }
    }

    pub fn get(&self, method: &str) -> u64 {
        let calls = self.0.lock().unwrap_or_else(|e| e.into_inner());
        calls.get(method).copied().unwrap_or(0)
    }
}

/// What happens to a `sendTransaction` call and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFault {
    /// Processed, then the connection is cut after the status line: the caller cannot tell
    /// whether it landed.
    Lost,
    /// Processed; the answer comes this late.
    Late(std::time::Duration),
    /// The answer is lost at once and the transaction is processed this much later (a leader that
    /// got it late): a caller that looks right away finds nothing, yet it lands.
    LandsLate(std::time::Duration),
    /// The answer is lost and the transaction is never processed (a leader that never got it).
    NeverLands,
}

/// A queue of [`SendFault`]s, one per coming `sendTransaction` call.
#[derive(Clone, Default)]
pub struct SendFaults(std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<SendFault>>>);

impl SendFaults {
    pub fn push(&self, fault: SendFault, times: usize) {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        q.extend(std::iter::repeat_n(fault, times));
    }

    fn take(&self) -> Option<SendFault> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }

    /// `sendTransaction` calls that will still get a fault: 0 once every one has fired.
    pub fn pending(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// `roomcastInjectSendFault [{"kind":"lost"|"late"|"lands_late"|"never_lands","ms":N}, times]`:
/// queues a fault for the next `times` `sendTransaction` calls.
fn inject_send_fault(state: &RpcState, params: &Value) -> Result<(), RpcError> {
    let fault = &params[0];
    let times = params[1].as_u64().unwrap_or(1) as usize;
    let ms = || std::time::Duration::from_millis(fault["ms"].as_u64().unwrap_or(1000));
    let fault = match fault["kind"].as_str() {
        Some("lost") => SendFault::Lost,
        Some("late") => SendFault::Late(ms()),
        Some("lands_late") => SendFault::LandsLate(ms()),
        Some("never_lands") => SendFault::NeverLands,
        _ => {
            return Err(RpcError::invalid_params(
                "expected [{\"kind\":\"lost\"|\"late\"|\"lands_late\"|\"never_lands\",\"ms\":N}, times]",
            ))
        }
    };
    state.send_faults.push(fault, times.min(1000));
    Ok(())
}

/// A body that fails before its first byte (the answer is lost on the way back).
struct LostBody;

impl http_body::Body for LostBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "answer lost (injected fault)",
        ))))
    }
}

/// What one request may cost the node (it is a dev tool, but reachable).
#[derive(Debug, Clone, Copy)]
pub struct RpcLimits {
    /// Calls in one JSON-RPC batch.
    pub max_batch: usize,
    /// Bytes of one HTTP response (a batch counts as one).
    pub max_response_bytes: usize,
    /// Requests waiting for the chain thread before new ones get -32005.
    pub max_queued: usize,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            max_batch: 100,
            max_response_bytes: 32 * 1024 * 1024,
            max_queued: 1024,
        }
    }
}

pub fn router(state: RpcState) -> Router {
    Router::new()
        .route("/", post(handle))
        // Hosted providers put the API key in the path (`/v2/<key>`, `/<token>/`): any path is
        // served the same, so such URLs can be tried against this node.
        .route("/{*path}", post(handle))
        .route("/health", get(|| async { "ok" }))
        // Like a cluster's RPC, any origin may call it: a web page's wallet flow sends through it.
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([header::CONTENT_TYPE, header::ACCEPT]),
        )
        .with_state(state)
}

async fn handle(State(state): State<RpcState>, body: Bytes) -> axum::response::Response {
    let parsed = serde_json::from_slice::<Value>(&body);
    let sends = matches!(&parsed, Ok(call) if call.get("method").and_then(Value::as_str) == Some("sendTransaction"));
    let fault = sends.then(|| state.send_faults.take()).flatten();
    match (fault, &parsed) {
        (Some(SendFault::NeverLands), _) => {
            tracing::debug!("sendTransaction dropped unprocessed; losing its answer (injected)");
            return lost_answer();
        }
        (Some(SendFault::LandsLate(delay)), Ok(call)) => {
            tracing::debug!(
                ?delay,
                "sendTransaction held back; losing its answer (injected)"
            );
            let (state, call) = (state.clone(), call.clone());
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                handle_call(&state, call).await;
            });
            return lost_answer();
        }
        _ => {}
    }
    let response = match parsed {
        Err(_) => error_response(Value::Null, RpcError::parse_error()),
        Ok(Value::Array(calls)) if calls.is_empty() => {
            error_response(Value::Null, RpcError::invalid_request())
        }
        Ok(Value::Array(calls)) if calls.len() > state.limits.max_batch => error_response(
            Value::Null,
            RpcError::new(
                RpcError::INVALID_REQUEST,
                format!(
                    "Invalid request: a batch may hold at most {} calls, got {}",
                    state.limits.max_batch,
                    calls.len()
                ),
            ),
        ),
        Ok(Value::Array(calls)) => {
            let mut responses = Vec::with_capacity(calls.len());
            for call in calls {
                responses.push(handle_call(&state, call).await);
            }
            Value::Array(responses)
        }
        Ok(call) => handle_call(&state, call).await,
    };
    let mut text = response.to_string();
    if text.len() > state.limits.max_response_bytes {
        let id = response.get("id").cloned().unwrap_or(Value::Null);
        let err = RpcError::new(
            RpcError::INTERNAL_ERROR,
            format!(
                "Internal error: the response is {} bytes, over this node's limit of {}; ask for less (filters, dataSlice, smaller batches)",
                text.len(),
                state.limits.max_response_bytes
            ),
        );
        text = error_response(id, err).to_string();
    }
    let answer = ([(header::CONTENT_TYPE, "application/json")], text).into_response();
    match fault {
        Some(SendFault::Lost) => {
            tracing::debug!("sendTransaction processed; losing its answer (injected)");
            lost_answer()
        }
        Some(SendFault::Late(delay)) => {
            tokio::time::sleep(delay).await;
            answer
        }
        _ => answer,
    }
}

/// A 200 whose body fails before its first byte: the caller cannot tell what happened.
fn lost_answer() -> axum::response::Response {
    let answer = ([(header::CONTENT_TYPE, "application/json")], "").into_response();
    let (parts, _) = answer.into_parts();
    axum::response::Response::from_parts(parts, axum::body::Body::new(LostBody))
}

async fn handle_call(state: &RpcState, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let valid = call.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let Some(method) = call.get("method").and_then(Value::as_str).filter(|_| valid) else {
        return error_response(id, RpcError::invalid_request());
    };
    let params = call.get("params").cloned().unwrap_or(Value::Null);
    // `roomcastDropPubsubConnections []`: every open PubSub connection is cut at once (as a
    // network drop would); the answer is how many there were.
    if method == "roomcastDropPubsubConnections" && state.fault_injection {
        let dropped = state.pubsub_drops.drop_all();
        return json!({ "jsonrpc": "2.0", "result": dropped, "id": id });
    }
    // `roomcastRefuseMethods [["getSignaturesForAddress", …]]`: those methods are answered with
    // "Method not found" until the next call (`[[]]`: none).
    if method == "roomcastRefuseMethods" && state.fault_injection {
        let methods: Option<Vec<String>> = params
            .get(0)
            .and_then(|m| serde_json::from_value(m.clone()).ok());
        return match methods {
            Some(methods) => {
                state.refused.set(methods);
                json!({ "jsonrpc": "2.0", "result": true, "id": id })
            }
            None => error_response(id, RpcError::invalid_params("expected [[method, …]]")),
        };
    }
    if state.refused.refuses(method) {
        return error_response(id, RpcError::method_not_found());
    }
    // `roomcastHoldPubsubConnections [true|false]`: while held, new PubSub connections wait
    // before their handshake.
    if method == "roomcastHoldPubsubConnections" && state.fault_injection {
        return match params.get(0).and_then(Value::as_bool) {
            Some(held) => {
                state.pubsub_drops.hold(held);
                json!({ "jsonrpc": "2.0", "result": held, "id": id })
            }
            None => error_response(id, RpcError::invalid_params("expected [true|false]")),
        };
    }
    if method == "roomcastInjectSendFault" && state.fault_injection {
        return match inject_send_fault(state, &params) {
            Ok(()) => json!({ "jsonrpc": "2.0", "result": true, "id": id }),
            Err(err) => error_response(id, err),
        };
    }
    match methods::dispatch(state, method, params).await {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(err) => error_response(id, err),
    }
}

fn error_response(id: Value, err: RpcError) -> Value {
    json!({ "jsonrpc": "2.0", "error": err.to_json(), "id": id })
}
