//! Starting an emulator: options checked, the HTTP listener bound, video ingest set up (ffmpeg
//! found and the RTMP listener bound, or why not), the tasks spawned; and `roomcast
//! stream-emulator`, which serves until ctrl-c.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::handle::EmulatorHandle;
use super::ingest;
use super::notify::deliver_in_order;
use super::options::{EmulatorArgs, EmulatorOptions, VideoIngest};
use super::routes;
use super::service::Service;
use super::state::State;
use crate::media::{self, Media};

/// Serves until ctrl-c; prints the API base URL on one line first.
pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let handle = Emulator::start(args.into()).await?;
    println!("{}", handle.api_base_url());
    println!("{}", handle.video_ingest().banner());
    if let Some(srt) = handle.srt_url() {
        println!("Video ingest (SRT): {srt}?streamid=<stream id>&passphrase=<passphrase>");
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for ctrl-c")?;
    handle.shutdown().await;
    Ok(())
}

/// Entry point for starting emulators in-process.
pub struct Emulator;

impl Emulator {
    /// Binds (port 0 = ephemeral) and serves in a background task.
    pub async fn start(opts: EmulatorOptions) -> anyhow::Result<EmulatorHandle> {
        let id_ok = |s: &str| {
            !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
        };
        anyhow::ensure!(
            id_ok(&opts.account_id),
            "account id must be 1-32 ASCII letters or digits, got {:?}",
            opts.account_id
        );
        anyhow::ensure!(
            id_ok(&opts.customer_code),
            "customer code must be 1-32 ASCII letters or digits, got {:?}",
            opts.customer_code
        );
        anyhow::ensure!(
            !opts.api_token.expose_secret().is_empty(),
            "api token must not be empty"
        );
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("binding the stream emulator to {}", opts.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the webhook HTTP client")?;
        let (video, media, rtmp) = video_ingest(opts.rtmp_listen, opts.media_dir).await?;
        let rtmp_limits = opts.rtmp_limits;
        // SRT rides on the same media path: only with RTMP ingest on. A taken port leaves SRT
        // out (inputs then have no `srt`), like RTMP's own.
        let srt = match (&video, opts.srt_listen) {
            (VideoIngest::On { .. }, Some(addr)) => match media::srt::bind(addr) {
                Ok(socket) => Some(socket),
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "cannot listen for SRT; SRT ingest is off (choose another address with --srt-listen / ROOMCAST_SRT_LISTEN)");
                    None
                }
            },
            _ => None,
        };
        let srt_url = match &srt {
            Some(s) => Some(format!(
                "srt://{}",
                s.local_addr().context("reading the SRT address")?
            )),
            None => None,
        };
        // WHIP/WHEP ride on real video too; sessions listen on the HTTP listener's address
        // (loopback for an unspecified one): their one host candidate.
        let webrtc = matches!(video, VideoIngest::On { .. }).then(|| {
            let ip = match addr.ip() {
                ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
                ip => ip,
            };
            media::webrtc::Hub::new(media::webrtc::WebRtcConfig {
                ip,
                limits: opts.webrtc_limits,
            })
        });
        let (ordered, ordered_rx) = mpsc::unbounded_channel();
        let service = Arc::new_cyclic(|me| Service {
            me: me.clone(),
            state: Mutex::new(State {
                webhook: opts.webhook,
                ..State::default()
            }),
            account_id: opts.account_id,
            api_token: opts.api_token,
            customer_code: opts.customer_code,
            addr,
            http,
            shutdown: stop_rx.clone(),
            video,
            srt_url,
            media,
            publishes: Mutex::new(HashMap::new()),
            watchers: Default::default(),
            rtmp_stats: Default::default(),
            next_publish: AtomicU64::new(1),
            ordered,
            webhook_timing: opts.webhook_timing,
            webrtc,
        });
        tokio::spawn(deliver_in_order(Arc::downgrade(&service), ordered_rx));
        let mut ingest_tasks = vec![];
        if let Some(listener) = rtmp {
            tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "rtmp ingest listening");
            ingest_tasks.push(tokio::spawn(media::rtmp::serve(
                listener,
                service.clone(),
                rtmp_limits,
                service.rtmp_stats.clone(),
                stop_rx.clone(),
            )));
        }
        if let Some(socket) = srt {
            tracing::info!(url = ?service.srt_url, "srt ingest listening");
            ingest_tasks.push(tokio::spawn(media::srt::serve(
                socket,
                service.clone(),
                stop_rx.clone(),
            )));
        }
        let app = routes::router(service.clone());
        let mut rx = stop_rx;
        let task = tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stop)
            .await
            {
                tracing::error!(error = %e, "stream emulator server failed");
            }
        });
        tracing::info!(%addr, "stream emulator listening");
        Ok(EmulatorHandle {
            service,
            stop: stop_tx,
            task: Some(task),
            ingest_tasks,
        })
    }
}

/// Real video ingest for `rtmp_listen`: on (ffmpeg found, RTMP listener bound), off with the reason
/// and how to fix it, or not requested.
async fn video_ingest(
    rtmp_listen: Option<SocketAddr>,
    media_dir: Option<std::path::PathBuf>,
) -> anyhow::Result<(VideoIngest, Option<Media>, Option<TcpListener>)> {
    Ok(match rtmp_listen {
        None => (VideoIngest::NotRequested, None, None),
        Some(rtmp_addr) => match media::find_ffmpeg() {
            Err(why) => (
                VideoIngest::Off {
                    reason: format!("{why}; {}", media::INSTALL_HINT),
                },
                None,
                None,
            ),
            // A taken port (e.g. a second server on one machine) turns video off, like a
            // missing ffmpeg: the rest of the emulator works without it.
            Ok(ffmpeg) => match tokio::net::TcpListener::bind(rtmp_addr).await {
                Err(e) => (
                    VideoIngest::Off {
                        reason: format!(
                            "cannot listen for RTMP on {rtmp_addr} ({e}); choose another \
                             address with --rtmp-listen (ROOMCAST_RTMP_LISTEN)"
                        ),
                    },
                    None,
                    None,
                ),
                Ok(listener) => {
                    let bound = listener.local_addr().context("reading the RTMP address")?;
                    let root = match media_dir {
                        Some(dir) => media::MediaRoot::Dir(dir),
                        None => media::MediaRoot::Temp,
                    };
                    let media =
                        Media::with_root(ffmpeg, root).context("creating the media directory")?;
                    let url = format!("rtmp://{bound}/{}/", ingest::APP);
                    (
                        VideoIngest::On { rtmp_url: url },
                        Some(media),
                        Some(listener),
                    )
                }
            },
        },
    })
}
