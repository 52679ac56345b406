//! Background reconciliation between the chain (source of truth) and Cloudflare:
//! - rooms ended straight on-chain (a host's wallet) whose live input is still enabled get the same
//!   reaction as when the chain watcher sees them end (`rooms::chain_changes`): input disabled, broadcast
//!   state dropped, cached room replaced, listening pages told;
//! - live inputs roomcast created (tagged in `meta`) with no room after a grace period are deleted
//!   (a create that died between the two sides) — never one whose create is still in flight
//!   (`rooms::flight`: lease live, or its `create_room` can still land), whatever the grace period;
//! - the broadcast state of rooms viewers are watching is refreshed from the public `lifecycle`
//!   endpoint, so a missed notification cannot leave it wrong;
//! - rooms whose live input no longer exists (deleted out of band, or a create whose on-chain half
//!   landed after the API gave up) are ended on-chain, so viewers get 410 instead of a dead player.
//!   Ending is irreversible, so a wrong view of Cloudflare (wrong account id, a token for another
//!   account, a transient empty page) must never cause it: a room is ended only when the listing
//!   shows at least one of this registry's rooms' inputs (the account is ours), its own input is
//!   absent from the listing *and* `GET live_inputs/{uid}` answers 404, and at most
//!   [`ReconcilerConfig::max_ends_per_pass`] per pass. Anything else is reported as `withheld`.
//!
//! It never deletes or disables a live input roomcast did not create for this registry.
use std::collections::HashMap;
use std::time::Duration;

use roomcast_chain::{RoomRecord, RoomStatus};
use roomcast_stream::client::StreamError;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::core::broadcast::{Applied, Broadcast, Phase};
use crate::rooms::chain_changes::{self, InputChange};
use crate::rooms::flight::{FLIGHT_TTL, META_FLIGHT_KEY};
use crate::rooms::{META_TAG_KEY, META_TAG_VALUE};
use crate::state::{AppState, StateRef};

pub use crate::core::config::ReconcilerConfig;

/// Most rooms closed in one pass.
const MAX_CLOSES_PER_PASS: usize = 20;

/// What one pass did.
#[derive(Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    /// Live inputs disabled because their room ended.
    pub disabled: Vec<String>,
    /// Orphaned live inputs deleted.
    pub deleted: Vec<String>,
    /// Rooms ended on-chain because their live input is gone.
    pub ended: Vec<String>,
    /// Rooms that looked like their input is gone but were not ended: not confirmed by a 404, the
    /// account shows none of this registry's inputs, or over the per-pass cap. Also live inputs
    /// without a room that were kept: their create is still in flight (or cannot be checked).
    pub withheld: Vec<String>,
    /// Ended rooms closed after the retention period (their rent went back to the registrar).
    pub closed: Vec<String>,
    /// How much the registrar's balance grew across the closes (rent minus fees), in lamports.
    pub rent_recovered_lamports: u64,
    /// Watched rooms whose broadcast state changed after checking `lifecycle`.
    pub refreshed: Vec<String>,
    /// Upstream failures (the next pass retries).
    pub errors: Vec<String>,
}

/// One replica: a pass every `config.interval` until `stop`.
pub fn spawn(state: StateRef, config: ReconcilerConfig, stop: CancellationToken) {
    if config.interval.is_zero() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(config.interval) => {}
            }
            let report = reconcile_once(&state, &config).await;
            metrics::counter!("roomcast_reconciler_passes_total").increment(1);
            if !(report.disabled.is_empty()
                && report.deleted.is_empty()
                && report.ended.is_empty()
                && report.withheld.is_empty()
                && report.closed.is_empty()
                && report.errors.is_empty())
            {
                report.log();
            }
        }
    });
}

/// Ids and errors a pass's log line names per kind at most (the counts are always whole).
const LOGGED_PER_KIND: usize = 5;

impl ReconcileReport {
    /// One bounded line: the counts, and the first few ids and errors of each kind (a pass over
    /// 100k rooms must not log 100k ids; the admin endpoint answers the whole report).
    fn log(&self) {
        let first = |v: &[String]| v[..v.len().min(LOGGED_PER_KIND)].to_vec();
        tracing::info!(
            disabled = self.disabled.len(),
            deleted = self.deleted.len(),
            ended = self.ended.len(),
            withheld = self.withheld.len(),
            closed = self.closed.len(),
            errors = self.errors.len(),
            first_disabled = ?first(&self.disabled),
            first_deleted = ?first(&self.deleted),
            first_ended = ?first(&self.ended),
            first_withheld = ?first(&self.withheld),
            first_closed = ?first(&self.closed),
            first_errors = ?first(&self.errors),
            rent_recovered_lamports = self.rent_recovered_lamports,
            "reconciled"
        );
    }
}

pub async fn reconcile_once(state: &AppState, config: &ReconcilerConfig) -> ReconcileReport {
    reconcile_fenced(state, config, None).await
}

/// A pass by the holder of the replicas' lease, valid until `lease_valid_until`: past it, the
/// pass makes no more changes (another replica may hold the lease by then) and reports what it
/// left as `withheld`.
pub async fn reconcile_fenced(
    state: &AppState,
    config: &ReconcilerConfig,
    lease_valid_until: Option<std::time::Instant>,
) -> ReconcileReport {
    let mut report = reconcile_pass(state, config, lease_valid_until).await;
    // Chain errors can carry the RPC URL (and its API key).
    for error in &mut report.errors {
        *error = crate::core::redact::redact_urls_in(error);
    }
    report
}

async fn reconcile_pass(
    state: &AppState,
    config: &ReconcilerConfig,
    lease_valid_until: Option<std::time::Instant>,
) -> ReconcileReport {
    let lease_lost = || lease_valid_until.is_some_and(|t| std::time::Instant::now() >= t);
    let orphan_grace = config.orphan_grace;
    let mut report = ReconcileReport::default();
    // Rooms younger than the grace period may be mid-create (input listed before it existed).
    let settled_before = OffsetDateTime::now_utc().unix_timestamp() - orphan_grace.as_secs() as i64;
    // The registry's rooms from the room index, brought up to the chain first (a sliced listing,
    // then only changed rooms read whole), oldest first like a listing: no full re-read per pass.
    // Until the index's first load is in, one full listing as before (an empty index must never
    // make every input look orphaned).
    let rooms = async {
        if !state.index.is_loaded() {
            let ours = roomcast_chain::RoomFilter {
                registry: Some(state.registry),
                ..Default::default()
            };
            return state.chain.rooms(&ours).await;
        }
        crate::jobs::room_index::catch_up(state).await?;
        let mut rooms = state.index.all();
        rooms.reverse();
        Ok::<_, roomcast_chain::ChainError>(rooms)
    };
    let (inputs, rooms) = tokio::join!(state.stream.list_live_inputs(), rooms);
    let rooms = match rooms {
        Ok(rooms) => rooms,
        Err(e) => {
            report.errors.push(format!("listing rooms: {e}"));
            return report;
        }
    };
    let records: HashMap<&str, &RoomRecord> = rooms
        .iter()
        .map(|r| (r.room.session_id.as_str(), r))
        .collect();
    let by_session: HashMap<&str, RoomStatus> = records
        .iter()
        .map(|(sid, r)| (*sid, r.room.status))
        .collect();
    // Rooms ended straight on-chain no longer need a broadcast state.
    for (sid, status) in &by_session {
        if *status == RoomStatus::Ended {
            state.broadcasts.forget(sid);
        }
    }
    // Uids of every listed live input, when the listing looks like this registry's account.
    let mut listing: Option<std::collections::HashSet<String>> = None;
    match inputs {
        Ok(list) => {
            let listed: std::collections::HashSet<String> =
                list.live_inputs.iter().map(|i| i.uid.clone()).collect();
            if listed
                .iter()
                .any(|uid| by_session.contains_key(uid.as_str()))
            {
                listing = Some(listed);
            }
            let registry = state.registry.to_string();
            let now = OffsetDateTime::now_utc();
            // The chain's block height, read once before the first orphan's room look-up.
            let mut height = None;
            for input in list.live_inputs {
                let tagged = input.meta.get(META_TAG_KEY).and_then(|v| v.as_str())
                    == Some(META_TAG_VALUE)
                    && input.meta.get("registry").and_then(|v| v.as_str())
                        == Some(registry.as_str());
                match by_session.get(input.uid.as_str()) {
                    Some(RoomStatus::Ended) if input.enabled && lease_lost() => {
                        report.withheld.push(input.uid);
                    }
                    None if tagged && lease_lost() => report.withheld.push(input.uid),
                    Some(RoomStatus::Ended) if input.enabled => {
                        // Ended straight on-chain and missed by the watcher: its reaction.
                        let record = records[input.uid.as_str()];
                        match chain_changes::apply(state, record).await {
                            InputChange::Disabled => report.disabled.push(input.uid),
                            InputChange::Failed(e) => {
                                report.errors.push(format!("disabling {}: {e}", input.uid))
                            }
                            InputChange::Kept => {}
                        }
                    }
                    None if tagged => {
                        let created = input
                            .created
                            .as_deref()
                            .and_then(|c| OffsetDateTime::parse(c, &Rfc3339).ok());
                        if created.is_some_and(|c| now - c >= orphan_grace) {
                            delete_orphan(state, input, &mut height, &mut report).await;
                        }
                    }
                    _ => {}
                }
            }
        }
        Err(e) => report.errors.push(format!("listing live inputs: {e}")),
    }
    let settled: Vec<_> = rooms
        .iter()
        .filter(|r| r.room.status != RoomStatus::Ended && r.room.created_at <= settled_before)
        .collect();
    match listing {
        Some(existing) => {
            let mut ended = 0;
            // Rooms over the cap are said in one line per pass, not one each: a registry whose
            // inputs vanished (100k rooms) once logged 100k lines a pass, stalling every request.
            let mut capped: Option<(usize, &str)> = None;
            for record in settled {
                let sid = record.room.session_id.as_str();
                if existing.contains(sid) {
                    continue;
                }
                if ended >= config.max_ends_per_pass {
                    capped.get_or_insert((0, sid)).0 += 1;
                    report.withheld.push(sid.to_string());
                    continue;
                }
                match state.stream.get_live_input(sid).await {
                    Err(StreamError::NotFound { .. }) => {}
                    Ok(_) => {
                        // Listed nowhere but found by uid: the listing was incomplete.
                        report.withheld.push(sid.to_string());
                        continue;
                    }
                    Err(e) => {
                        report.withheld.push(sid.to_string());
                        report
                            .errors
                            .push(format!("confirming the input of {sid} is gone: {e}"));
                        continue;
                    }
                }
                if lease_lost() {
                    report.withheld.push(sid.to_string());
                    continue;
                }
                ended += 1;
                match state.chain.end_room(state.registry, record.address).await {
                    Ok(_) => {
                        state.rooms.invalidate(&record.address).await;
                        state.broadcasts.ended(sid).await;
                        report.ended.push(sid.to_string());
                    }
                    Err(e) => report
                        .errors
                        .push(format!("ending room {} without input: {e}", record.address)),
                }
            }
            if let Some((rooms, first)) = capped {
                tracing::warn!(
                    rooms,
                    first_session_id = %first,
                    cap = config.max_ends_per_pass,
                    "inputs gone, but the per-pass cap of room ends is reached: these rooms wait for the next passes"
                );
            }
        }
        None => {
            // No input of ours is visible: the account id, token or page is wrong, not every input
            // gone. Say what would have happened; end nothing.
            if !settled.is_empty() {
                tracing::error!(
                    rooms = settled.len(),
                    "Cloudflare shows none of this registry's live inputs; not ending any room (check CLOUDFLARE_ACCOUNT_ID and the token)"
                );
            }
            report
                .withheld
                .extend(settled.iter().map(|r| r.room.session_id.clone()));
        }
    }

    if let Some(after) = config.close_ended_after {
        if lease_lost() {
            // Another replica may hold the lease now: leave closing to it.
        } else {
            close_ended(state, &rooms, after, &mut report).await;
        }
    }

    for session_id in state.rooms.watched() {
        if by_session.get(session_id.as_str()) != Some(&RoomStatus::Created)
            && by_session.get(session_id.as_str()) != Some(&RoomStatus::Live)
        {
            continue;
        }
        match state.stream.lifecycle(&session_id).await {
            Ok(lifecycle) => {
                state.broadcasts.observed(&session_id, lifecycle.live).await;
                let known_live = state
                    .broadcasts
                    .get(&session_id)
                    .map(|b| b.state == Phase::Live);
                if known_live.is_some_and(|known| known != lifecycle.live) {
                    let phase = if lifecycle.live {
                        Phase::Live
                    } else {
                        Phase::Idle
                    };
                    let next = Broadcast {
                        state: phase,
                        updated_at: OffsetDateTime::now_utc(),
                        error: None,
                        protocol: None,
                    };
                    match state.apply_broadcast(&session_id, next).await {
                        Ok(Applied::Updated) => report.refreshed.push(session_id),
                        Ok(Applied::Stale) => {}
                        Err(e) => report
                            .errors
                            .push(format!("sharing the state of {session_id}: {e}")),
                    }
                }
            }
            Err(e) => report
                .errors
                .push(format!("lifecycle of {session_id}: {e}")),
        }
    }
    report
}

/// Closes rooms that ended more than `after` ago, measuring the rent that came back.
async fn close_ended(
    state: &AppState,
    rooms: &[roomcast_chain::RoomRecord],
    after: Duration,
    report: &mut ReconcileReport,
) {
    let cutoff = OffsetDateTime::now_utc().unix_timestamp() - after.as_secs() as i64;
    let due: Vec<_> = rooms
        .iter()
        .filter(|r| r.room.status == RoomStatus::Ended)
        .filter(|r| r.room.ended_at.is_some_and(|t| t <= cutoff))
        .take(MAX_CLOSES_PER_PASS)
        .collect();
    if due.is_empty() {
        return;
    }
    let registrar = state.chain.signer_pubkey();
    let before = state.chain.balance(&registrar).await;
    for record in due {
        match state.chain.close_room(state.registry, record.address).await {
            Ok(_) => {
                state.bury(record.address).await;
                state.rooms.invalidate(&record.address).await;
                report.closed.push(record.room.session_id.clone());
            }
            Err(e) => report
                .errors
                .push(format!("closing ended room {}: {e}", record.address)),
        }
    }
    if let (Ok(before), Ok(after)) = (
        before,
        crate::guard::funds::registrar_balance(&state.chain).await,
    ) {
        report.rent_recovered_lamports = after.saturating_sub(before);
    }
}

/// Deletes a tagged input that has no room — unless its create is still in flight: its flight's
/// lease is live, or its sent `create_room` may still land (see `rooms::flight`). The block height is
/// read before the room look-up, so a transaction that lands after that look-up is one still valid
/// at that height, and dooming the flight is refused. A store that cannot answer withholds.
async fn delete_orphan(
    state: &AppState,
    input: roomcast_stream::client::LiveInputSummary,
    height: &mut Option<u64>,
    report: &mut ReconcileReport,
) {
    let flight = input
        .meta
        .get(META_FLIGHT_KEY)
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    if flight.is_some() && height.is_none() {
        match state.chain.block_height().await {
            Ok(h) => *height = Some(h),
            Err(e) => {
                report
                    .errors
                    .push(format!("reading the block height for {}: {e}", input.uid));
                report.withheld.push(input.uid);
                return;
            }
        }
    }
    // The room listing may be incomplete too: look the room up by address.
    if !no_room(state, &input.uid, report).await {
        return;
    }
    if let (Some(flight), Some(height)) = (flight, *height) {
        match state
            .idempotency
            .doom_flight(&flight, height, FLIGHT_TTL)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(session_id = %input.uid, "live input without a room kept: its create is still in flight (lease live, or its create_room can still land)");
                report.withheld.push(input.uid);
                return;
            }
            Err(e) => {
                tracing::warn!(session_id = %input.uid, error = %e, "live input without a room kept: cannot tell whether its create is still in flight");
                report
                    .errors
                    .push(format!("checking the create of {}: {e}", input.uid));
                report.withheld.push(input.uid);
                return;
            }
        }
    }
    match state.stream.delete_live_input(&input.uid).await {
        Ok(()) => report.deleted.push(input.uid),
        Err(e) => report
            .errors
            .push(format!("deleting orphan {}: {e}", input.uid)),
    }
}

/// True when the room of `session_id` certainly does not exist (an RPC failure is not "none").
async fn no_room(state: &AppState, session_id: &str, report: &mut ReconcileReport) -> bool {
    let address = state.chain.room_address(&state.registry, session_id);
    match state.chain.room(&address).await {
        Ok(room) => room.is_none(),
        Err(e) => {
            report
                .errors
                .push(format!("looking up the room of {session_id}: {e}"));
            false
        }
    }
}
