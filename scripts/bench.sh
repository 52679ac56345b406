#!/usr/bin/env bash
# Viewer-resolution benchmark (not a test). Drives GET /api/livestream, GET /api/ping (a trivial JSON
# route behind the same middleware: body limit, timeout, load shedding, per-address reads, metrics)
# and GET /healthz (exempt from load shedding) of the same server with the same load tool (wrk) in
# the same run, and reports throughput, p50/p99, the ratios to /api/ping, and upstream (Cloudflare
# + Solana RPC) calls per 10k viewer requests from the server's own /metrics. Usage: scripts/bench.sh [seconds] [connections] [rooms]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNECTIONS=${2:-32}
ROOMS=${3:-20}
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install -y wrk)" >&2; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
# ROOMCAST_BIN=path skips the build (the test script smoke-runs this against the debug binary).
if [[ -z ${ROOMCAST_BIN:-} ]]; then
  cargo build --release -p roomcast-app >&2
  ROOMCAST_BIN="$CARGO_TARGET_DIR/release/roomcast"
fi
BIN="$ROOMCAST_BIN"
KEY=bench-operator-key-0123456789abcdef
LOG=$(mktemp)
SERVE_PID=""
trap '[[ -z $SERVE_PID ]] || kill $SERVE_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$LOG"' EXIT
. scripts/lib/serve.sh
# --ephemeral: a benchmark's rooms never land in the developer's default data dir (`.roomcast/`).
serve_start "$BIN" "$LOG" ROOMCAST_OPERATOR_KEY=$KEY ROOMCAST_CREATE_RATE_PER_MINUTE=1000 RUST_LOG=warn \
  ROOMCAST_READ_RATE_PER_MINUTE=1000000000 ROOMCAST_MAX_CONCURRENT_REQUESTS=100000 -- --ephemeral
URL=$SERVE_URL
EMULATOR=$(awk '/Stream emulator control:/ {print $NF}' "$LOG")

SESSIONS=""
for i in $(seq 1 "$ROOMS"); do
  sid=$(curl -sf -X POST "$URL/api/create" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
    -d "{\"title\":\"Bench room $i\",\"host\":\"11111111111111111111111111111112\"}" | sed -E 's/.*"SessionID":"([0-9a-f]{32})".*/\1/')
  # Half the rooms are broadcasting, as on a real platform.
  if (( i % 2 == 0 )); then curl -sf -X POST "$EMULATOR/inputs/$sid/connect" >/dev/null; fi
  SESSIONS="$SESSIONS${SESSIONS:+,}$sid"
done

upstream_calls() {
  curl -sf "$URL/metrics" | awk '/^roomcast_upstream_requests_total/ {s += $NF} END {printf "%d", s}'
}
run() { # $1 = label, rest = wrk args
  local label=$1; shift
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" > "/tmp/bench-$label.txt"
}
field() { # requests/sec and percentiles from wrk's output
  local f=$1 label=$2
  case $f in
    rps) awk '/^Requests\/sec:/ {print $2}' "/tmp/bench-$label.txt" ;;
    total) awk '/requests in/ {print $1}' "/tmp/bench-$label.txt" ;;
    p50|p99) awk -v p="${f#p}%" '$1 == p {print $2}' "/tmp/bench-$label.txt" ;;
  esac
}

run warmup -s benches/livestream.lua "$URL/api/livestream" >/dev/null 2>&1 || true
run healthz "$URL/healthz"
# The floor is driven like the route it is compared with: through a wrk script (a Lua `request`
# per request costs wrk CPU on the same cores; a static request would not).
ROOMCAST_PATHS=/api/ping run ping -s benches/discovery.lua "$URL/"
before=$(upstream_calls)
ROOMCAST_SESSIONS=$SESSIONS run livestream -s benches/livestream.lua "$URL/api/livestream"
after=$(upstream_calls)

total=$(field total livestream)
calls=$((after - before))
per10k=$(awk -v c="$calls" -v t="$total" 'BEGIN {printf "%.1f", (t > 0) ? (c * 10000 / t) : 0}')
ratio=$(awk -v a="$(field rps livestream)" -v b="$(field rps ping)" 'BEGIN {printf "%.2f", a / b}')
ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
p99ratio=$(awk -v a="$(ms "$(field p99 livestream)")" -v b="$(ms "$(field p99 ping)")" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
cat <<REPORT
| route | requests/s | p50 | p99 |
|---|---|---|---|
| GET /healthz (no load shedding) | $(field rps healthz) | $(field p50 healthz) | $(field p99 healthz) |
| GET /api/ping (baseline: same middleware) | $(field rps ping) | $(field p50 ping) | $(field p99 ping) |
| GET /api/livestream ($ROOMS rooms) | $(field rps livestream) | $(field p50 livestream) | $(field p99 livestream) |

- livestream / /api/ping: throughput **$ratio×**, p99 **$p99ratio×**
- upstream calls during the livestream run: $calls for $total viewer requests = **$per10k per 10k requests**
- run: wrk -t2 -c$CONNECTIONS -d${DURATION}s, $(nproc) cores, room cache TTL 2 s, broadcast cache TTL 5 s
REPORT
