//! The one place an on-chain room change lands, whoever noticed it: the chain watcher
//! (`chain_watch.rs`, the moment it lands) or a room's events poller (`events.rs`, only while the
//! watcher is not subscribed). Cached state is replaced, listening pages are told, and a room that
//! ended behind the server's back (its host's wallet) gets its live input disabled and its
//! broadcast state dropped.
use roomcast_chain::{RoomRecord, RoomStatus};

use crate::rooms;
use crate::state::AppState;

pub async fn apply(state: &AppState, record: &RoomRecord) {
    let session_id = &record.room.session_id;
    let ended = record.room.status == RoomStatus::Ended;
    if ended {
        // The broadcast stops first, so whoever sees `ended` also sees the publisher gone.
        if rooms::disable_input(state, session_id).await {
            tracing::info!(session_id = %session_id, "room ended on-chain: live input disabled");
        }
        state.live.remove(session_id);
    }
    // Listings may show the old state too; only this process's caches (every replica has its own
    // watcher).
    state.rooms.invalidate_local(&record.address).await;
    state
        .rooms
        .put_room(record.address, Some(record.room.clone()))
        .await;
    state.events.publish(&record.address, &record.room);
}
