//! Answers kept serialized per room: the viewer answer (`GET /api/livestream`,
//! `GET /api/rooms/{room}`) and each room's item in discovery (`GET /api/rooms`). A request
//! compares what the answer is made of (the room, its broadcast state, gate and tip totals, and
//! for discovery the viewer count) with what the kept bytes were made of and, when nothing
//! changed, is served those bytes — no base58, no playback-URL formatting and no JSON
//! serialization per request. Any change (a chain notification, a webhook, a `lifecycle` answer)
//! makes the next request render once and keep the new bytes.
use std::sync::Arc;

use axum::body::Bytes;
use moka::sync::Cache;
use roomcast_chain::{Gate, Pubkey, Room};

use crate::core::broadcast::Broadcast;
use crate::live::tips::TipTotals;

/// Rooms whose answer is kept (each a few hundred bytes plus the room).
const MAX_ROOMS: u64 = 100_000;

/// What a viewer answer is made of.
#[derive(Clone, PartialEq, Eq)]
pub struct ViewInputs {
    pub room: Room,
    pub broadcasting: Option<bool>,
    pub broadcast: Option<Broadcast>,
    /// Its gate: a gated room's answer carries the gate and no playable URL.
    pub gate: Option<Gate>,
    pub tips: TipTotals,
}

/// What a room's item in discovery is made of.
#[derive(Clone, PartialEq, Eq)]
pub struct ListItemInputs {
    pub room: Room,
    pub broadcasting: Option<bool>,
    pub live_viewers: Option<u64>,
    /// `None` when the room is ungated; `Err` when gates could not be read (no URLs: fail closed).
    pub gate: Result<Option<Gate>, ()>,
    /// `None` until the room's tip history was read once.
    pub tips: Option<TipTotals>,
}

struct Rendered<I> {
    inputs: I,
    bytes: Bytes,
}

/// Answers of one kind, kept per room with what they were made of (`I`).
pub struct RenderedViews<I = ViewInputs> {
    by_room: Cache<Pubkey, Arc<Rendered<I>>>,
}

impl<I: Send + Sync + 'static> Default for RenderedViews<I> {
    fn default() -> Self {
        RenderedViews {
            by_room: Cache::builder().max_capacity(MAX_ROOMS).build(),
        }
    }
}

impl<I: PartialEq + Send + Sync + 'static> RenderedViews<I> {
    /// The kept bytes when `inputs` are what they were made of; else `render`'s, kept.
    pub fn get_or_render(
        &self,
        address: &Pubkey,
        inputs: I,
        render: impl FnOnce(&I) -> Bytes,
    ) -> Bytes {
        if let Some(kept) = self.by_room.get(address) {
            if kept.inputs == inputs {
                return kept.bytes.clone();
            }
        }
        let bytes = render(&inputs);
        self.by_room.insert(
            *address,
            Arc::new(Rendered {
                inputs,
                bytes: bytes.clone(),
            }),
        );
        bytes
    }

    /// `pick` of what the room's kept answer was made of, if one is kept.
    pub fn peek<T>(&self, address: &Pubkey, pick: impl FnOnce(&I) -> T) -> Option<T> {
        self.by_room.get(address).map(|kept| pick(&kept.inputs))
    }

    /// Forgets a room's answer (it ended or was closed).
    pub fn forget(&self, address: &Pubkey) {
        self.by_room.invalidate(address);
    }
}
