//! SIGTERM always finishes, whatever clients do: with event streams open (which used to hold
//! `serve` up for as long as a viewer stayed), an RTMP publisher live and a create in flight, the
//! process exits, the final saves ran (a restart on the same data dir sees the room and its live
//! input) and no ffmpeg is left behind.
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{client_from, Events};
use crate::support::*;

/// ffmpeg publishing a live test pattern to `url`; killed on drop.
struct Publisher(std::process::Child);

impl Publisher {
    fn start(url: &str, log: &Path) -> Publisher {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-loglevel", "warning", "-re"])
            .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"])
            .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap());
        die_with_parent(&mut cmd);
        Publisher(cmd.spawn().expect("ffmpeg (scripts/test.sh installs it)"))
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sigterm_with_streams_a_publisher_and_a_create_in_flight_finishes_and_saves() {
    let data = scratch_dir("shutdown-data");
    let data_dir = data.join("data");
    let env = [
        ("ROOMCAST_EPHEMERAL", "false"),
        ("ROOMCAST_DATA_DIR", data_dir.to_str().unwrap()),
    ];
    let mut s = Server::start(&env);
    let api = s.api();
    let host = wallet();
    let created = api.create_as_host(&host, "Until shutdown").await;
    let uid = created.str("sessionId");

    // A live publisher with its recorder.
    let ingest = s
        .rtmp_ingest
        .clone()
        .expect("video ingest on (ffmpeg installed)");
    let _publisher = Publisher::start(
        &format!("{ingest}{}", created.str("StreamKey")),
        &data.join("publisher.log"),
    );
    let serve = s.proc.pid();
    let recorders = eventually("the recorder to run", || async move {
        let c = children_named(serve, "ffmpeg");
        (!c.is_empty()).then_some(c)
    })
    .await;
    let hls = created.json["playback"]["hls"]
        .as_str()
        .unwrap()
        .to_string();
    eventually("a first segment is recorded", || {
        let hls = hls.clone();
        async move {
            let body = reqwest::get(&hls).await.ok()?.text().await.ok()?;
            body.contains("#EXTINF").then_some(())
        }
    })
    .await;

    // Viewers' event streams, from several addresses, left open.
    let mut streams = vec![];
    for n in 0..6 {
        let mut events = Events::open(&client_from(40 + n), &s.base, &uid)
            .await
            .expect("stream opens");
        events.next().await.unwrap();
        streams.push(events);
    }

    // A create in flight when the signal comes.
    let creator = api.clone();
    let second = wallet();
    let in_flight = tokio::spawn(async move {
        creator
            .call(
                "POST",
                "/api/create",
                Some(&serde_json::json!({ "title": "In flight" })),
                Auth::Host(&second),
            )
            .await
            .status
    });
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;

    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(serve as i32, libc::SIGTERM) }, 0);
    let signalled = Instant::now();
    // Far above the drain bound (10 s): eventually, not within a timed bound.
    while alive(serve) {
        assert!(
            signalled.elapsed() < EVENTUALLY * 2,
            "serve still running after SIGTERM with clients connected; output:\n{}",
            s.proc.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The streams ended (the server closed them); nothing holds on.
    for mut events in streams {
        let end =
            tokio::time::timeout(EVENTUALLY, async { while events.next().await.is_some() {} })
                .await;
        assert!(end.is_ok(), "a stream outlived serve");
    }
    for pid in recorders {
        assert!(!alive(pid), "ffmpeg {pid} outlived serve");
    }
    let output = s.proc.output();
    assert!(output.contains("shutting down"), "{output}");
    let in_flight_status = in_flight.await.unwrap_or(0);
    s.proc.kill();

    // A restart on the same data dir sees what was saved at shutdown: the room (ledger) and its
    // live input (the emulator's inputs file).
    let restarted = Server::start(&env);
    let api = restarted.api();
    let room = api.get(&format!("/api/rooms/{uid}")).await;
    room.assert_status(200);
    assert_eq!(room.str("title"), "Until shutdown");
    let input = restarted
        .emulator()
        .input(&uid)
        .await
        .expect("the live input was saved");
    assert_eq!(input["uid"], uid.as_str());
    // The broadcast the shutdown cut is a finished recording, kept in the data dir, and plays.
    let videos = restarted.emulator().videos(&uid).await;
    assert_eq!(videos.len(), 1, "{videos:?}");
    assert_eq!(videos[0]["status"]["state"], "ready", "{videos:?}");
    let video = videos[0]["uid"].as_str().unwrap();
    assert!(data_dir
        .join("media")
        .join(video)
        .join("video.m3u8")
        .is_file());
    let vod = videos[0]["playback"]["hls"].as_str().unwrap();
    let body = reqwest::get(vod).await.unwrap().text().await.unwrap();
    assert!(body.trim_end().ends_with("#EXT-X-ENDLIST"), "{body}");
    // The create that was in flight either finished before the exit (and is kept) or failed.
    if in_flight_status == 201 {
        let rooms = restarted.rooms(None).await;
        assert_eq!(rooms.len(), 2, "the in-flight create's room was saved");
    }
}

/// The drain waits for requests in flight (here an upload that never finishes, with a drain and a
/// request timeout of ten minutes), and a second signal ends the process at once.
#[tokio::test]
async fn a_second_signal_exits_at_once_while_the_drain_waits() {
    use std::io::Write;
    let s = Server::start(&[
        ("ROOMCAST_SHUTDOWN_DRAIN_SECS", "600"),
        ("ROOMCAST_REQUEST_TIMEOUT_SECS", "600"),
    ]);
    let addr = s.base.trim_start_matches("http://").to_string();
    // One connection the server has certainly accepted (a first request answered on it), then an
    // upload on it whose body never comes.
    let mut upload = std::net::TcpStream::connect(&addr).unwrap();
    upload
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(upload, "GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = [0u8; 512];
    let n = std::io::Read::read(&mut upload, &mut answer).unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    write!(
        upload,
        "POST /api/create HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {OPERATOR_KEY}\r\nContent-Length: 1000\r\n\r\n{{\"title\":"
    )
    .unwrap();
    upload.flush().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let serve = s.proc.pid();
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(serve as i32, libc::SIGTERM) }, 0);
    eventually("the drain to start", || async {
        s.proc
            .output()
            .contains("shutting down: event streams end now")
            .then_some(())
    })
    .await;
    // The upload holds the drain (ten minutes): the process is still there.
    assert!(alive(serve), "{}", s.proc.output());
    assert_eq!(unsafe { libc::kill(serve as i32, libc::SIGTERM) }, 0);
    let signalled = Instant::now();
    while alive(serve) {
        assert!(
            signalled.elapsed() < EVENTUALLY,
            "serve still running after a second SIGTERM; output:\n{}",
            s.proc.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        s.proc.output().contains("second signal: exiting now"),
        "{}",
        s.proc.output()
    );
    drop(upload);
}
