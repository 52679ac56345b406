//! Where an on-chain room change this server did not make lands, whoever noticed it: the chain watcher
//! (`jobs::chain_watch`, the moment it lands, and its catch-up after a reconnect), a room's events
//! poller (`http::sse`, only while the watcher is not subscribed) or the reconciler's pass
//! (`jobs::reconciler`). Cached state is replaced, listening pages are told, and a room that ended
//! behind the server's back (its host's wallet) gets its live input disabled and its broadcast
//! state dropped. An end this server makes itself (`rooms::end`) reacts the same way inline, and
//! the reconciler's own sweep of ended rooms with enabled inputs comes here too.
use roomcast_chain::{RoomRecord, RoomStatus};
use roomcast_stream::client::StreamError;

use crate::rooms;
use crate::state::AppState;

/// What [`apply`] did to the room's live input (the reconciler reports it).
#[derive(Debug)]
pub enum InputChange {
    /// The room has not ended: the input is left as it is.
    Kept,
    Disabled,
    /// Cloudflare refused or failed; the reconciler's next pass tries again.
    Failed(StreamError),
}

pub async fn apply(state: &AppState, record: &RoomRecord) -> InputChange {
    let session_id = &record.room.session_id;
    let mut input = InputChange::Kept;
    if record.room.status == RoomStatus::Ended {
        // The broadcast stops first, so whoever sees `ended` also sees the publisher gone.
        input = match rooms::try_disable_input(state, session_id).await {
            Ok(()) => {
                tracing::info!(session_id = %session_id, "room ended on-chain: live input disabled");
                InputChange::Disabled
            }
            Err(e) => {
                tracing::warn!(session_id = %session_id, error = %e, "could not disable the live input of an ended room");
                InputChange::Failed(e)
            }
        };
        state.live.remove(session_id);
    }
    // Listings may show the old state too; only this process's caches (every replica has its own
    // watcher).
    state.rooms.invalidate_local(&record.address).await;
    state
        .rooms
        .put_room(record.address, Some(record.room.clone()))
        .await;
    state.feeds.publish(&record.address, &record.room);
    input
}
