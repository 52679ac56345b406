//! Issue 17 item 7: what anonymous clients can make the emulator hold is bounded. RTMP: connections
//! per address and in total, a deadline to reach `publish`, and a cap on message sizes before it
//! (scuffle-rtmp buffered up to 4 × 10 MB of partial messages per connection) — while a real
//! publisher (ffmpeg) still gets in. Delivery: a viewer is counted only for an id that exists, and
//! by client address (rotating the User-Agent no longer inflates the count). Needs `ffmpeg`.
mod common;

use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use roomcast_stream::client::{CreateLiveInput, StreamClient};
use roomcast_stream::emulator::{
    Emulator, EmulatorHandle, EmulatorOptions, RtmpDrops, RtmpLimits, VideoIngest,
};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Generous bound for what must happen; only reached when a test fails.
const EVENTUALLY: Duration = Duration::from_secs(30);

async fn video_emulator(opts: impl FnOnce(&mut EmulatorOptions)) -> EmulatorHandle {
    let mut o = EmulatorOptions::new(ACCOUNT, SecretString::from(TOKEN.to_string()));
    o.rtmp_listen = Some("127.0.0.1:0".parse().unwrap());
    opts(&mut o);
    let emu = Emulator::start(o).await.expect("emulator starts");
    assert!(
        matches!(emu.video_ingest(), VideoIngest::On { .. }),
        "video ingest must be on (is ffmpeg on PATH?): {:?}",
        emu.video_ingest()
    );
    emu
}

fn rtmp_addr(emu: &EmulatorHandle) -> SocketAddr {
    match emu.video_ingest() {
        VideoIngest::On { rtmp_url } => rtmp_url
            .trim_start_matches("rtmp://")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap(),
        other => panic!("{other:?}"),
    }
}

/// A TCP connection to `to` from the loopback address `from` (127.0.0.0/8 is all ours).
async fn connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// A client that sends `first`, then one byte every 200 ms (forever), and counts itself in
/// `closed` once the server closes the connection.
fn trickle(mut stream: TcpStream, first: Vec<u8>, closed: Arc<AtomicUsize>) {
    tokio::spawn(async move {
        let (mut rx, mut tx) = stream.split();
        let write = async {
            if tx.write_all(&first).await.is_err() {
                return;
            }
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if tx.write_all(&[0]).await.is_err() {
                    return;
                }
            }
        };
        let read = async {
            let mut buf = [0u8; 4096];
            loop {
                match rx.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        tokio::select! { _ = write => {}, _ = read => {} }
        closed.fetch_add(1, Ordering::SeqCst);
    });
}

/// ffmpeg pushing a small test pattern to `url` for `seconds` (killed and reaped on drop).
struct Publisher(Child);
impl Publisher {
    fn start(url: &str, seconds: u32) -> Publisher {
        let child = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
            .args(["-i", "testsrc=size=160x120:rate=25", "-f", "lavfi"])
            .args(["-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-t", &seconds.to_string(), "-c:v", "libx264"])
            .args([
                "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", url,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg runs");
        Publisher(child)
    }
}
impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn create(client: &StreamClient) -> (String, String) {
    let input = client
        .create_live_input(&CreateLiveInput::default())
        .await
        .unwrap();
    let rtmps = input.rtmps.unwrap();
    (input.uid, format!("{}{}", rtmps.url, rtmps.stream_key))
}

const ATTACKERS: usize = 300;

/// 300 connections from one address trickle their handshake a byte at a time: the ones over the
/// per-address cap are closed at once, the rest when the publish deadline passes — and meanwhile a
/// real publisher from another address gets in and goes live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_connections_are_bounded_and_a_publisher_still_gets_in() {
    let emu = video_emulator(|_| {}).await;
    let addr = rtmp_addr(&emu);
    let closed = Arc::new(AtomicUsize::new(0));
    let attacker: IpAddr = "127.0.0.2".parse().unwrap();
    for _ in 0..ATTACKERS {
        let stream = connect_from(attacker, addr).await;
        // RTMP version byte, then C1 one byte at a time.
        trickle(stream, vec![3], closed.clone());
    }
    let (uid, url) = create(&client(&emu)).await;
    let _publisher = Publisher::start(&url, 30);
    until("the real publisher to be live", EVENTUALLY, || async {
        emu.live_input(&uid)
            .filter(|i| i.status.is_connected())
            .map(|_| ())
    })
    .await;
    until(
        "every trickling connection to be dropped",
        EVENTUALLY,
        || async { (closed.load(Ordering::SeqCst) == ATTACKERS).then_some(()) },
    )
    .await;
    // The publisher was not: it published in time.
    assert!(emu.live_input(&uid).unwrap().status.is_connected());
    let limits = RtmpLimits::default();
    assert_eq!(
        emu.rtmp_drops(),
        RtmpDrops {
            over_address: (ATTACKERS - limits.max_per_address) as u64,
            no_publish_in_time: limits.max_per_address as u64,
            ..RtmpDrops::default()
        }
    );
}

/// The total cap holds against clients spread over many addresses: connections past it are
/// closed at once (those admitted stay until the publish deadline frees their places).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_total_cap_holds_across_addresses() {
    let emu = video_emulator(|o| {
        o.rtmp_limits = RtmpLimits {
            max_connections: 20,
            // Long: nothing in this test is dropped for not publishing.
            publish_deadline: Duration::from_secs(600),
            ..RtmpLimits::default()
        }
    })
    .await;
    let addr = rtmp_addr(&emu);
    let mut held = Vec::new();
    for n in 1..=30u8 {
        let stream = connect_from(IpAddr::from([127, 0, 1, n]), addr).await;
        let closed_one = Arc::new(AtomicUsize::new(0));
        trickle(stream, vec![3], closed_one.clone());
        held.push(closed_one);
    }
    until(
        "the connections over the cap to be closed",
        EVENTUALLY,
        || async {
            let n = held.iter().filter(|c| c.load(Ordering::SeqCst) > 0).count();
            (n == 10).then_some(())
        },
    )
    .await;
    assert_eq!(
        emu.rtmp_drops(),
        RtmpDrops {
            over_capacity: 10,
            ..RtmpDrops::default()
        }
    );
    // The first twenty were admitted (the listener accepts in order).
    assert!(held[..20].iter().all(|c| c.load(Ordering::SeqCst) == 0));
}

/// After the handshake, a message header announcing 1 MiB (a command, before any publish), then its
/// payload a byte at a time: the connection is ended instead of buffering it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_before_publish_ends_the_connection() {
    let emu = video_emulator(|o| {
        // Long: only the message size can end this connection.
        o.rtmp_limits.publish_deadline = Duration::from_secs(600);
    })
    .await;
    let addr = rtmp_addr(&emu);
    let closed = Arc::new(AtomicUsize::new(0));
    let mut stream = connect_from("127.0.0.3".parse().unwrap(), addr).await;
    // C0 + C1, then read S0 + S1 + S2 and echo S1 as C2 (a plain, non-digest handshake).
    let mut c0c1 = vec![3u8];
    c0c1.extend(std::iter::repeat_n(0u8, 1536));
    stream.write_all(&c0c1).await.unwrap();
    let mut s = vec![0u8; 1 + 1536 + 1536];
    stream.read_exact(&mut s).await.unwrap();
    let mut first = s[1..1537].to_vec();
    // Type 0 header on chunk stream 3: timestamp 0, length 1 MiB, type 20 (AMF0 command), stream 0.
    let len = 1u32 << 20;
    first.extend([0x03, 0, 0, 0]);
    first.extend(&len.to_be_bytes()[1..]);
    first.extend([20, 0, 0, 0, 0]);
    trickle(stream, first, closed.clone());
    until("the connection to be ended", EVENTUALLY, || async {
        (closed.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    assert_eq!(
        emu.rtmp_drops(),
        RtmpDrops {
            message_too_large: 1,
            ..RtmpDrops::default()
        }
    );
}

/// One viewer rotating its User-Agent is one viewer; another address is another; ids that do not
/// exist are 404 and count nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_are_counted_by_address_for_known_ids_only() {
    let emu = emulator().await;
    let (uid, _) = create(&client(&emu)).await;
    let base = emu.delivery_base_url();
    let from = |ip: &str| {
        reqwest::Client::builder()
            .local_address(Some(ip.parse().unwrap()))
            .build()
            .unwrap()
    };
    let one = from("127.0.0.1");
    for n in 0..50 {
        let r = one
            .get(format!("{base}/{uid}/manifest/seg00001.m4s"))
            .header("user-agent", format!("player/{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "nothing published yet");
    }
    let views = |c: reqwest::Client| {
        let url = format!("{base}/{uid}/views");
        async move {
            let v: serde_json::Value = c.get(url).send().await.unwrap().json().await.unwrap();
            v["liveViewers"].as_u64().unwrap()
        }
    };
    assert_eq!(views(one.clone()).await, 1, "one address, 50 user agents");
    from("127.0.0.2")
        .get(format!("{base}/{uid}/manifest/init.mp4"))
        .send()
        .await
        .unwrap();
    assert_eq!(views(one.clone()).await, 2);
    for n in 0..20 {
        let r = one
            .get(format!("{base}/{n:032x}/manifest/seg00001.m4s"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = one
            .get(format!("{base}/{n:032x}/views"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
}
