#!/usr/bin/env bash
# Soak benchmark (not a test): legitimate viewers and a create loop while anonymous clients attack
# (issue 17). The server runs in its default embedded mode with its default limits. Two phases of
# the same length against the same server: a baseline (viewers + creates only), then the same with
# the attack — event streams (SSE) from 100 addresses, idle and trickling RTMP TCP connections, a
# nonce flood from 4 addresses. Reports the viewers' success rate and p99 in both phases (ratio),
# the server's RSS before/during/after the attack, and how long SIGTERM takes with the attack's
# streams and RTMP connections open. Clients: one asyncio process (Python stdlib only).
# Usage: scripts/bench-soak.sh [seconds] [sse streams] [rtmp connections] [viewers]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-30}
SSE=${2:-2000}
RTMP=${3:-500}
VIEWERS=${4:-50}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
# ROOMCAST_BIN=path skips the build (the test script smoke-runs this against the debug binary).
if [[ -z ${ROOMCAST_BIN:-} ]]; then
  cargo build --release -p roomcast-app >&2
  ROOMCAST_BIN="$CARGO_TARGET_DIR/release/roomcast"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
KEY=bench-operator-key-0123456789abcdef
LOG=$(mktemp)
SERVE_PID=""
trap '[[ -z $SERVE_PID ]] || kill -9 $SERVE_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$LOG"' EXIT
. scripts/lib/serve.sh
# Default limits, except creates per IP and per host: the create loop is one client making one a second.
serve_start "$ROOMCAST_BIN" "$LOG" ROOMCAST_OPERATOR_KEY=$KEY RUST_LOG=warn ROOMCAST_EPHEMERAL=true \
  ROOMCAST_RTMP_LISTEN=127.0.0.1:0 ROOMCAST_CREATE_RATE_PER_MINUTE=1000 ROOMCAST_CREATE_BUDGET_PER_MINUTE=1000
PID=$SERVE_PID URL=$SERVE_URL PORT=${SERVE_URL##*:}
RTMP_URL=$(awk '/^Video ingest \(RTMP\):/ {print $4}' "$LOG")
RTMP_PORT=$(echo "${RTMP_URL:-rtmp://127.0.0.1:0/}" | sed -E 's#rtmp://[^:]+:([0-9]+)/.*#\1#')
PROFILE=$([[ $ROOMCAST_BIN == */release/* ]] && echo release || echo debug)

python3 - "$PORT" "$RTMP_PORT" "$PID" "$KEY" "$DURATION" "$SSE" "$RTMP" "$VIEWERS" "$PROFILE" <<'PY'
import asyncio, json, multiprocessing, os, signal, sys, time

PORT, RTMP_PORT, PID = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
KEY, DURATION = sys.argv[4], float(sys.argv[5])
SSE, RTMP, VIEWERS, PROFILE = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
HOST = "127.0.0.1"

def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

async def connect(src, port=PORT):
    return await asyncio.open_connection(HOST, port, local_addr=(src, 0))

async def request(conn, method, path, body=None, headers=()):
    """One HTTP/1.1 request on a kept-alive connection: (status, body)."""
    r, w = conn
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    for k, v in headers:
        head += f"{k}: {v}\r\n"
    w.write(head.encode() + b"\r\n" + data)
    await w.drain()
    status_line = await r.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while True:
        line = await r.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            length = int(v)
        if k.lower() == "transfer-encoding" and "chunked" in v:
            chunked = True
    if chunked:
        out = b""
        while True:
            size = int((await r.readline()).strip(), 16)
            chunk = await r.readexactly(size + 2)
            if size == 0:
                break
            out += chunk[:-2]
        return status, out
    return status, await r.readexactly(length)

async def create(conn, title):
    status, body = await request(conn, "POST", "/api/create",
                                 {"title": title, "host": "11111111111111111111111111111112"},
                                 [("Authorization", f"Bearer {KEY}")])
    return status, (json.loads(body) if status == 201 else None)

class Phase:
    def __init__(self):
        self.ok = self.failed = 0
        self.latencies = []
        self.creates_ok = self.creates_failed = 0
        self.create_statuses = {}
    def p(self, q):
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")

async def viewer(n, room, phase, stop):
    """A real viewer: its room's event stream, then the watch API every 200 ms."""
    src = f"127.0.2.{n + 1}"
    conn = None
    sse = None
    try:
        sse = await connect(src)
        sse[1].write(f"GET /api/rooms/{room}/events HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        await sse[1].drain()
        head = await asyncio.wait_for(sse[0].readuntil(b"\r\n\r\n"), 10)
        first = await asyncio.wait_for(sse[0].readuntil(b"\n\n"), 10)
        if b" 200 " in head.split(b"\r\n")[0] and b"event: room" in first:
            phase.ok += 1
        else:
            phase.failed += 1
    except Exception:
        phase.failed += 1
    while not stop.is_set():
        started = time.perf_counter()
        try:
            if conn is None:
                conn = await connect(src)
            status, _ = await asyncio.wait_for(request(conn, "GET", f"/api/rooms/{room}"), 10)
            if status == 200:
                phase.ok += 1
                phase.latencies.append(time.perf_counter() - started)
            else:
                phase.failed += 1
        except Exception:
            phase.failed += 1
            conn = None
        await asyncio.sleep(0.2)
    for c in (conn, sse):
        if c:
            c[1].close()

async def creator(phase, stop):
    conn = None
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if conn is None:
                conn = await connect("127.0.0.1")
            status, _ = await asyncio.wait_for(create(conn, f"Soak {n}"), 30)
            if status == 201:
                phase.creates_ok += 1
            else:
                phase.creates_failed += 1
                phase.create_statuses[status] = phase.create_statuses.get(status, 0) + 1
        except Exception:
            phase.creates_failed += 1
            conn = None
        await asyncio.sleep(1.0)

class Attack:
    def __init__(self):
        self.sse_open = self.sse_refused = 0
        self.rtmp_open = 0
        self.nonce = {}
        self.conns = []
        self.tasks = []

    async def sse(self, i, room):
        src = f"127.0.1.{i % 100 + 1}"
        try:
            r, w = await connect(src)
            w.write(f"GET /api/rooms/{room}/events HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            await w.drain()
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
            if b" 200 " in head.split(b"\r\n")[0]:
                self.sse_open += 1
                self.conns.append(w)
                self.tasks.append(asyncio.ensure_future(self.drain(r)))
            else:
                self.sse_refused += 1
                w.close()
        except Exception:
            self.sse_refused += 1

    async def drain(self, r):
        try:
            while await r.read(4096):
                pass
        except Exception:
            pass

    async def rtmp(self, i):
        """Half idle, half trickling an RTMP handshake one byte a second."""
        if not RTMP_PORT:
            return
        try:
            r, w = await connect(f"127.0.4.{i % 50 + 1}", RTMP_PORT)
        except Exception:
            return
        self.rtmp_open += 1
        self.conns.append(w)
        if i % 2:
            async def trickle():
                try:
                    w.write(b"\x03")
                    while True:
                        await asyncio.sleep(1)
                        w.write(b"\x00")
                        await w.drain()
                except Exception:
                    pass
            self.tasks.append(asyncio.ensure_future(trickle()))

    async def nonces(self, src, stop):
        conn = None
        while not stop.is_set():
            try:
                if conn is None:
                    conn = await connect(src)
                status, _ = await request(conn, "GET", "/api/auth/nonce")
                self.nonce[status] = self.nonce.get(status, 0) + 1
            except Exception:
                self.nonce["error"] = self.nonce.get("error", 0) + 1
                conn = None
                await asyncio.sleep(0.05)

    async def open(self, room):
        for batch in range(0, SSE, 100):
            await asyncio.gather(*(self.sse(i, room) for i in range(batch, min(SSE, batch + 100))))
        await asyncio.gather(*(self.rtmp(i) for i in range(RTMP)))

    def close(self):
        for t in self.tasks:
            t.cancel()
        for w in self.conns:
            w.close()
        self.conns, self.tasks = [], []

def attack_process(room, opened, stop, results):
    """The attack, in its own process (its own event loop: the viewers' latencies are not the
    attackers' scheduling delays)."""
    async def go():
        attack = Attack()
        await attack.open(room)
        halt = asyncio.Event()
        floods = [asyncio.ensure_future(attack.nonces(f"127.0.3.{i + 1}", halt))
                  for i in range(4) for _ in range(8)]
        opened.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        halt.set()
        await asyncio.gather(*floods, return_exceptions=True)
        results.put((attack.sse_open, attack.sse_refused, attack.rtmp_open,
                     {str(k): v for k, v in attack.nonce.items()}))
        attack.close()
    asyncio.run(go())

async def run_phase(rooms, attack_room=None):
    phase, stop = Phase(), asyncio.Event()
    attack = None
    peak = rss_mib()
    if attack_room:
        ctx = multiprocessing.get_context("fork")
        opened, halt, results = ctx.Event(), ctx.Event(), ctx.Queue()
        proc = ctx.Process(target=attack_process, args=(attack_room, opened, halt, results))
        proc.start()
        while not opened.is_set():
            await asyncio.sleep(0.1)
        attack = (proc, halt, results)
    tasks = [asyncio.ensure_future(viewer(n, rooms[n % len(rooms)], phase, stop)) for n in range(VIEWERS)]
    tasks.append(asyncio.ensure_future(creator(phase, stop)))
    end = time.monotonic() + DURATION
    while time.monotonic() < end:
        await asyncio.sleep(0.5)
        peak = max(peak, rss_mib())
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    summary = None
    if attack:
        proc, halt, results = attack
        halt.set()
        summary = await asyncio.get_running_loop().run_in_executor(None, results.get)
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    return phase, summary, peak

async def open_streams():
    conn = await connect("127.0.0.1")
    status, body = await request(conn, "GET", "/metrics")
    conn[1].close()
    for line in body.decode().splitlines():
        if line.startswith("roomcast_sse_streams_open "):
            return int(float(line.split()[1]))
    return 0

async def main():
    conn = await connect("127.0.0.1")
    rooms = []
    for i in range(10):
        status, body = await create(conn, f"Viewed {i}")
        assert status == 201, status
        rooms.append(body["room"])
    status, body = await create(conn, "Attacked")
    target = body["room"]
    conn[1].close()

    base, _, base_peak = await run_phase(rooms)
    before = rss_mib()
    soak, attack, peak = await run_phase(rooms, target)
    during = peak
    sse_open, sse_refused, rtmp_open, nonce_answers = attack
    await asyncio.sleep(5)
    after = rss_mib()
    streams_after = await open_streams()

    # Shutdown with the attack's streams and RTMP connections open again.
    again = Attack()
    await again.open(target)
    held = again.sse_open
    started = time.monotonic()
    os.kill(PID, signal.SIGTERM)
    while os.path.exists(f"/proc/{PID}"):
        try:
            with open(f"/proc/{PID}/stat") as f:
                if f.read().split(") ")[1].startswith("Z"):
                    break
        except FileNotFoundError:
            break
        await asyncio.sleep(0.05)
    shutdown = time.monotonic() - started
    again.close()

    def rate(p):
        total = p.ok + p.failed
        return 100.0 * p.ok / total if total else float("nan")
    ratio = soak.p(0.99) / base.p(0.99) if base.latencies else float("nan")
    print("| phase | viewer requests | success | p50 | p99 | creates ok / failed |")
    print("|---|---|---|---|---|---|")
    for name, p in (("baseline (no attack)", base), ("under attack", soak)):
        statuses = f" ({p.create_statuses})" if p.create_statuses else ""
        print(f"| {name} | {p.ok + p.failed} | {rate(p):.2f}% | {p.p(0.5):.2f} ms | {p.p(0.99):.2f} ms | {p.creates_ok} / {p.creates_failed}{statuses} |")
    print()
    print(f"- viewers' p99 under attack / baseline: **{ratio:.2f}**; success under attack: **{rate(soak):.2f}%**")
    print(f"- attack (its own process): {sse_open} SSE streams open ({sse_refused} refused) from 100 addresses, "
          f"{rtmp_open} RTMP connections (half idle, half trickling), nonce flood from 4 addresses × 8 connections "
          f"(answers: {dict(sorted(nonce_answers.items()))})")
    print(f"- server RSS: {before:.0f} MiB before, {during:.0f} MiB peak during, {after:.0f} MiB 5 s after the attack stopped "
          f"(event streams still open then: {streams_after})")
    print(f"- SIGTERM with {held} SSE streams and {again.rtmp_open} RTMP connections open: exited in **{shutdown:.2f} s**")
    print(f"- run: {DURATION:.0f} s per phase, {VIEWERS} viewers (event stream + watch API every 200 ms), "
          f"a create per second; {os.cpu_count()} cores, {PROFILE} build, default limits (creates per IP/host raised)")

asyncio.run(main())
PY
