//! The chain lives on one dedicated thread; RPC handlers send it closures.
//!
//! LiteSVM is not `Sync`, and the native program's syscall stubs keep the invoke context per thread,
//! so one owner thread executing one request at a time is both the safe and the simple design.
use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

use crate::chain::LocalChain;

type Job = Box<dyn FnOnce(&mut LocalChain) + Send>;

#[derive(Clone)]
pub struct ChainExecutor {
    /// Bounded: past `max_queued` waiting requests the node answers "behind" instead of queueing
    /// without limit (memory, and latency for everyone).
    jobs: mpsc::SyncSender<Job>,
    max_queued: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ChainStopped {
    #[error("the local chain has stopped")]
    Stopped,
    #[error("the node is behind: {0} requests are already queued")]
    Busy(usize),
}

impl ChainExecutor {
    /// Spawns the owner thread; `make` builds the chain on it.
    pub fn spawn(max_queued: usize, make: impl FnOnce() -> LocalChain + Send + 'static) -> Self {
        let max_queued = max_queued.max(1);
        let (jobs, rx) = mpsc::sync_channel::<Job>(max_queued);
        thread::Builder::new()
            .name("roomcast-localnet-chain".into())
            .spawn(move || {
                let mut chain = make();
                while let Ok(job) = rx.recv() {
                    chain.tick();
                    // A panicking request must not take the node down: its caller gets
                    // `ChainStopped` (an internal error) and the node keeps serving.
                    let run = std::panic::AssertUnwindSafe(|| job(&mut chain));
                    if std::panic::catch_unwind(run).is_err() {
                        tracing::error!("a request panicked on the chain thread (bug)");
                    }
                }
            })
            .expect("spawn chain thread");
        ChainExecutor { jobs, max_queued }
    }

    /// Runs `f` on the chain thread and returns its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut LocalChain) -> R + Send + 'static,
    ) -> Result<R, ChainStopped> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .try_send(Box::new(move |chain| {
                let _ = tx.send(f(chain));
            }))
            .map_err(|e| match e {
                mpsc::TrySendError::Full(_) => ChainStopped::Busy(self.max_queued),
                mpsc::TrySendError::Disconnected(_) => ChainStopped::Stopped,
            })?;
        rx.await.map_err(|_| ChainStopped::Stopped)
    }

    /// Blocking variant for non-async callers (shutdown, tests).
    pub fn call_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut LocalChain) -> R + Send + 'static,
    ) -> Result<R, ChainStopped> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(Box::new(move |chain| {
                let _ = tx.send(f(chain));
            }))
            .map_err(|_| ChainStopped::Stopped)?;
        rx.recv().map_err(|_| ChainStopped::Stopped)
    }
}
