#!/usr/bin/env bash
# WebRTC (WHIP/WHEP) path benchmark (not a test): a release `stream-emulator` with real
# video, an aiortc publisher (tests/whip/client.py, 640x360 30 fps H.264 + Opus) and aiortc
# viewers, measured from outside:
#   * glass-to-glass latency: the publisher draws its wall clock (ms) into each frame before
#     encoding; a viewer decodes the frame, reads it back and subtracts (same machine, same clock):
#     encode + packetize + the emulator's forwarding + depacketize + decode (p50/p95);
#   * CPU of the emulator process while idle (the baseline, same run), with the publisher (and the
#     one aiortc viewer that measures latency), and with N more viewers: per publisher =
#     (publisher - idle), per viewer = (with viewers - publisher) / N. The N viewers are
#     `app/stream/examples/whep_load.rs` (str0m, receive-only, nothing decoded), so that the
#     emulator and not Python decoders is what 2 cores run out of;
#   * how many of the N viewers connected and kept receiving video (>= 30 frames each).
# Usage: scripts/bench-webrtc.sh [seconds-per-step] [viewers]   (needs python3-venv; ffmpeg for
# the emulator's video mode)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_STEP=${1:-20}
VIEWERS=${2:-60}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
if [[ -z ${ROOMCAST_BIN:-} ]]; then
  # The emulator's own example binary takes the same `stream-emulator` flags as `roomcast` (the same
  # code, without the rest of the app to build).
  cargo build --release -p roomcast-stream --example stream_emulator --example whep_load >&2
  ROOMCAST_BIN="$CARGO_TARGET_DIR/release/examples/stream_emulator"
  LOAD="$CARGO_TARGET_DIR/release/examples/whep_load"
else
  cargo build -p roomcast-stream --example whep_load >&2
  LOAD="$CARGO_TARGET_DIR/debug/examples/whep_load"
fi
PY="$(tests/whip/setup.sh)"
BIN="$ROOMCAST_BIN" LOAD="$LOAD" PYBIN="$PY" STEP="$SECONDS_PER_STEP" VIEWERS="$VIEWERS" exec python3 - <<'PY'
import json, os, signal, subprocess, sys, tempfile, threading, time, urllib.request

BIN, PYBIN, LOAD = os.environ["BIN"], os.environ["PYBIN"], os.environ["LOAD"]
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
             "--rtmp-listen", "127.0.0.1:0", "--srt-listen", "127.0.0.1:0",
             "--webrtc-max-viewers", str(VIEWERS + 10)],
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
    watcher = Peer("play", whep, "--stamp")
    watcher.wait("connected")
    time.sleep(1)
    one = cpu(STEP)
    load = spawn([LOAD, whep, str(VIEWERS), str(STEP + 8)], stdout=subprocess.PIPE, text=True)
    time.sleep(4)
    many = cpu(STEP)
    out, _ = load.communicate(timeout=STEP + 60)
    loaded = json.loads(out.strip().splitlines()[-1])
    watcher.leave()
    lat = watcher.last("latency") or {}
    pub.leave()
    print(f"# WebRTC path: {STEP} s per step, 1 publisher (aiortc 640x360 H.264 + Opus), 1 aiortc viewer (latency), {VIEWERS} load viewers")
    print(f"glass-to-glass latency (ms, {lat.get('samples', 0)} frames): p50 {lat.get('p50')}  p95 {lat.get('p95')}")
    print(f"emulator CPU (cores): idle {idle:.3f}  publisher + 1 viewer {one:.3f}  + {VIEWERS} viewers {many:.3f}")
    print(f"per publisher (+1 viewer) {one - idle:.3f} cores; per viewer {(many - one) / VIEWERS:.4f} cores")
    print(f"load viewers: {loaded['created']} created, {loaded['connected']} connected, {loaded['receiving']} receiving video (min {loaded['minVideoFrames']} frames) of {VIEWERS}")
    if not lat.get("samples"):
        sys.exit("bench-webrtc: the viewer read no timestamps")
    if loaded["receiving"] == 0:
        sys.exit("bench-webrtc: no load viewer received video")
finally:
    cleanup()
PY
