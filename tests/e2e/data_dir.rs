//! `roomcast serve --data-dir`: the embedded node's ledger, the registrar keypair and the emulator's
//! live inputs survive a restart, so a room created before still resolves, its stream key is still
//! the emulator's, and the same registrar can still end it.
use crate::support;

use std::os::unix::fs::PermissionsExt;

use roomcast_chain::Signer;
use support::*;

#[tokio::test]
async fn rooms_registrar_and_stream_keys_survive_a_restart() {
    let dir = scratch_dir("data-dir");
    let data = dir.join("data");
    let data_str = data.to_str().unwrap();
    let env = [
        ("ROOMCAST_EPHEMERAL", "false"),
        ("ROOMCAST_DATA_DIR", data_str),
    ];

    let mut first = Server::start(&env);
    assert!(
        first.proc.output().contains(&format!(
            "Data dir: {data_str} (local node ledger, registrar keypair, emulator live inputs and recordings)"
        )),
        "{}",
        first.proc.output()
    );
    let host = wallet();
    let created = first.api().create_for(&host.pubkey(), "Survives").await;
    created.assert_status(201);
    let uid = created.str("sessionId");
    let stream_key = created.str("StreamKey");
    let room = first.room_address(&uid);
    let (registry, registrar) = (first.registry, first.registrar);
    // A short broadcast: its recording is kept in the data dir.
    let pushed = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi"])
        .args([
            "-i",
            "testsrc=size=160x120:rate=25",
            "-t",
            "3",
            "-c:v",
            "libx264",
        ])
        .args(["-g", "25", "-pix_fmt", "yuv420p", "-f", "flv"])
        .arg(format!("{}{stream_key}", first.ingest_url()))
        .status()
        .expect("ffmpeg runs");
    assert!(pushed.success());
    let emu = first.emulator();
    let recorded = eventually("the recording is ready", || {
        let emu = emu.clone();
        let uid = uid.clone();
        async move {
            let v = emu.videos(&uid).await;
            (v.len() == 1 && v[0]["status"]["state"] == "ready")
                .then(|| v[0]["uid"].as_str().unwrap().to_string())
        }
    })
    .await;
    let status = first.proc.terminate();
    assert!(status.success(), "{status}: {}", first.proc.output());

    for (file, secret) in [
        ("ledger.json", false),
        ("registrar-keypair.json", true),
        ("faucet-keypair.json", true),
        ("stream-inputs.json", true),
        ("FORMAT", false),
    ] {
        let meta = std::fs::metadata(data.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        if secret {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
        }
    }

    let second = Server::start(&env);
    assert_eq!(second.registry, registry);
    assert_eq!(second.registrar, registrar);
    let api = second.api();
    let shown = api.get(&format!("/api/livestream?sessionId={uid}")).await;
    shown.assert_status(200);
    assert_eq!(shown.json["room"], room.to_string());
    assert_eq!(shown.json["title"], "Survives");
    let on_chain = second.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(on_chain.session_id, uid);
    // The recording came back with its input, from the data dir, and plays as VOD.
    assert!(data
        .join("media")
        .join(&recorded)
        .join("video.m3u8")
        .is_file());
    let videos = second.emulator().videos(&uid).await;
    assert_eq!(videos.len(), 1, "{videos:?}");
    assert_eq!(videos[0]["uid"], recorded.as_str());
    assert_eq!(videos[0]["status"]["state"], "ready");
    let vod = format!(
        "{}/{recorded}/manifest/video.m3u8",
        second.emulator().delivery_base()
    );
    assert_eq!(videos[0]["playback"]["hls"], vod.as_str());
    let body = reqwest::get(&vod).await.unwrap().text().await.unwrap();
    assert!(body.trim_end().ends_with("#EXT-X-ENDLIST"), "{body}");
    // The emulator still has the live input with the same stream key (it still publishes).
    let input = second.emulator().input(&uid).await.expect("input kept");
    assert_eq!(input["rtmps"]["streamKey"], stream_key.as_str());
    assert_eq!(input["enabled"], true);
    // The restored registrar still signs for the registry: the operator ends the room.
    api.call(
        "POST",
        &format!("/api/rooms/{room}/end"),
        None,
        Auth::Operator,
    )
    .await
    .assert_status(200);
    let ended = second.chain_reader().room(&room).await.unwrap().unwrap();
    assert_eq!(ended.status, roomcast_chain::RoomStatus::Ended);
    assert_eq!(
        second.emulator().input(&uid).await.unwrap()["enabled"],
        false
    );
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `roomcast serve` on the data dir `data` (nothing inherited) and returns (exit code, stderr).
fn serve_on(data: &std::path::Path) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rtmp-listen",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(data)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run roomcast");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

/// A data dir saved before rooms were sized to their content (a ledger, no `FORMAT` marker) holds
/// 412-byte rooms this program cannot decode: `serve` refuses it at start, says what to do, and
/// leaves the data untouched.
#[test]
fn a_data_dir_in_an_older_layout_is_refused_with_what_to_do() {
    let dir = scratch_dir("data-dir-old");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("ledger.json"), "{\"old\":true}").unwrap();
    let (code, stderr) = serve_on(&data);
    assert_eq!(code, Some(1), "{stderr}");
    let shown = data.display();
    assert_eq!(
        error_lines(&stderr),
        [format!(
            "error: data dir {shown} was written by an older roomcast (rooms in the 412-byte layout); remove it (rm -rf {shown}) or choose another --data-dir"
        )],
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("ledger.json")).unwrap(),
        "{\"old\":true}"
    );
    assert!(!data.join("FORMAT").exists());

    // A marker of another layout is refused the same way, naming it.
    std::fs::write(data.join("FORMAT"), "roomcast-data 9\n").unwrap();
    let (code, stderr) = serve_on(&data);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        error_lines(&stderr),
        [format!(
            "error: data dir {shown} holds data in another layout (roomcast-data 9); remove it (rm -rf {shown}) or choose another --data-dir"
        )],
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
