//! A WHEP load generator for `scripts/bench-webrtc.sh`: `whep_load <WHEP URL> <viewers> <seconds>`
//! opens that many WHEP sessions (str0m, receive-only, nothing decoded: it costs far less than a
//! real player, so the emulator is what is measured), keeps them for `seconds`, DELETEs them and
//! prints one JSON line: sessions created, connected, and receiving video (at least 30 frames).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;

#[derive(Default, Debug)]
struct Outcome {
    created: bool,
    connected: bool,
    video_frames: u64,
}

async fn viewer(url: String, seconds: u64) -> Outcome {
    let mut out = Outcome::default();
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0").await else {
        return out;
    };
    let local = socket.local_addr().unwrap();
    let mut rtc = Rtc::builder()
        .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
        .build(Instant::now());
    rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
    change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
    let Some((offer, pending)) = change.apply() else {
        return out;
    };
    let http = reqwest::Client::new();
    let Ok(r) = http
        .post(&url)
        .header("content-type", "application/sdp")
        .body(offer.to_sdp_string())
        .send()
        .await
    else {
        return out;
    };
    if r.status().as_u16() != 201 {
        return out;
    }
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    let Ok(answer) = r.text().await else {
        return out;
    };
    let Ok(answer) = SdpAnswer::from_sdp_string(&answer) else {
        return out;
    };
    if rtc.sdp_api().accept_answer(pending, answer).is_err() {
        return out;
    }
    out.created = true;
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut buf = vec![0u8; 2000];
    while Instant::now() < end && rtc.is_alive() {
        let deadline = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(t)) => break t,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::Connected)) => out.connected = true,
                Ok(Output::Event(Event::MediaData(d))) => {
                    if !d.params.spec().codec.is_audio() {
                        out.video_frames += 1;
                    }
                }
                Ok(Output::Event(_)) => {}
                Err(_) => return out,
            }
        };
        let wait = deadline
            .min(end)
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let input = tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, source)) => buf[..n].try_into().ok().map(|contents| Input::Receive(
                    Instant::now(),
                    Receive { proto: Protocol::Udp, source, destination: local, contents },
                )),
                Err(_) => return out,
            },
            _ = tokio::time::sleep(wait) => None,
        };
        let input = input.unwrap_or(Input::Timeout(Instant::now()));
        if rtc.handle_input(input).is_err() {
            break;
        }
    }
    if let Some(l) = location {
        let base: SocketAddr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| ([127, 0, 0, 1], 80).into());
        let _ = http.delete(format!("http://{base}{l}")).send().await;
    }
    out
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, n, seconds) = match args.as_slice() {
        [_, url, n, s] => (url.clone(), n.parse().unwrap_or(1), s.parse().unwrap_or(10)),
        _ => {
            eprintln!("usage: whep_load <WHEP URL> <viewers> <seconds>");
            std::process::exit(2);
        }
    };
    let tasks: Vec<_> = (0..n)
        .map(|_| tokio::spawn(viewer(url.clone(), seconds)))
        .collect();
    let mut outcomes = vec![];
    for t in tasks {
        outcomes.push(t.await.unwrap_or_default());
    }
    let created = outcomes.iter().filter(|o| o.created).count();
    let connected = outcomes.iter().filter(|o| o.connected).count();
    let receiving = outcomes.iter().filter(|o| o.video_frames >= 30).count();
    let min_frames = outcomes.iter().map(|o| o.video_frames).min().unwrap_or(0);
    println!(
        "{{\"sessions\": {n}, \"created\": {created}, \"connected\": {connected}, \"receiving\": {receiving}, \"minVideoFrames\": {min_frames}}}"
    );
}
