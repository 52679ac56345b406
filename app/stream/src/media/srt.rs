//! The SRT listener: one UDP port for every input, as Cloudflare's `srt://live.cloudflare.com:778`.
//! A caller names its input with `streamid` (the input's SRT stream id, or SRT's access-control
//! form `#!::r=<id>,m=publish`) and is admitted only with that input's passphrase: the key
//! exchange of the handshake fails for a wrong one, so the emulator hears of a publish only once
//! the caller proved it. The protocol is srt-tokio's; what a publish may do is decided behind
//! [`SrtIngest`], as RTMP's is behind [`super::rtmp::Ingest`]. The MPEG-TS it carries goes to
//! ffmpeg unchanged ([`super::TsRecorder`]).
//!
//! srt-protocol 0.4 still has `unimplemented!()` in a few handshake branches a hostile caller
//! could reach; such a panic ends srt-tokio's listener task, so [`serve`] binds the port again
//! (publishes already running are separate tasks and go on).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use srt_protocol::settings::KeySettings;
use srt_tokio::access::{RejectReason, ServerRejectReason};
use srt_tokio::{ConnectionRequest, SrtListener, SrtSocket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::rtmp::{PublishEnd, Refusal, Stopper};

/// An accepted SRT publish.
pub struct SrtAccepted {
    /// Identifies the publish in [`SrtIngest::end`].
    pub id: u64,
    /// Where the MPEG-TS goes; `None` discards it (nothing is recorded).
    pub media: Option<mpsc::Sender<Bytes>>,
}

/// What the SRT listener asks of the emulator.
pub trait SrtIngest: Send + Sync + 'static {
    /// The passphrase of the input `stream_id` names, if it may publish now (exists, enabled);
    /// `None` refuses the caller before the key exchange.
    fn passphrase(&self, stream_id: &str) -> Option<String>;
    /// A caller that passed the handshake for `stream_id` starts publishing.
    fn begin(&self, stream_id: &str, stopper: Stopper) -> Result<SrtAccepted, Refusal>;
    /// The publish `id` is over (called exactly once per accepted publish).
    fn end(&self, id: u64, how: PublishEnd) -> impl Future<Output = ()> + Send;
}

/// The input a `streamid` names: the whole value, or the `r=` key of the access-control form.
pub fn resource(stream_id: &str) -> &str {
    match stream_id.strip_prefix("#!::") {
        Some(pairs) => pairs
            .split(',')
            .find_map(|kv| kv.strip_prefix("r="))
            .unwrap_or(""),
        None => stream_id,
    }
}

/// Binds the SRT port (port 0 = any free one); the listener starts in [`serve`].
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Admits callers on `socket` until `shutdown` turns true, then drops every publisher and waits
/// for their [`SrtIngest::end`].
pub async fn serve<I: SrtIngest>(
    socket: std::net::UdpSocket,
    ingest: Arc<I>,
    mut shutdown: watch::Receiver<bool>,
) {
    let Ok(addr) = socket.local_addr() else {
        return;
    };
    let mut socket = Some(socket);
    let mut conns = JoinSet::new();
    'listen: loop {
        let udp = match socket.take() {
            Some(s) => tokio::net::UdpSocket::from_std(s),
            None => tokio::net::UdpSocket::bind(addr).await,
        };
        let bound = match udp {
            Ok(udp) => SrtListener::builder().socket(udp).bind(addr).await,
            Err(e) => Err(e),
        };
        let (mut listener, mut incoming) = match bound {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, %addr, "cannot listen for SRT; retrying");
                tokio::select! {
                    _ = until_true(&mut shutdown) => break 'listen,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue 'listen,
                }
            }
        };
        loop {
            tokio::select! {
                _ = until_true(&mut shutdown) => {
                    // `close` waits for the listener task, which may have panicked.
                    let _ = tokio::spawn(async move { listener.close().await }).await;
                    break 'listen;
                }
                request = incoming.incoming().next() => match request {
                    Some(request) => {
                        conns.spawn(admit(request, ingest.clone(), shutdown.clone()));
                    }
                    None => {
                        tracing::error!(%addr, "the SRT listener stopped; listening again");
                        continue 'listen;
                    }
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    }
    while conns.join_next().await.is_some() {}
}

/// Resolves once the flag is set (or its sender is gone).
async fn until_true(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// One caller: refused, or admitted with its input's passphrase and then published.
async fn admit<I: SrtIngest>(
    request: ConnectionRequest,
    ingest: Arc<I>,
    shutdown: watch::Receiver<bool>,
) {
    let peer = request.remote();
    let stream_id = request
        .stream_id()
        .map(|s| resource(s.as_str()).to_string())
        .unwrap_or_default();
    let Some(passphrase) = ingest.passphrase(&stream_id) else {
        // Never log the stream id: it names an input.
        tracing::info!(%peer, "srt caller refused: unknown or disabled stream id");
        let _ = request
            .reject(RejectReason::Server(ServerRejectReason::Unauthorized))
            .await;
        return;
    };
    let Ok(passphrase) = passphrase.try_into() else {
        tracing::warn!("an input's SRT passphrase is not a valid SRT passphrase");
        return;
    };
    // The caller's own key length (unspecified means AES-128, srt's default): srt-protocol
    // requires both sides to agree and does not negotiate it.
    let key = KeySettings {
        key_size: request.key_size(),
        passphrase,
    };
    let socket = match request.accept(Some(key)).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::info!(%peer, error = %e, "srt handshake failed (wrong passphrase?)");
            return;
        }
    };
    let (stopper, stopped) = Stopper::new();
    let accepted = match ingest.begin(&stream_id, stopper) {
        Ok(a) => a,
        Err(Refusal(why)) => {
            tracing::info!(%peer, reason = %why, "srt publish refused");
            return;
        }
    };
    let how = publish(socket, accepted.media, stopped, shutdown).await;
    ingest.end(accepted.id, how).await;
}

/// Moves the caller's MPEG-TS to `media` until it leaves, is stopped or the sink closes.
async fn publish(
    mut socket: SrtSocket,
    media: Option<mpsc::Sender<Bytes>>,
    mut stopped: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) -> PublishEnd {
    let how = loop {
        tokio::select! {
            _ = until_true(&mut stopped) => break PublishEnd::Dropped,
            _ = until_true(&mut shutdown) => break PublishEnd::Dropped,
            packet = socket.next() => match packet {
                Some(Ok((_at, bytes))) => {
                    if let Some(media) = &media {
                        if media.send(bytes).await.is_err() {
                            break PublishEnd::SinkClosed;
                        }
                    }
                }
                Some(Err(e)) => break PublishEnd::Broken(e.to_string()),
                None => break PublishEnd::Left,
            },
        }
    };
    // Tells the caller (a shutdown packet) instead of leaving it to time out.
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close_and_finish()).await;
    how
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_id_names_the_input_plainly_or_in_access_control_form() {
        assert_eq!(resource("abc"), "abc");
        assert_eq!(resource("#!::r=abc,m=publish"), "abc");
        assert_eq!(resource("#!::m=publish,r=abc"), "abc");
        assert_eq!(resource("#!::m=publish"), "");
        assert_eq!(resource(""), "");
    }
}
