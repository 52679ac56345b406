//! Which rooms are gated, for public reads: every gate of the program from one
//! `getProgramAccounts`, shared by all callers for a short TTL (single flight), so a listing of a
//! thousand rooms costs one chain read, not one per room. A grant never uses it: it reads the
//! room's gate fresh (`rooms::playback`), so a gate change binds the next renewal at once.
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use roomcast_chain::{Gate, Pubkey};

/// Gates by room address.
pub type GateMap = Arc<HashMap<Pubkey, Gate>>;

pub struct Gates {
    all: moka::future::Cache<(), GateMap>,
}

impl Gates {
    pub fn new(ttl: Duration) -> Self {
        Gates {
            all: moka::future::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(1)
                .build(),
        }
    }

    /// Every gate, from `load` at most once per TTL (concurrent callers share one load).
    pub async fn all<F, E>(&self, load: F) -> Result<GateMap, Arc<E>>
    where
        F: Future<Output = Result<Vec<Gate>, E>>,
        E: Send + Sync + 'static,
    {
        self.all
            .try_get_with((), async {
                let gates = load.await?;
                Ok(Arc::new(gates.into_iter().map(|g| (g.room, g)).collect()))
            })
            .await
    }

    /// Forgets the gates, so the next read sees a change this server just made.
    pub async fn invalidate(&self) {
        self.all.invalidate(&()).await;
    }
}
