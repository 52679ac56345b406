//! Prometheus metrics: requests by route and status, latency histograms, upstream calls (recorded
//! by the Cloudflare and chain clients), cache hits.
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::StateRef;

/// Latency buckets (seconds): sub-millisecond cache hits up to slow upstream writes.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder (metrics are global; installed once).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
            .expect("valid buckets")
            .install_recorder()
            .expect("no other metrics recorder installed")
    })
}

/// Middleware: counts and times every request by matched route (not raw path: bounded labels).
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("roomcast_http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("roomcast_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a label from a fixed set: a caller can send any token as a method, and every new
/// label value is a new time series kept forever.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(state): State<StateRef>) -> impl IntoResponse {
    metrics::counter!("roomcast_room_cache_hits_total")
        .absolute(state.rooms.hits.load(Ordering::Relaxed));
    metrics::counter!("roomcast_room_cache_misses_total")
        .absolute(state.rooms.misses.load(Ordering::Relaxed));
    metrics::gauge!("roomcast_sse_streams_open").set(state.load.streams.open() as f64);
    metrics::gauge!("roomcast_room_pollers").set(state.feeds.pollers() as f64);
    metrics::gauge!("roomcast_action_end_watches").set(state.feeds.action_watches() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
}
