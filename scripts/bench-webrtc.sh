#!/usr/bin/env bash
# WebRTC (WHIP/WHEP) path benchmark (not a test): a release `roomcast stream-emulator` with real
# video, an aiortc publisher (tests/whip/client.py, 640x360 30 fps H.264 + Opus) and aiortc
# viewers, measured from outside:
#   * glass-to-glass latency: the publisher draws its wall clock (ms) into each frame before
#     encoding; a viewer decodes the frame, reads it back and subtracts (same machine, same clock):
#     encode + packetize + the emulator's forwarding + depacketize + decode (p50/p95);
#   * CPU of the emulator process while idle (the baseline, same run), with the publisher, and
#     with 1 + N viewers: per publisher = (publisher - idle), per viewer = (viewers - publisher)/(1+N);
#   * how many of the viewers kept receiving frames (the aiortc viewers decode in Python and cost
#     far more than the emulator: on 2 cores they, not the emulator, bound N).
# Usage: scripts/bench-webrtc.sh [seconds-per-step] [viewers]   (needs python3-venv; ffmpeg for
# the emulator's video mode)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_STEP=${1:-20}
VIEWERS=${2:-8}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
if [[ -z ${ROOMCAST_BIN:-} ]]; then
  cargo build --release -p roomcast-app >&2
  ROOMCAST_BIN="$CARGO_TARGET_DIR/release/roomcast"
fi
PY="$(tests/whip/setup.sh)"
BIN="$ROOMCAST_BIN" PYBIN="$PY" STEP="$SECONDS_PER_STEP" VIEWERS="$VIEWERS" exec python3 - <<'PY'
import json, os, signal, subprocess, sys, tempfile, threading, time, urllib.request

BIN, PYBIN = os.environ["BIN"], os.environ["PYBIN"]
STEP, VIEWERS = max(1, int(os.environ["STEP"])), max(1, int(os.environ["VIEWERS"]))
CLIENT = os.path.join(os.getcwd(), "tests/whip/client.py")
ACCOUNT, TOKEN = "0123456789abcdef0123456789abcdef", "bench-token-0123456789"
work = tempfile.mkdtemp(prefix="roomcast-bench-webrtc-")
procs = []

def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p

def cleanup(*_):
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(1)))

class Peer:
    """An aiortc client; its JSON lines collected."""
    def __init__(self, *args):
        self.p = spawn([PYBIN, CLIENT, *args, "--seconds", "3600"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()
    def _read(self):
        for line in self.p.stdout:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass
    def last(self, event):
        return next((l for l in reversed(self.lines) if l.get("event") == event), None)
    def wait(self, event, bound=60):
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            if self.last(event):
                return self.last(event)
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        sys.exit(f"bench-webrtc: no {event!r} from a client: {self.lines}")
    def leave(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.p.kill()

log = open(os.path.join(work, "emulator.log"), "w+")
env = dict(os.environ, RUST_LOG="warn", TMPDIR=work, ROOMCAST_EMULATOR_TOKEN=TOKEN)
emu = spawn([BIN, "stream-emulator", "--listen", "127.0.0.1:0", "--account-id", ACCOUNT,
             "--rtmp-listen", "127.0.0.1:0", "--srt-listen", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
try:
    for _ in range(600):
        log.seek(0); out = log.read()
        if "Video ingest" in out:
            break
        time.sleep(0.1)
    api = out.splitlines()[0].strip()
    if "Video ingest (RTMP)" not in out:
        sys.exit("bench-webrtc: video is off:\n" + out)
    req = urllib.request.Request(f"{api}/accounts/{ACCOUNT}/stream/live_inputs",
                                 data=json.dumps({"recording": {"mode": "automatic"}}).encode(),
                                 headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        li = json.loads(r.read())["result"]
    whip, whep = li["webRTC"]["url"], li["webRTCPlayback"]["url"]

    tck = os.sysconf("SC_CLK_TCK")
    def ticks():
        with open(f"/proc/{emu.pid}/stat") as f:
            fields = f.read().rsplit(") ", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    def cpu(seconds):
        t, c = time.monotonic(), ticks()
        time.sleep(seconds)
        return (ticks() - c) / tck / (time.monotonic() - t)

    idle = cpu(STEP)
    pub = Peer("publish", whip, "--stamp")
    pub.wait("connected")
    time.sleep(1)
    one = cpu(STEP)
    watcher = Peer("play", whep, "--stamp")
    watcher.wait("connected")
    others = [Peer("play", whep) for _ in range(VIEWERS)]
    for o in others:
        o.wait("created")
    time.sleep(2)
    many = cpu(STEP)
    watcher.leave()
    lat = watcher.last("latency") or {}
    got = 0
    for o in others:
        before = (o.last("frames") or {}).get("video", 0)
        o.leave()
        after = (o.last("frames") or {}).get("video", 0)
        got += 1 if after > 0 else 0
    pub.leave()
    n = 1 + VIEWERS
    print(f"# WebRTC path: {STEP} s per step, 1 publisher (aiortc 640x360 H.264 + Opus), 1 + {VIEWERS} aiortc viewers")
    print(f"glass-to-glass latency (ms, {lat.get('samples', 0)} frames): p50 {lat.get('p50')}  p95 {lat.get('p95')}")
    print(f"emulator CPU (cores): idle {idle:.3f}  publisher {one:.3f}  publisher + {n} viewers {many:.3f}")
    print(f"per publisher {one - idle:.3f} cores; per viewer {(many - one) / n:.4f} cores")
    print(f"viewers receiving video: {got + (1 if watcher.last('frames') and watcher.last('frames')['video'] > 0 else 0)} of {n}")
    if not lat.get("samples"):
        sys.exit("bench-webrtc: the viewer read no timestamps")
finally:
    cleanup()
PY
