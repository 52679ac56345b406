//! The RTMP listener. The protocol is scuffle-rtmp's; what a publish may do is decided behind
//! the [`Ingest`] trait, so another RTMP crate (e.g. `rml_rtmp`) can replace this module
//! without touching the emulator. A refused publish ends the connection before anything is
//! accepted; a publish the emulator stops (input disabled, deleted, keys rotated) is dropped by
//! dropping its session, which closes the socket at once.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use scuffle_rtmp::chunk::error::ChunkReadError;
use scuffle_rtmp::command_messages::UnknownCommand;
use scuffle_rtmp::error::RtmpError;
use scuffle_rtmp::messages::UnknownMessage;
use scuffle_rtmp::session::server::{ServerSessionError, SessionData, SessionHandler};
use scuffle_rtmp::ServerSession;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::flv::{MediaTag, TagKind};

/// What anonymous clients can make the RTMP listener hold: connections in total and per client
/// address (IPv6 per /64), how long a connection may take to reach `publish`, and how large a
/// message may be before it does (commands are small; only media needs scuffle-rtmp's 10 MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtmpLimits {
    pub max_connections: usize,
    pub max_per_address: usize,
    pub publish_deadline: Duration,
    pub max_message_before_publish: usize,
}

impl Default for RtmpLimits {
    fn default() -> Self {
        RtmpLimits {
            max_connections: 256,
            max_per_address: 16,
            publish_deadline: Duration::from_secs(10),
            max_message_before_publish: 64 * 1024,
        }
    }
}

/// Connections the listener ended because of [`RtmpLimits`], by limit.
#[derive(Debug, Default)]
pub struct RtmpStats {
    over_capacity: AtomicU64,
    over_address: AtomicU64,
    no_publish_in_time: AtomicU64,
    message_too_large: AtomicU64,
}

/// A snapshot of [`RtmpStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtmpDrops {
    /// Refused at accept: [`RtmpLimits::max_connections`] were open.
    pub over_capacity: u64,
    /// Refused at accept: [`RtmpLimits::max_per_address`] were open from that address.
    pub over_address: u64,
    /// Dropped: no `publish` within [`RtmpLimits::publish_deadline`].
    pub no_publish_in_time: u64,
    /// Ended: a message over [`RtmpLimits::max_message_before_publish`] before `publish`.
    pub message_too_large: u64,
}

impl RtmpStats {
    pub fn snapshot(&self) -> RtmpDrops {
        RtmpDrops {
            over_capacity: self.over_capacity.load(Ordering::Relaxed),
            over_address: self.over_address.load(Ordering::Relaxed),
            no_publish_in_time: self.no_publish_in_time.load(Ordering::Relaxed),
            message_too_large: self.message_too_large.load(Ordering::Relaxed),
        }
    }
}

/// Open connections, in total and per client address (IPv6 keyed by its /64).
#[derive(Default)]
struct Open {
    total: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; counted out when dropped.
struct Admitted {
    open: Arc<Open>,
    key: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.open.total.fetch_sub(1, Ordering::SeqCst);
        let mut per = self
            .open
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                per.remove(&self.key);
            }
        }
    }
}

/// The address a client cannot trivially rotate: IPv4 as is, IPv6 by its /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl Open {
    /// Admits a connection from `peer` unless a limit is reached (then says which).
    fn admit(self: &Arc<Self>, peer: IpAddr, limits: &RtmpLimits) -> Result<Admitted, bool> {
        let key = address_key(peer);
        let mut per = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        if self.total.load(Ordering::SeqCst) >= limits.max_connections {
            return Err(true);
        }
        let n = per.entry(key).or_insert(0);
        if *n >= limits.max_per_address {
            return Err(false);
        }
        *n += 1;
        self.total.fetch_add(1, Ordering::SeqCst);
        Ok(Admitted {
            open: self.clone(),
            key,
        })
    }
}

/// Why a publish was refused (logged; the publisher only sees its connection end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// How a publish ended, as the RTMP side saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishEnd {
    /// The publisher unpublished or closed its connection.
    Left,
    /// The emulator stopped it ([`Stopper::stop`]) or the listener shut down.
    Dropped,
    /// The media sink stopped taking tags (the recording failed).
    SinkClosed,
    /// The connection broke with a protocol error.
    Broken(String),
}

/// An accepted publish.
pub struct Accepted {
    /// Identifies the publish in [`Ingest::end`].
    pub id: u64,
    /// Where media goes; `None` discards it (nothing is recorded).
    pub media: Option<mpsc::Sender<MediaTag>>,
}

/// Ends one publisher's connection from outside its session.
#[derive(Debug, Clone)]
pub struct Stopper(Arc<watch::Sender<bool>>);

impl Stopper {
    pub(crate) fn new() -> (Stopper, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(false);
        (Stopper(Arc::new(tx)), rx)
    }

    /// Drops the publisher (idempotent; returns at once).
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// What the RTMP server asks of the emulator.
pub trait Ingest: Send + Sync + 'static {
    /// A publisher asks to publish `stream_key` under application `app`.
    fn begin(&self, app: &str, stream_key: &str, stopper: Stopper) -> Result<Accepted, Refusal>;
    /// The publish `id` is over (called exactly once per accepted publish).
    fn end(&self, id: u64, how: PublishEnd) -> impl Future<Output = ()> + Send;
}

/// Accepts RTMP connections until `shutdown` turns true, then drops every publisher and waits
/// for their [`Ingest::end`] to finish. A connection over a [`RtmpLimits`] cap is closed at once;
/// what each limit ended is counted in `stats`.
pub async fn serve<I: Ingest>(
    listener: TcpListener,
    ingest: Arc<I>,
    limits: RtmpLimits,
    stats: Arc<RtmpStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    let for_conns = shutdown.clone();
    let open = Arc::new(Open::default());
    loop {
        tokio::select! {
            _ = until_true(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let admitted = match open.admit(peer.ip(), &limits) {
                        Ok(admitted) => admitted,
                        Err(global) => {
                            let counter = if global { &stats.over_capacity } else { &stats.over_address };
                            counter.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(%peer, global, "rtmp connection refused: too many open");
                            drop(socket);
                            continue;
                        }
                    };
                    tracing::debug!(%peer, "rtmp connection");
                    let (ingest, stats, shutdown) = (ingest.clone(), stats.clone(), for_conns.clone());
                    conns.spawn(async move {
                        connection(socket, ingest, limits, stats, shutdown).await;
                        drop(admitted);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rtmp accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

/// Resolves once the flag is set (or its sender is gone).
async fn until_true(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// The publish of one connection, shared between the session handler and the connection task.
#[derive(Default)]
struct Slot {
    active: Option<Accepted>,
    sink_closed: bool,
    /// A publish was accepted on this connection (the publish deadline no longer applies).
    published: bool,
}

struct Handler<I> {
    ingest: Arc<I>,
    stopper: Stopper,
    slot: Arc<Mutex<Slot>>,
}

/// scuffle-rtmp's handler error type has no "refused" variant; any `Err` ends the session, and
/// the reason is logged here.
fn refuse() -> ServerSessionError {
    ServerSessionError::PlayNotSupported
}

impl<I: Ingest> SessionHandler for Handler<I> {
    async fn on_publish(
        &mut self,
        _stream_id: u32,
        app_name: &str,
        stream_name: &str,
    ) -> Result<(), ServerSessionError> {
        if self.slot.lock().unwrap().active.is_some() {
            tracing::info!("rtmp publish refused: this connection already publishes");
            return Err(refuse());
        }
        match self
            .ingest
            .begin(app_name, stream_name, self.stopper.clone())
        {
            Ok(a) => {
                let mut slot = self.slot.lock().unwrap();
                slot.active = Some(a);
                slot.published = true;
                Ok(())
            }
            Err(Refusal(why)) => {
                // Never log the key itself.
                tracing::info!(app = app_name, reason = %why, "rtmp publish refused");
                Err(refuse())
            }
        }
    }

    // scuffle-rtmp's default handlers log unknown commands with their arguments, and encoders
    // send the stream key in `releaseStream` / `FCPublish`: log names only.
    async fn on_unknown_command(
        &mut self,
        _stream_id: u32,
        command: UnknownCommand<'_>,
    ) -> Result<(), ServerSessionError> {
        tracing::debug!(command = ?command.command_name, "rtmp command ignored");
        Ok(())
    }

    async fn on_unknown_message(
        &mut self,
        _stream_id: u32,
        message: UnknownMessage,
    ) -> Result<(), ServerSessionError> {
        tracing::debug!(msg_type = ?message.msg_type_id, "rtmp message ignored");
        Ok(())
    }

    async fn on_unpublish(&mut self, _stream_id: u32) -> Result<(), ServerSessionError> {
        let active = self.slot.lock().unwrap().active.take();
        if let Some(a) = active {
            drop(a.media);
            self.ingest.end(a.id, PublishEnd::Left).await;
        }
        Ok(())
    }

    async fn on_data(
        &mut self,
        _stream_id: u32,
        data: SessionData,
    ) -> Result<(), ServerSessionError> {
        let (kind, timestamp, data) = match data {
            SessionData::Audio { timestamp, data } => (TagKind::Audio, timestamp, data),
            SessionData::Video { timestamp, data } => (TagKind::Video, timestamp, data),
            // `@setDataFrame onMetaData`: ffmpeg does not need it.
            SessionData::Amf0 { .. } => return Ok(()),
        };
        tracing::trace!(?kind, timestamp, len = data.len(), "rtmp media");
        let sink = self
            .slot
            .lock()
            .unwrap()
            .active
            .as_ref()
            .and_then(|a| a.media.clone());
        let Some(sink) = sink else { return Ok(()) };
        let tag = MediaTag {
            kind,
            timestamp,
            data,
        };
        if sink.send(tag).await.is_err() {
            self.slot.lock().unwrap().sink_closed = true;
            return Err(refuse());
        }
        Ok(())
    }
}

/// Resolves when `deadline` has passed without a publish on the connection (never after one).
async fn publish_deadline(slot: &Mutex<Slot>, deadline: Duration) {
    tokio::time::sleep(deadline).await;
    if slot.lock().unwrap().published {
        std::future::pending::<()>().await;
    }
}

async fn connection<I: Ingest>(
    socket: TcpStream,
    ingest: Arc<I>,
    limits: RtmpLimits,
    stats: Arc<RtmpStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = socket.set_nodelay(true);
    let (stopper, mut stopped) = Stopper::new();
    let slot = Arc::new(Mutex::new(Slot::default()));
    let handler = Handler {
        ingest: ingest.clone(),
        stopper,
        slot: slot.clone(),
    };
    let session = ServerSession::new(socket, handler)
        .with_max_message_size_before_publish(limits.max_message_before_publish);
    // Dropping the session future (the other branches) closes the socket.
    let how = tokio::select! {
        r = session.run() => match r {
            Ok(_) => PublishEnd::Left,
            Err(e) if e.is_client_closed() => PublishEnd::Left,
            Err(_) if slot.lock().unwrap().sink_closed => PublishEnd::SinkClosed,
            Err(RtmpError::ChunkRead(ChunkReadError::PartialChunkTooLarge(n)))
                if !slot.lock().unwrap().published =>
            {
                stats.message_too_large.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(bytes = n, "rtmp connection ended: message too large before publish");
                PublishEnd::Broken(format!("a {n}-byte message before publish"))
            }
            Err(e) => PublishEnd::Broken(e.to_string()),
        },
        _ = publish_deadline(&slot, limits.publish_deadline) => {
            stats.no_publish_in_time.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(deadline = ?limits.publish_deadline, "rtmp connection dropped: no publish in time");
            PublishEnd::Dropped
        }
        _ = until_true(&mut stopped) => PublishEnd::Dropped,
        _ = until_true(&mut shutdown) => PublishEnd::Dropped,
    };
    let active = slot.lock().unwrap().active.take();
    match active {
        Some(a) => {
            drop(a.media);
            ingest.end(a.id, how).await;
        }
        // A connection that never published: say why it ended (a client the session cannot
        // talk to would otherwise leave no trace after "handshake complete").
        None => tracing::debug!(?how, "rtmp connection closed without a publish"),
    }
}

/// The chunk-level fixes of the vendored scuffle-rtmp (vendor/scuffle-rtmp/PATCHES.md), on the
/// exact bytes clients send; the real-client tests are app/stream/tests/encoders.rs.
#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use scuffle_rtmp::chunk::reader::ChunkReader;

    fn read_all(bytes: &[u8]) -> Vec<(u8, u32, u32, usize)> {
        let mut reader = ChunkReader::default();
        let mut buf = BytesMut::from(bytes);
        let mut out = vec![];
        while let Some(c) = reader.read_chunk(&mut buf).expect("readable") {
            let h = c.message_header;
            out.push((
                h.msg_type_id.0,
                h.timestamp,
                h.msg_stream_id,
                c.payload.len(),
            ));
        }
        out
    }

    #[test]
    fn librtmps_first_acknowledgement_opens_its_chunk_stream_with_a_type_1_header() {
        // Captured from GStreamer rtmpsink right after `connect`: fmt 1, chunk stream 2,
        // Acknowledgement (type 3) of 3123 bytes, then `releaseStream` goes on.
        let ack = [0x42, 0, 0, 0, 0, 0, 4, 3, 0, 0, 0x0c, 0x33];
        assert_eq!(read_all(&ack), [(3, 0, 0, 4)]);
    }

    #[test]
    fn a_type_3_header_starting_a_message_repeats_the_timestamp_delta() {
        let mut b = vec![];
        // Audio on chunk stream 4, stream 1: type 0 at 100 ms, then type 2 (+23 ms), then two
        // type 3 messages: 146 and 169 ms (upstream read 123 twice).
        b.extend([0x04, 0, 0, 100, 0, 0, 2, 8, 1, 0, 0, 0, 0xaf, 1]);
        b.extend([0x84, 0, 0, 23, 0xaf, 1]);
        b.extend([0xc4, 0xaf, 1]);
        b.extend([0xc4, 0xaf, 1]);
        let ts: Vec<u32> = read_all(&b).iter().map(|m| m.1).collect();
        assert_eq!(ts, [100, 123, 146, 169]);

        // A type 3 chunk continuing a message (200 bytes in 128-byte chunks) does not.
        let mut b = vec![0x06, 0, 0, 40, 0, 0, 200, 9, 1, 0, 0, 0];
        b.extend([0x17; 128]);
        b.push(0xc6);
        b.extend([0x17; 72]);
        assert_eq!(read_all(&b), [(9, 40, 1, 200)]);
    }
}
