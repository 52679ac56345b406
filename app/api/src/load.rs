//! Load shedding in front of every route: a global cap on requests in flight (503 `overloaded`
//! instead of an unbounded queue of upstream calls) and a per-IP budget for reads, which are
//! anonymous and each may cost an RPC or Cloudflare call (429 `rate_limited`). Health, readiness
//! and metrics are exempt so probes keep working under load.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::error::AppError;
use crate::routes::ClientIp;
use crate::state::SharedState;

pub struct LoadLimits {
    in_flight: Arc<Semaphore>,
    reads: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoadLimits {
    pub fn new(max_in_flight: usize, reads_per_minute: NonZeroU32) -> Self {
        LoadLimits {
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            reads: RateLimiter::keyed(Quota::per_minute(reads_per_minute)),
        }
    }

    /// Forgets callers whose read budget has fully recovered.
    pub fn prune(&self) {
        self.reads.retain_recent();
        self.reads.shrink_to_fit();
    }

    fn check_read(&self, ip: IpAddr) -> Result<(), AppError> {
        self.reads.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited {
                message: "too many requests from this address; slow down".into(),
                retry_after_secs: wait.as_secs().max(1),
            }
        })
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn guard(
    State(state): State<SharedState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(req).await;
    }
    // Long-lived event streams (SSE) would hold a slot for their whole life: they are limited per
    // IP by the read budget below, not by the in-flight cap.
    let streaming = req.uri().path().ends_with("/events");
    let permit = if streaming {
        None
    } else {
        Some(state.load.in_flight.clone().try_acquire_owned())
    };
    let Ok(_permit) = permit.transpose() else {
        return AppError::Unavailable {
            code: "overloaded",
            message: "the server is handling too many requests; try again shortly".into(),
        }
        .into_response();
    };
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        if let Err(e) = state.load.check_read(ip) {
            return e.into_response();
        }
    }
    next.run(req).await
}
