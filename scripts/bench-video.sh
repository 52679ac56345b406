#!/usr/bin/env bash
# Local video path benchmark (not a test): a release `roomcast serve` with RTMP ingest, real ffmpeg
# publishers pushing a pre-encoded 720p30 H.264/AAC pattern in real time (`-re -c copy`, so the
# publishers themselves cost almost nothing), measured from outside:
#   * glass-to-glass latency of the local path: when a segment's last frame left the publisher
#     (publish start + its media end time) -> when that segment is listed in the live playlist;
#   * CPU of the server plus its ffmpeg remuxers while idle (baseline) and with 1, 2 and 4
#     concurrent broadcasts, in the same run; per-broadcast cost = (N - idle) / N;
#   * an end's effect on a live broadcast (the claim e2e video tests no longer time): from the
#     end's answer until the publisher's connection is closed (its ffmpeg exits) and until the
#     server's remuxing ffmpeg is gone, against the same two for a publisher that stops by itself
#     (the baseline: no end involved);
#   * then the same latency and the CPU of 2 concurrent broadcasts per encoder and transport:
#     ffmpeg over RTMP (the baseline of the comparison), ffmpeg over SRT (MPEG-TS), librtmp
#     (GStreamer rtmpsink) and GStreamer rtmp2sink, all sending the same pre-encoded file.
# Usage: scripts/bench-video.sh [seconds-per-step] [segments]   (needs ffmpeg, python3; GStreamer
# for the encoder rows, skipped without it)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_STEP=${1:-20}
SEGMENTS=${2:-12}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
# ROOMCAST_BIN=path skips the build (e.g. to try the script against a debug binary).
if [[ -z ${ROOMCAST_BIN:-} ]]; then
  cargo build --release -p roomcast-app >&2
  ROOMCAST_BIN="$CARGO_TARGET_DIR/release/roomcast"
fi
BIN="$ROOMCAST_BIN" STEP="$SECONDS_PER_STEP" SEGMENTS="$SEGMENTS" exec python3 - <<'PY'
import json, os, re, signal, subprocess, sys, tempfile, time, urllib.request

BIN, STEP, SEGMENTS = os.environ["BIN"], int(os.environ["STEP"]), max(3, int(os.environ["SEGMENTS"]))
KEY = "bench-operator-key-0123456789abcdef"
work = tempfile.mkdtemp(prefix="roomcast-bench-video-")
procs = []

def spawn(args, **kw):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kw)
    procs.append(p)
    return p

def cleanup(*_):
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGINT if p is server else signal.SIGKILL)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(1)))

def get(url, data=None, headers={}):
    req = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read()

# 720p30 H.264 (2 s GOP) + AAC, encoded once; publishers only copy it.
fixture = os.path.join(work, "720p.flv")
subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                "-t", str(max(10, 2 * SEGMENTS + 8)), "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-g", "60",
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", fixture], check=True)

log = open(os.path.join(work, "serve.log"), "w+")
env = dict(os.environ, ROOMCAST_OPERATOR_KEY=KEY, ROOMCAST_CREATE_RATE_PER_MINUTE="1000", RUST_LOG="warn",
           TMPDIR=work)
# --ephemeral: the benchmark's rooms never land in the developer's default data dir (`.roomcast/`).
server = spawn([BIN, "serve", "--listen", "127.0.0.1:0", "--rtmp-listen", "127.0.0.1:0",
                "--srt-listen", "127.0.0.1:0", "--ephemeral"], stdout=log,
               stderr=subprocess.STDOUT, env=env)
try:
    for _ in range(600):
        log.seek(0); out = log.read()
        if "Operator key:" in out:
            break
        time.sleep(0.1)
    api = re.search(r"listening on (http://\S+)", out).group(1)
    if "Video ingest (RTMP):" not in out:
        sys.exit("bench-video: video ingest is off:\n" + out)

    def create(i, encoder="ffmpeg-rtmp"):
        body = json.dumps({"title": f"bench {i}", "host": "11111111111111111111111111111112"}).encode()
        _, b = get(api + "/api/create", body, {"authorization": "Bearer " + KEY, "content-type": "application/json"})
        c = json.loads(b)
        create.room = c["room"]
        if encoder == "ffmpeg-srt":
            srt = c["ingest"]["srt"]
            url = f'{srt["url"]}?streamid={srt["streamId"]}&passphrase={srt["passphrase"]}'
        else:
            url = c["IngestURL"] + c["StreamKey"]
        return url, c["playback"]["hls"], c["SessionID"]

    def push(url, encoder="ffmpeg-rtmp"):
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if encoder in ("ffmpeg-rtmp", "ffmpeg-srt"):
            fmt = "mpegts" if encoder == "ffmpeg-srt" else "flv"
            return spawn(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i",
                          fixture, "-c", "copy", "-f", fmt, url], **quiet)
        # GStreamer sends the same file, paced by its sink's clock (no loop: the file is long enough).
        sink = ["rtmpsink", f"location={url} live=1"] if encoder == "librtmp" else ["rtmp2sink", f"location={url}"]
        return spawn(["gst-launch-1.0", "-q", "filesrc", f"location={fixture}", "!", "flvdemux", "name=d",
                      "d.video", "!", "queue", "!", "h264parse", "!", "flvmux", "name=m", "streamable=true", "!",
                      *sink, "d.audio", "!", "queue", "!", "aacparse", "!", "m."], **quiet)

    tck = os.sysconf("SC_CLK_TCK")
    def ticks(pid):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(") ", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def tree():  # the server and its ffmpeg children
        pids = [server.pid]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if f.read().rsplit(") ", 1)[1].split()[1] == str(server.pid):
                            pids.append(int(d))
                except OSError:
                    pass
        return pids

    def cpu_share(seconds):
        pids = tree()
        before = {p: ticks(p) for p in pids}
        t0 = time.monotonic(); time.sleep(seconds); dt = time.monotonic() - t0
        used = sum(ticks(p) - before[p] for p in pids if os.path.exists(f"/proc/{p}"))
        return used / tck / dt, len(pids) - 1

    def latency(encoder="ffmpeg-rtmp"):
        """One broadcast; each segment timed as it appears in the playlist (sorted seconds)."""
        url, hls, uid = create(0, encoder)
        lifecycle = hls.replace("/manifest/video.m3u8", "/lifecycle")
        pub = push(url, encoder)
        deadline = time.monotonic() + 60
        while not json.loads(get(lifecycle)[1])["live"]:
            if pub.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench-video: {encoder} never went live")
            time.sleep(0.01)
        start = time.monotonic()  # the publish was accepted: media time 0 leaves the publisher now
        seen, lat = 0, []
        while len(lat) < SEGMENTS:
            status, body = get(hls)
            if status == 200:
                durs = [float(x) for x in re.findall(r"#EXTINF:([0-9.]+),", body.decode())]
                now = time.monotonic()
                while seen < len(durs):
                    end = sum(durs[: seen + 1])
                    lat.append((now - start) - end)
                    seen += 1
            if time.monotonic() > start + 4 * SEGMENTS + 30:
                sys.exit(f"bench-video: {encoder}: only {len(lat)} segments")
            time.sleep(0.02)
        pub.kill(); pub.wait()
        lat = lat[1:]  # the first segment also carries ffmpeg's start-up probing
        lat.sort()
        time.sleep(3)
        return lat

    # --- latency: one broadcast, segments timed as they appear in the playlist
    lat = latency()
    print(f"latency (last frame sent -> segment in playlist), {len(lat)} segments of ~2 s: "
          f"median {lat[len(lat)//2]:.2f} s, min {lat[0]:.2f} s, max {lat[-1]:.2f} s")

    # --- end of a live broadcast: publisher dropped, remuxer gone (vs a publisher that stops)
    def gone(what, done):
        t0 = time.monotonic()
        while not done():
            if time.monotonic() - t0 > 30:
                sys.exit(f"bench-video: {what} never happened")
            time.sleep(0.005)
        return time.monotonic() - t0

    def live_broadcast(i):
        before = set(tree())
        url, hls, _ = create(i)
        pub = push(url)
        lifecycle = hls.replace("/manifest/video.m3u8", "/lifecycle")
        gone("the publish going live", lambda: json.loads(get(lifecycle)[1])["live"])
        gone("its remuxing ffmpeg", lambda: set(tree()) - before)
        return pub, create.room, set(tree()) - before

    ends = {"end": ([], []), "stop": ([], [])}
    for i in range(3):
        for how in ("end", "stop"):
            pub, room, remuxers = live_broadcast(100 + 2 * i + (how == "stop"))
            if how == "end":
                get(api + f"/api/rooms/{room}/end", b"", {"authorization": "Bearer " + KEY})
            else:
                pub.kill()  # the publisher goes away by itself
            dropped, remux = ends[how]
            dropped.append(gone("the publisher dropped", lambda: pub.poll() is not None))
            remux.append(gone("the remuxer gone", lambda: not (remuxers & set(tree()))))
            pub.wait()
    med = lambda v: sorted(v)[len(v) // 2] * 1000
    print("\n| after | publisher's connection closed, median (max) | remuxing ffmpeg gone, median (max) |")
    print("|---|---|---|")
    for how, label in (("stop", "the publisher stops (baseline)"), ("end", "the room is ended (API answered)")):
        d, r = ends[how]
        print(f"| {label} | {med(d):.0f} ms ({max(d)*1000:.0f}) | {med(r):.0f} ms ({max(r)*1000:.0f}) |")
    time.sleep(3)

    # --- CPU: idle baseline, then N concurrent 720p broadcasts
    idle, _ = cpu_share(STEP)
    print(f"cpu idle (server, 0 broadcasts): {idle*100:.1f}% of a core")
    rows = []
    pubs = []
    for n in (1, 2, 4):
        while len(pubs) < n:
            u, h, _ = create(len(pubs) + 1)
            pubs.append(push(u))
        time.sleep(6)  # every publish accepted, ffmpeg running
        share, children = cpu_share(STEP)
        per = (share - idle) / n
        rows.append((n, children, share, per))
        print(f"cpu with {n} broadcast(s): {share*100:.1f}% of a core ({children} ffmpeg), "
              f"per broadcast {per*100:.1f}%")
    print("\n| concurrent 720p30 broadcasts | ffmpeg processes | server + ffmpeg CPU | per broadcast (minus idle) |")
    print("|---|---|---|---|")
    print(f"| 0 (baseline) | 0 | {idle*100:.1f}% | - |")
    for n, c, s, p in rows:
        print(f"| {n} | {c} | {s*100:.1f}% | {p*100:.1f}% |")
    for p in pubs:
        p.kill(); p.wait()
    time.sleep(3)

    # --- per encoder and transport: latency, and CPU of 2 concurrent broadcasts (minus idle)
    have_gst = subprocess.run(["sh", "-c", "command -v gst-launch-1.0"], capture_output=True).returncode == 0
    encoders = ["ffmpeg-rtmp", "ffmpeg-srt"] + (["librtmp", "rtmp2sink"] if have_gst else [])
    results = {}
    for enc in encoders:
        lat = latency(enc)
        idle, _ = cpu_share(STEP)
        pubs = [push(create(i, enc)[0], enc) for i in range(2)]
        time.sleep(6)
        share, _ = cpu_share(STEP)
        for p in pubs:
            p.kill(); p.wait()
        time.sleep(3)
        results[enc] = (lat[len(lat)//2], lat[-1], (share - idle) / 2)
    base = results["ffmpeg-rtmp"]
    print("\n| encoder / transport | latency median | latency max | CPU per broadcast (2 concurrent, minus idle) | vs ffmpeg RTMP (CPU) |")
    print("|---|---|---|---|---|")
    for enc, (med, mx, cpu) in results.items():
        ratio = cpu / base[2] if base[2] > 0 else float("nan")
        print(f"| {enc} | {med:.2f} s | {mx:.2f} s | {cpu*100:.1f}% | {ratio:.2f}x |")
finally:
    cleanup()
PY
