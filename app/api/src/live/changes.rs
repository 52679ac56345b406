//! A change counter: how many times what a public answer is made of has changed in one part of
//! the state (`live::answers` serves kept answers while the sum of these stays the same).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Cheap to clone: clones count into the same counter.
#[derive(Clone, Default, Debug)]
pub struct Changes(Arc<AtomicU64>);

impl Changes {
    /// Something changed (call after the change is visible to readers).
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}
