//! What every emulated Cloudflare route goes through around its work: the call is counted, an
//! injected fault applied (before the work, or to the answer after it), and on the account API
//! the bearer token and account checked.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::envelope::{envelope_error, envelope_ok, shutting_down};
use super::faults::Fault;
use super::route::Route;
use super::service::Service;

impl Service {
    /// Counts the call and applies an injected fault; `Some` short-circuits.
    pub(super) async fn enter(&self, route: Route) -> Option<Response> {
        match self.enter_mutation(route).await {
            Err(early) => Some(early),
            // A read changes nothing: a late or missing answer is the same as before processing.
            Ok(Some(Fault::AppliedThenLatency { ms })) => {
                self.before(route, Fault::Latency { ms }).await
            }
            Ok(Some(Fault::AppliedThenHang)) => self.before(route, Fault::Hang).await,
            Ok(Some(lost)) => Some(
                self.after_apply(lost, envelope_ok(StatusCode::OK, serde_json::Value::Null))
                    .await,
            ),
            Ok(None) => None,
        }
    }

    /// Counts the call and takes its fault: faults that act before processing answer now
    /// (`Err`), a post-apply fault is handed back to apply to the answer once the change is made.
    pub(super) async fn enter_mutation(&self, route: Route) -> Result<Option<Fault>, Response> {
        let fault = {
            let mut st = self.lock();
            st.count(route);
            st.faults.take(route)
        };
        let Some(fault) = fault else {
            return Ok(None);
        };
        if fault.after_apply() {
            tracing::debug!(%route, ?fault, "emulator will lose this answer after applying");
            return Ok(Some(fault));
        }
        match self.before(route, fault).await {
            Some(r) => Err(r),
            None => Ok(None),
        }
    }

    /// Applies a post-apply fault to `answer`: drop it mid-body, never send it, or send it late.
    pub(super) async fn after_apply(&self, fault: Fault, answer: Response) -> Response {
        match fault {
            Fault::AppliedThenDrop => {
                let (parts, _) = answer.into_parts();
                Response::from_parts(parts, axum::body::Body::new(LostBody))
            }
            Fault::AppliedThenHang => {
                self.until_shutdown().await;
                shutting_down()
            }
            Fault::AppliedThenLatency { ms } => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => answer,
                    _ = self.until_shutdown() => shutting_down(),
                }
            }
            _ => answer,
        }
    }

    async fn before(&self, route: Route, fault: Fault) -> Option<Response> {
        tracing::debug!(%route, ?fault, "emulator injecting fault");
        match fault {
            Fault::Latency { ms } => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => None,
                    _ = self.until_shutdown() => Some(shutting_down()),
                }
            }
            Fault::RateLimited { retry_after_secs } => {
                let mut r = envelope_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    971,
                    "Please wait and consider throttling your request speed",
                );
                r.headers_mut().insert(
                    "retry-after",
                    HeaderValue::from_str(&retry_after_secs.to_string())
                        .unwrap_or(HeaderValue::from_static("1")),
                );
                Some(r)
            }
            Fault::ServerError { status } | Fault::Status { status } => {
                let st = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let (code, msg) = match status {
                    401 | 403 => (10000, "Authentication error (injected)"),
                    404 => (10003, "Not found (injected)"),
                    400..=499 => (10005, "Bad request (injected)"),
                    _ => (10001, "Internal server error (injected)"),
                };
                Some(envelope_error(st, code, msg))
            }
            Fault::Hang => {
                self.until_shutdown().await;
                Some(shutting_down())
            }
            Fault::Malformed => Some(
                (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    r#"{"success":true,"errors":[],"messages":[],"result":{"uid":"#,
                )
                    .into_response(),
            ),
            Fault::AppliedThenDrop | Fault::AppliedThenHang | Fault::AppliedThenLatency { .. } => {
                None
            }
        }
    }

    /// Bearer check (constant time), then account check; `Some` = rejected.
    pub(super) fn reject(&self, headers: &HeaderMap, account: &str) -> Option<Response> {
        let Some(raw) = headers.get("authorization") else {
            return Some(envelope_error(
                StatusCode::UNAUTHORIZED,
                10000,
                "Authentication error: missing Authorization: Bearer header",
            ));
        };
        let token = raw
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .filter(|t| !t.is_empty());
        // No usable bearer credential at all → 401; a wrong one → 403.
        let Some(token) = token else {
            return Some(envelope_error(
                StatusCode::UNAUTHORIZED,
                10000,
                "Authentication error: Authorization header must be \"Bearer <token>\"",
            ));
        };
        let ok = bool::from(
            token
                .as_bytes()
                .ct_eq(self.api_token.expose_secret().as_bytes()),
        );
        if !ok {
            return Some(envelope_error(
                StatusCode::FORBIDDEN,
                10000,
                "Authentication error",
            ));
        }
        if account != self.account_id {
            return Some(envelope_error(
                StatusCode::NOT_FOUND,
                7003,
                format!("Could not route to /accounts/{account}/stream/live_inputs, perhaps your object identifier is invalid?"),
            ));
        }
        None
    }
}

/// A response body that fails before its first byte: the status line went out, then the
/// connection is cut — what a client sees when an answer is lost on the way back.
struct LostBody;

impl http_body::Body for LostBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "answer lost (injected fault)",
        ))))
    }
}
