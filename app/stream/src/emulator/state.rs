//! Everything behind the emulator's one lock ([`State`]): inputs, videos, faults, call counters,
//! the webhook and its deliveries. Handlers lock, call one transition (`inputs.rs`,
//! `broadcast.rs`), unlock, and only then send notifications (never while holding the lock).

use std::collections::HashMap;

use super::faults::FaultQueue;
use super::route::Route;
use super::webhook::{WebhookDelivery, WebhookTarget};
use crate::client::{LiveInput, Video};
use crate::media::rtmp::Stopper;

pub(crate) struct StoredInput {
    pub input: LiveInput,
    pub default_creator: Option<String>,
    pub live_video: Option<String>,
    pub views: u64,
    /// The real RTMP publish feeding this input (id, and how to drop it).
    pub publisher: Option<(u64, Stopper)>,
    /// The recording an encoder that comes back before `until` continues
    /// (`recording.timeoutSeconds` after its publish ended by itself).
    pub resume: Option<Resume>,
}

/// An ended publish's recording, open for the same input's next publish until `until`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resume {
    pub video: String,
    pub until: std::time::Instant,
}

#[derive(Default)]
pub(crate) struct State {
    pub order: Vec<String>,
    pub inputs: HashMap<String, StoredInput>,
    pub videos: Vec<Video>,
    pub faults: FaultQueue,
    pub calls: HashMap<Route, u64>,
    pub deliveries: Vec<WebhookDelivery>,
    pub webhook: Option<WebhookTarget>,
    /// Stream signing keys (`/stream/keys`): id → the public half and when it was made (the
    /// private half was shown once, at create).
    pub signing_keys: std::collections::BTreeMap<String, SigningKeyRecord>,
}

/// A signing key the account holds.
pub(crate) struct SigningKeyRecord {
    pub created: String,
    pub public: crate::signed_urls::PublicKey,
}

impl State {
    pub fn count(&mut self, route: Route) {
        *self.calls.entry(route).or_insert(0) += 1;
    }
}
