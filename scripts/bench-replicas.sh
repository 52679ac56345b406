#!/usr/bin/env bash
# Replica benchmark (not a test), issue 13. One standalone local node, one standalone Stream
# emulator, one redis-server; in the same run:
#   1. viewer throughput (GET /api/livestream, wrk) of one Redis-backed replica vs two (one wrk per
#      replica, half the connections each, summed — what a round-robin balancer would spread);
#   2. create latency (POST /api/create with an Idempotency-Key, sequential) of a replica with
#      Redis vs one in memory (no ROOMCAST_REDIS_URL), interleaved request by request;
#   3. cross-replica propagation (the latency the e2e tests no longer assert): a create answered
#      by A until B lists the room (`GET /api/rooms?host=`: B's room index, fed by its own chain
#      watcher; issue 20), a `connected` webhook accepted by A until B reads `broadcasting: true`,
#      and an end answered by A until B answers 410 — against A reading its own change (the
#      baseline), per room, p50/p99.
# Usage: scripts/bench-replicas.sh [seconds] [connections] [rooms] [creates]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
ROOMS=${3:-20}
CREATES=${4:-200}
for tool in wrk redis-server curl python3; do
  command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
PROFILE=${PROFILE:-release}
# ROOMCAST_BIN=path skips the build (the test script smoke-runs this against the debug binary).
if [[ -n ${ROOMCAST_BIN:-} ]]; then
  BIN="$ROOMCAST_BIN"
else
  if [ "$PROFILE" = release ]; then cargo build --release -p roomcast-app >&2; else cargo build -p roomcast-app >&2; fi
  BIN="$CARGO_TARGET_DIR/$PROFILE/roomcast"
fi
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() { # $1 = log, $2 = prefix → rest of the line
  for _ in $(seq 1 600); do
    line=$(grep -m1 "^$2" "$1" 2>/dev/null || true)
    if [ -n "$line" ]; then echo "${line#"$2"}" | xargs; return; fi
    sleep 0.1
  done
  echo "bench: no '$2' in $1" >&2; cat "$1" >&2; exit 1
}

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
RUST_LOG=warn "$BIN" localnet --listen 127.0.0.1:0 --faucet-keypair "$TMP/faucet.json" >"$TMP/localnet.log" 2>&1 &
PIDS+=($!)
RPC=$(wait_line "$TMP/localnet.log" "JSON RPC URL: ")
wait_line "$TMP/localnet.log" "Faucet keypair: " >/dev/null
FAUCET=$(python3 - "$TMP/faucet.json" <<'EOF'
import json, sys
b = bytes(json.load(open(sys.argv[1]))[32:])
alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
n = int.from_bytes(b, "big"); s = ""
while n: n, r = divmod(n, 58); s = alphabet[r] + s
print("1" * (len(b) - len(b.lstrip(b"\0"))) + s)
EOF
)
"$BIN" -u "$RPC" -k "$TMP/faucet.json" registry init --registrar "$FAUCET" >/dev/null
ACCOUNT=0123456789abcdef0123456789abcdef
TOKEN=bench-emulator-token
RUST_LOG=warn "$BIN" stream-emulator --listen 127.0.0.1:0 --account-id $ACCOUNT --api-token $TOKEN >"$TMP/emulator.log" 2>&1 &
PIDS+=($!)
API_URL="http://$(wait_line "$TMP/emulator.log" "http://")"
DELIVERY=${API_URL%/client/v4}

KEY=bench-operator-key-0123456789abcdef0123456789
HOOK_SECRET=bench-webhook-secret
. scripts/lib/serve.sh
serve() { # $1 = name, $2 = redis url or "" → sets BASE (no subshell: its pid must reach PIDS)
  serve_start "$BIN" "$TMP/$1.log" ROOMCAST_OPERATOR_KEY=$KEY ROOMCAST_CREATE_RATE_PER_MINUTE=1000000 RUST_LOG=warn \
    ROOMCAST_READ_RATE_PER_MINUTE=1000000000 ROOMCAST_MAX_CONCURRENT_REQUESTS=100000 \
    ROOMCAST_RECONCILE_INTERVAL_SECS=0 CLOUDFLARE_WEBHOOK_SECRET=$HOOK_SECRET SOLANA_RPC_URL="$RPC" ROOMCAST_REGISTRAR_KEYPAIR="$TMP/faucet.json" \
    CLOUDFLARE_ACCOUNT_ID=$ACCOUNT CLOUDFLARE_API_TOKEN=$TOKEN CLOUDFLARE_CUSTOMER_CODE=roomcastemulator \
    CLOUDFLARE_API_URL="$API_URL" CLOUDFLARE_DELIVERY_URL="$DELIVERY" ${2:+ROOMCAST_REDIS_URL=$2}
  PIDS+=("$SERVE_PID")
  BASE=$SERVE_URL
}
REDIS_URL="redis://127.0.0.1:$RPORT/0"
serve a "$REDIS_URL"; A=$BASE
serve b "$REDIS_URL"; B=$BASE
serve memory ""; MEM=$BASE

create() { # $1 = base, $2 = title, $3 = idempotency key → "seconds sessionid"
  curl -s -o "$TMP/create.json" -w '%{time_total}' -X POST "$1/api/create" \
    -H "authorization: Bearer $KEY" -H 'content-type: application/json' -H "idempotency-key: $3" \
    -d "{\"title\":\"$2\",\"host\":\"11111111111111111111111111111112\"}"
  echo " $(sed -E 's/.*"SessionID":"([0-9a-f]{32})".*/\1/' "$TMP/create.json")"
}

# Rooms for the viewers (half broadcasting), created through A.
SESSIONS=""
for i in $(seq 1 "$ROOMS"); do
  sid=$(create "$A" "Bench room $i" "room-$i" | cut -d' ' -f2)
  if (( i % 2 == 0 )); then curl -sf -X POST "$DELIVERY/__emulator/inputs/$sid/connect" >/dev/null; fi
  SESSIONS="$SESSIONS${SESSIONS:+,}$sid"
done
export ROOMCAST_SESSIONS=$SESSIONS

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk -t2 -c"$CONNECTIONS" -d3s -s benches/livestream.lua "$A/api/livestream" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/livestream.lua "$A/api/livestream" >"$TMP/one.txt"
HALF=$(( CONNECTIONS / 2 ))
wrk -t1 -c"$HALF" -d"${DURATION}s" --latency -s benches/livestream.lua "$A/api/livestream" >"$TMP/two-a.txt" &
W1=$!
wrk -t1 -c"$HALF" -d"${DURATION}s" --latency -s benches/livestream.lua "$B/api/livestream" >"$TMP/two-b.txt" &
W2=$!
wait $W1 $W2
ONE=$(rps "$TMP/one.txt")
TWO=$(awk -v a="$(rps "$TMP/two-a.txt")" -v b="$(rps "$TMP/two-b.txt")" 'BEGIN {printf "%.2f", a + b}')

# Create latency, interleaved: Redis replica, in-memory server, Redis replica, ...
: >"$TMP/lat-redis"; : >"$TMP/lat-memory"
for i in $(seq 1 "$CREATES"); do
  create "$A" "Latency $i" "lat-r-$i" | cut -d' ' -f1 >>"$TMP/lat-redis"
  create "$MEM" "Latency $i" "lat-m-$i" | cut -d' ' -f1 >>"$TMP/lat-memory"
done
stats() { sort -n "$1" | awk '{v[NR] = $1 * 1000} END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  i = int(NR * 0.99 + 0.999999); if (i < 1) i = 1
  printf "%.2f %.2f", m, v[i] }'; }
read -r RMED RP99 <<<"$(stats "$TMP/lat-redis")"
read -r MMED MP99 <<<"$(stats "$TMP/lat-memory")"

# Propagation: per room, the event on A, then A (baseline) and B polled until they show it.
python3 benches/propagation.py "$A" "$B" "$DELIVERY" "$KEY" "$HOOK_SECRET" "$ROOMS" >"$TMP/propagation"
read -r _ CA50 CA99 CB50 CB99 < <(grep '^listed ' "$TMP/propagation")
read -r _ LA50 LA99 LB50 LB99 < <(grep '^live ' "$TMP/propagation")
read -r _ EA50 EA99 EB50 EB99 < <(grep '^ended ' "$TMP/propagation")

echo "| setup | viewer requests/s |"
echo "|---|---|"
echo "| one replica (Redis-backed) | $ONE |"
echo "| two replicas (Redis-backed), summed | $TWO |"
echo
echo "- ratio two / one: **$(awk -v a="$TWO" -v b="$ONE" 'BEGIN {printf "%.2f", a / b}')**"
echo
echo "| create (POST /api/create, Idempotency-Key) | median | p99 |"
echo "|---|---|---|"
echo "| in memory | ${MMED} ms | ${MP99} ms |"
echo "| Redis | ${RMED} ms | ${RP99} ms |"
echo
echo "- added by Redis: median **$(awk -v a="$RMED" -v b="$MMED" 'BEGIN {printf "%+.2f", a - b}') ms**, p99 **$(awk -v a="$RP99" -v b="$MP99" 'BEGIN {printf "%+.2f", a - b}') ms**"
echo
echo "| change made on A, until it is read | on A (baseline) median | p99 | on B median | p99 |"
echo "|---|---|---|---|---|"
echo "| create answered → listed (GET /api/rooms?host=) | ${CA50} ms | ${CA99} ms | ${CB50} ms | ${CB99} ms |"
echo "| connected webhook accepted → broadcasting: true | ${LA50} ms | ${LA99} ms | ${LB50} ms | ${LB99} ms |"
echo "| end answered → 410 | ${EA50} ms | ${EA99} ms | ${EB50} ms | ${EB99} ms |"
echo
echo "- B after A, medians: listing a create **$(awk -v a="$CB50" -v b="$CA50" 'BEGIN {printf "%+.2f", a - b}') ms**, broadcast state **$(awk -v a="$LB50" -v b="$LA50" 'BEGIN {printf "%+.2f", a - b}') ms**, end **$(awk -v a="$EB50" -v b="$EA50" 'BEGIN {printf "%+.2f", a - b}') ms** (which replica is read first alternates per room)"
echo "- run: wrk ${DURATION}s, $CONNECTIONS connections, $ROOMS rooms; $CREATES creates per mode, interleaved; $ROOMS rooms for propagation; $(nproc) cores, $PROFILE build"
