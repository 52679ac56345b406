//! One WebRTC session (publisher or viewer): its `Rtc` driven over its own UDP socket by one
//! task, until it ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::media::{KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, watch};

use super::{Frame, Room};
use crate::media::rtmp::PublishEnd;

/// At most one keyframe request to the publisher per this long.
const KEYFRAME_EVERY: Duration = Duration::from_millis(500);

pub(super) enum Role {
    Publisher {
        room: Arc<Room>,
        keyframes: mpsc::UnboundedReceiver<()>,
    },
    Viewer {
        frames: broadcast::Receiver<Arc<Frame>>,
        keyframes: mpsc::UnboundedSender<()>,
        ended: watch::Receiver<bool>,
    },
}

/// What arrived while waiting.
enum Wake {
    Packet(usize, std::net::SocketAddr),
    Timer,
    Frame(Arc<Frame>),
    Lagged,
    KeyframeWanted,
    RoomEnded,
    Stop,
    SocketFailed(String),
}

pub(super) async fn run(
    mut rtc: Rtc,
    socket: UdpSocket,
    mut role: Role,
    mut stop: watch::Receiver<bool>,
    connect_deadline: Duration,
) -> PublishEnd {
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(e) => return PublishEnd::Broken(e.to_string()),
    };
    let started = Instant::now();
    let mut connected = false;
    // Mids by kind: the publisher's incoming media, a viewer's outgoing media.
    let mut mids: HashMap<MediaKind, Mid> = HashMap::new();
    let mut last_keyframe_request: Option<Instant> = None;
    // A viewer writes video from a keyframe on (a decoder cannot start elsewhere).
    let mut video_started = false;
    let mut buf = vec![0u8; 2000];
    loop {
        // Everything str0m has to say until its next timer.
        let deadline = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(e)) => match e {
                    Event::Connected => {
                        connected = true;
                        if let Role::Viewer { keyframes, .. } = &role {
                            let _ = keyframes.send(());
                        }
                    }
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                        rtc.disconnect();
                    }
                    Event::MediaAdded(m) => {
                        mids.insert(m.kind, m.mid);
                    }
                    Event::MediaData(d) => {
                        if let Role::Publisher { room, .. } = &role {
                            let kind = if d.params.spec().codec.is_audio() {
                                MediaKind::Audio
                            } else {
                                MediaKind::Video
                            };
                            let keyframe = d.is_keyframe();
                            // No viewers is not an error.
                            let _ = room.frames.send(Arc::new(Frame {
                                kind,
                                params: d.params,
                                time: d.time,
                                network_time: d.network_time,
                                data: d.data.clone(),
                                keyframe,
                            }));
                            if !d.contiguous && kind == MediaKind::Video {
                                let _ = room.keyframes.send(());
                            }
                        }
                    }
                    Event::KeyframeRequest(_) => {
                        if let Role::Viewer { keyframes, .. } = &role {
                            let _ = keyframes.send(());
                        }
                    }
                    _ => {}
                },
                Err(e) => {
                    rtc.disconnect();
                    return PublishEnd::Broken(e.to_string());
                }
            }
        };
        if !rtc.is_alive() {
            return if connected {
                PublishEnd::Left
            } else {
                PublishEnd::Broken("the connection was not established".into())
            };
        }
        if !connected && started.elapsed() > connect_deadline {
            rtc.disconnect();
            return PublishEnd::Broken(format!(
                "not connected within {} s (ICE/DTLS)",
                connect_deadline.as_secs()
            ));
        }
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(
            deadline.min(Instant::now() + Duration::from_millis(500)),
        ));
        let wake = match &mut role {
            Role::Publisher { keyframes, .. } => tokio::select! {
                r = socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => Wake::Packet(n, from),
                    Err(e) => Wake::SocketFailed(e.to_string()),
                },
                _ = sleep => Wake::Timer,
                Some(()) = keyframes.recv() => Wake::KeyframeWanted,
                _ = stop.changed() => Wake::Stop,
            },
            Role::Viewer { frames, ended, .. } => tokio::select! {
                r = socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => Wake::Packet(n, from),
                    Err(e) => Wake::SocketFailed(e.to_string()),
                },
                _ = sleep => Wake::Timer,
                f = frames.recv() => match f {
                    Ok(f) => Wake::Frame(f),
                    Err(broadcast::error::RecvError::Lagged(_)) => Wake::Lagged,
                    Err(broadcast::error::RecvError::Closed) => Wake::RoomEnded,
                },
                _ = ended.wait_for(|e| *e) => Wake::RoomEnded,
                _ = stop.changed() => Wake::Stop,
            },
        };
        let now = Instant::now();
        let input = match wake {
            Wake::Packet(n, source) => match buf[..n].try_into() {
                Ok(contents) => Some(Input::Receive(
                    now,
                    Receive {
                        proto: Protocol::Udp,
                        source,
                        destination: local,
                        contents,
                    },
                )),
                Err(_) => None,
            },
            Wake::Timer => None,
            Wake::Frame(f) => {
                if connected {
                    let keyframes = match &role {
                        Role::Viewer { keyframes, .. } => Some(keyframes.clone()),
                        _ => None,
                    };
                    if f.kind == MediaKind::Video && !video_started {
                        video_started = f.keyframe;
                    }
                    let wanted = f.kind == MediaKind::Audio || video_started;
                    if let (true, Some(mid)) = (wanted, mids.get(&f.kind).copied()) {
                        if let Some(writer) = rtc.writer(mid) {
                            if let Some(pt) = writer.match_params(f.params) {
                                if let Err(e) =
                                    writer.write(pt, f.network_time, f.time, f.data.clone())
                                {
                                    tracing::debug!(error = %e, "webrtc write failed");
                                }
                            }
                        }
                    }
                    if f.kind == MediaKind::Video && !video_started {
                        if let Some(k) = keyframes {
                            let _ = k.send(());
                        }
                    }
                }
                None
            }
            Wake::Lagged => {
                video_started = false;
                if let Role::Viewer { keyframes, .. } = &role {
                    let _ = keyframes.send(());
                }
                None
            }
            Wake::KeyframeWanted => {
                let due = last_keyframe_request.is_none_or(|t| t.elapsed() >= KEYFRAME_EVERY);
                if let (true, Some(mid)) = (due, mids.get(&MediaKind::Video).copied()) {
                    if let Some(mut w) = rtc.writer(mid) {
                        if w.request_keyframe(None, KeyframeRequestKind::Pli).is_ok() {
                            last_keyframe_request = Some(Instant::now());
                        }
                    }
                }
                None
            }
            Wake::RoomEnded => {
                rtc.disconnect();
                return PublishEnd::Dropped;
            }
            Wake::Stop => {
                rtc.disconnect();
                return PublishEnd::Dropped;
            }
            Wake::SocketFailed(why) => {
                rtc.disconnect();
                return PublishEnd::Broken(why);
            }
        };
        let input = input.unwrap_or(Input::Timeout(Instant::now()));
        if let Err(e) = rtc.handle_input(input) {
            rtc.disconnect();
            return PublishEnd::Broken(e.to_string());
        }
    }
}
