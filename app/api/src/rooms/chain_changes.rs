//! Where an on-chain room change this server did not make lands, whoever noticed it: the chain watcher
//! (`jobs::chain_watch`, the moment it lands, and its catch-up after a reconnect), a room's events
//! poller (`http::sse`, only while the watcher is not subscribed) or the reconciler's pass
//! (`jobs::reconciler`). Cached state is replaced, listening pages are told, and a room that ended
//! behind the server's back (its host's wallet) gets its live input disabled and its broadcast
//! state dropped. An end this server makes itself (`rooms::end`) comes here too, as does the
//! reconciler's sweep of ended rooms with enabled inputs: one reaction to "this room ended".
use roomcast_chain::{RoomRecord, RoomStatus};
use roomcast_stream::client::StreamError;

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
        input = match try_disable_input(state, session_id).await {
            Ok(()) => {
                tracing::info!(session_id = %session_id, "room ended on-chain: live input disabled");
                InputChange::Disabled
            }
            Err(e) => {
                tracing::warn!(session_id = %session_id, error = %e, "could not disable the live input of an ended room");
                InputChange::Failed(e)
            }
        };
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

/// Disables the live input and records that nothing broadcasts on it any more.
pub async fn try_disable_input(state: &AppState, session_id: &str) -> Result<(), StreamError> {
    state.stream.set_enabled(session_id, false).await?;
    state.broadcasts.ended(session_id).await;
    Ok(())
}
