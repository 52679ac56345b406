//! Faults a test injects into the next calls of a route ([`Fault`]), and the per-route queue
//! they wait in. What a fault does to a request is in `gate.rs`.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::route::Route;

/// A fault to inject into the next calls of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Delay, then answer normally.
    Latency { ms: u64 },
    /// 429 with `retry-after: <retry_after_secs>` and an error envelope.
    RateLimited { retry_after_secs: u64 },
    /// The given 5xx status with an error envelope.
    ServerError { status: u16 },
    /// Any 4xx/5xx status with an error envelope (e.g. 401 to exercise
    /// auth handling without a missing header).
    Status { status: u16 },
    /// Never answer (until the emulator shuts down).
    Hang,
    /// 200 with a truncated, unparsable JSON body.
    Malformed,
    /// The change is made, then the connection drops before the answer's body: "done upstream,
    /// answer lost" (mutating routes; others behave as `hang`-free normal answers).
    AppliedThenDrop,
    /// The change is made, then the answer never comes (until the emulator shuts down).
    AppliedThenHang,
    /// The change is made, then the answer comes `ms` late.
    AppliedThenLatency { ms: u64 },
}

impl Fault {
    /// Why this fault cannot be injected (a status out of its range), if it cannot.
    pub(crate) fn invalid(&self) -> Option<String> {
        match self {
            Fault::ServerError { status } if !(500..=599).contains(status) => {
                Some(format!("server_error status must be 500-599, got {status}"))
            }
            Fault::Status { status } if !(400..=599).contains(status) => {
                Some(format!("status must be 400-599, got {status}"))
            }
            _ => None,
        }
    }

    /// Faults that act after the request was processed.
    pub fn after_apply(&self) -> bool {
        matches!(
            self,
            Fault::AppliedThenDrop | Fault::AppliedThenHang | Fault::AppliedThenLatency { .. }
        )
    }
}

/// Faults waiting for each route's next calls, in the order they were injected.
#[derive(Default)]
pub(crate) struct FaultQueue(HashMap<Route, VecDeque<(Fault, u32)>>);

impl FaultQueue {
    /// Pops the fault (if any) that applies to this call of `route`.
    pub fn take(&mut self, route: Route) -> Option<Fault> {
        let q = self.0.get_mut(&route)?;
        let (fault, left) = q.front_mut()?;
        let f = fault.clone();
        *left -= 1;
        if *left == 0 {
            q.pop_front();
        }
        Some(f)
    }

    pub fn inject(&mut self, route: Route, fault: Fault, times: u32) {
        if times > 0 {
            self.0.entry(route).or_default().push_back((fault, times));
        }
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Calls of `route` that will still get a fault (a test's proof that its faults fired).
    pub fn pending(&self, route: Route) -> u32 {
        self.0
            .get(&route)
            .map_or(0, |q| q.iter().map(|(_, left)| left).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_n_times_in_order() {
        let mut s = FaultQueue::default();
        s.inject(Route::GetLiveInput, Fault::Hang, 2);
        s.inject(Route::GetLiveInput, Fault::Malformed, 1);
        s.inject(Route::GetLiveInput, Fault::Malformed, 0);
        assert_eq!(s.pending(Route::GetLiveInput), 3);
        assert_eq!(s.take(Route::GetLiveInput), Some(Fault::Hang));
        assert_eq!(s.take(Route::GetLiveInput), Some(Fault::Hang));
        assert_eq!(s.take(Route::GetLiveInput), Some(Fault::Malformed));
        assert_eq!(s.take(Route::GetLiveInput), None);
        assert_eq!(s.pending(Route::GetLiveInput), 0);
        assert_eq!(s.take(Route::Views), None);
    }
}
