#!/usr/bin/env bash
# Discovery and viewing at scale (not a test), issue 20. For each room count: a `serve --data-dir`
# makes its registry and one room and stops; benches/seed_rooms.py writes that many rooms into the
# stopped node's ledger (and live inputs for those viewers and the first listing pages read into
# the emulator's saved inputs); `serve` starts again on it and, in the same run:
#   - start-up: seconds from the process start until the room index answers a listing, and the
#     server's resident memory (per room: the growth between two room counts);
#   - listing throughput and p50/p99 (wrk) without filters and with filters/cursors, and viewers
#     (GET /api/livestream?room=…) — each against GET /api/ping, a trivial JSON route behind the
#     same middleware, in rounds of the three back to back (ratios per round; medians);
#   - right after a write: creates one after another, each followed at once by a listing (its
#     latency, and whether the new room is already on the first page), and the time from a create's
#     answer until the room is listed.
# Usage: scripts/bench-discovery.sh [room counts, comma-separated] [seconds] [connections] [creates] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTS=${1:-1000,10000,100000}
DURATION=${2:-10}
CONNECTIONS=${3:-32}
CREATES=${4:-20}
ROUNDS=${5:-3}
for tool in wrk curl python3; do
  command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
# ROOMCAST_BIN=path skips the build (the test script smoke-runs this against the debug binary).
if [[ -z ${ROOMCAST_BIN:-} ]]; then
  cargo build --release -p roomcast-app >&2
  ROOMCAST_BIN="$CARGO_TARGET_DIR/release/roomcast"
fi
BIN="$ROOMCAST_BIN"
KEY=bench-operator-key-0123456789abcdef
TMP=$(mktemp -d)
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
now() { date +%s.%N; }

. scripts/lib/serve.sh
# The reconciler is off: most seeded rooms have no live input at the emulator (only those viewers
# and the first listing pages read have one), so every pass would take them for rooms whose input
# is gone and try to end them (with failing transactions: the seeder's addresses are not the
# program's PDAs) — a measure of that, not of discovery.
start_server() { # $1 = data dir; sets PID, URL
  serve_start "$BIN" "$TMP/serve.log" ROOMCAST_OPERATOR_KEY=$KEY ROOMCAST_CREATE_RATE_PER_MINUTE=100000 \
    ROOMCAST_RECONCILE_INTERVAL_SECS=0 \
    RUST_LOG=warn ROOMCAST_READ_RATE_PER_MINUTE=1000000000 ROOMCAST_MAX_CONCURRENT_REQUESTS=100000 \
    -- --rtmp-listen 127.0.0.1:0 --srt-listen 127.0.0.1:0 --data-dir "$1" \
    || { echo "bench: the server did not start" >&2; exit 1; }
  PID=$SERVE_PID URL=$SERVE_URL
}
stop_server() {
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
run() { # $1 = label, rest = wrk args
  local label=$1; shift
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" > "$TMP/wrk-$label.txt"
}
field() {
  local f=$1 label=$2
  case $f in
    rps) awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk-$label.txt" ;;
    p50|p99) awk -v p="${f#p}%" '$1 == p {print $2}' "$TMP/wrk-$label.txt" ;;
  esac
}
ms() { # wrk's "1.23ms" / "456.00us" / "1.02s" → milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
pct() { # stdin: numbers → "p50 / p99"
  python3 -c 'import sys; v=sorted(float(x) for x in sys.stdin.read().split()); q=lambda p: v[min(len(v)-1, int(round(p*(len(v)-1))))]; print(f"{q(.5):.1f} / {q(.99):.1f}" if v else "n/a")'
}

ROWS=""
VIEW_ROWS=""
FIRST_RSS=""
FIRST_N=""
IFS=, read -r -a NS <<<"$COUNTS"
for N in "${NS[@]}"; do
  DATA="$TMP/data-$N"
  # 1. A registry and one room made through the API (its live input is the template the seeder
  #    copies for the rooms viewers and listings read), then N rooms written into the stopped
  #    node's ledger.
  start_server "$DATA"
  INFO=$(curl -sf "$URL/api/info")
  curl -sf -o /dev/null -X POST "$URL/api/create" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
    -d '{"title":"Template","host":"11111111111111111111111111111112"}'
  stop_server
  read -r PROGRAM REGISTRY REGISTRAR < <(python3 -c 'import json,sys; i=json.loads(sys.argv[1]); print(i["programId"], i["registry"], i["registrar"])' "$INFO")
  python3 benches/seed_rooms.py "$DATA/ledger.json" "$PROGRAM" "$REGISTRY" "$REGISTRAR" "$N" "$DATA/stream-inputs.json" > "$TMP/sample"
  HOST=$(head -1 "$TMP/sample")
  ROOMS=$(tail -n +2 "$TMP/sample" | paste -sd, -)

  # 2. Start-up on that ledger: until the index answers a listing.
  t0=$(now)
  start_server "$DATA"
  until curl -sf "$URL/api/rooms?limit=1" >/dev/null; do sleep 0.05; done
  LOAD=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
  RSS=$(rss_kb "$PID")
  if [ -z "$FIRST_RSS" ]; then FIRST_RSS=$RSS; FIRST_N=$N; PER_ROOM="(baseline)"; else
    PER_ROOM=$(awk -v a="$RSS" -v b="$FIRST_RSS" -v n="$N" -v m="$FIRST_N" 'BEGIN {printf "%.0f B", (a - b) * 1024 / (n - m)}')
  fi
  CURSOR=$(curl -sf "$URL/api/rooms?limit=100" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nextCursor"] or "")')
  PLAIN="/api/rooms?limit=20"
  FILTERED="/api/rooms?status=live&limit=20,/api/rooms?host=$HOST&limit=20,/api/rooms?status=ended&host=$HOST&limit=20"
  [ -n "$CURSOR" ] && FILTERED="$FILTERED,/api/rooms?limit=20&cursor=$CURSOR"

  # 3. Throughput and latency in rounds: the floor, the listing and the viewers back to back, so
  #    each round's ratios pair runs seconds apart (a noisy moment of the shared cores weighs on
  #    both sides of a ratio); the report gives each ratio's median over the rounds and its range.
  # The floor is driven like the routes it is compared with: through the same wrk script (a Lua
  # `request` per request costs wrk CPU on the same 2 cores; a static request would not).
  ROOMCAST_PATHS=$FILTERED run filtered -s benches/discovery.lua "$URL/"
  : >"$TMP/rounds"
  for r in $(seq 1 "$ROUNDS"); do
    ROOMCAST_PATHS=/api/ping run "ping$r" -s benches/discovery.lua "$URL/"
    ROOMCAST_PATHS=$PLAIN run "plain$r" -s benches/discovery.lua "$URL/"
    ROOMCAST_ROOMS=$ROOMS run "view$r" -s benches/discovery.lua "$URL/"
    echo "$(field rps "ping$r") $(ms "$(field p99 "ping$r")") $(field rps "plain$r") $(ms "$(field p50 "plain$r")") $(ms "$(field p99 "plain$r")") $(field rps "view$r") $(ms "$(field p99 "view$r")")" >>"$TMP/rounds"
  done

  # 4. Right after a write.
  : >"$TMP/after"; : >"$TMP/appear"; MISSING=0
  for i in $(seq 1 "$CREATES"); do
    room=$(curl -sf -X POST "$URL/api/create" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
      -d "{\"title\":\"Written $i\",\"host\":\"11111111111111111111111111111112\"}" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["room"])')
    answered=$(now)
    out=$(curl -s -o "$TMP/page" -w '%{time_total}' "$URL/api/rooms?limit=100")
    echo "$out" | awk '{printf "%.3f\n", $1 * 1000}' >>"$TMP/after"
    if grep -q "$room" "$TMP/page"; then
      awk -v a="$answered" -v b="$(now)" 'BEGIN {printf "%.1f\n", (b - a) * 1000}' >>"$TMP/appear"
    else
      MISSING=$((MISSING + 1))
      until curl -sf "$URL/api/rooms?limit=100" | grep -q "$room"; do sleep 0.01; done
      awk -v a="$answered" -v b="$(now)" 'BEGIN {printf "%.1f\n", (b - a) * 1000}' >>"$TMP/appear"
    fi
  done
  stop_server

  # Per round: ping rps, ping p99, listing rps, p50, p99, viewers rps, p99 → medians and ranges.
  read -r PING_RPS PING_P99 PLAIN_RPS PLAIN_P50 PLAIN_P99 VIEW_RPS VIEW_P99 LIST_X VIEW_X VIEW_P99_X < <(python3 - "$TMP/rounds" <<'PY'
import statistics, sys
rows = [[float(x) for x in line.split()] for line in open(sys.argv[1]) if line.strip()]
med = lambda i: statistics.median(r[i] for r in rows)
def ratio(a, b):
    v = [r[a] / r[b] for r in rows if r[b] > 0]
    return f"{statistics.median(v):.2f}× ({min(v):.2f}–{max(v):.2f})"
print(f"{med(0):.0f} {med(1):.2f} {med(2):.0f} {med(3):.2f} {med(4):.2f} {med(5):.0f} {med(6):.2f}",
      ratio(2, 0).replace(" ", "_"), ratio(5, 0).replace(" ", "_"), ratio(6, 1).replace(" ", "_"))
PY
)
  ROWS="$ROWS| $N | $LOAD s | $PLAIN_P50 / $PLAIN_P99 | $(ms "$(field p50 filtered)") / $(ms "$(field p99 filtered)") | $(pct <"$TMP/after") | $(pct <"$TMP/appear") ($MISSING of $CREATES not on the first listing) | $PLAIN_RPS · ${LIST_X//_/ } | $PER_ROOM |
"
  VIEW_ROWS="$VIEW_ROWS| $N | $PING_RPS | $PING_P99 | $VIEW_RPS | $VIEW_P99 | **${VIEW_X//_/ }** | **${VIEW_P99_X//_/ }** |
"
done

cat <<REPORT
| rooms | start-up until listed | listing p50 / p99 warm, ms | filtered + cursor p50 / p99, ms | listing right after a create p50 / p99, ms | create answered → listed p50 / p99, ms | listing req/s (× /api/ping) | memory per room |
|---|---|---|---|---|---|---|---|
$ROWS
| rooms | /api/ping req/s | ping p99 ms | livestream req/s | livestream p99 ms | throughput ratio | p99 ratio |
|---|---|---|---|---|---|---|
$VIEW_ROWS
- run: wrk -t2 -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds (medians; ratios per round, median and range), $CREATES creates per room count, $(nproc) cores
REPORT
