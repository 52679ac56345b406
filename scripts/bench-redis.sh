#!/usr/bin/env bash
# Redis sizing benchmark (not a test), issue 24. One standalone local node, one Stream emulator,
# two redis-servers (plain TCP, and TLS with a client certificate); in the same run:
#   1. what one replica costs Redis: commands and bytes (in + out) per create, per viewer request
#      (GET /api/livestream) and per open page (GET /watch/{room} + its Server-Sent Events stream
#      for a few seconds) — each phase against an idle window of the same length (the baseline:
#      the subscriber's keepalive, the stats read itself), from INFO stats/commandstats;
#   2. what one Redis primary sustains on this machine (redis-benchmark, 50 connections): the
#      commands a create sends — SET NX EX (replay), EVALSHA of a claim-shaped script, GET —
#      plain TCP and TLS side by side, and the creates per second that allows;
#   3. create latency of a replica on the TLS Redis against one on the plain Redis, interleaved
#      request by request (the TLS overhead as the API sees it).
# Usage: scripts/bench-redis.sh [creates] [viewer requests] [page seconds] [benchmark requests]
set -euo pipefail
cd "$(dirname "$0")/.."
CREATES=${1:-100}
VIEWS=${2:-1000}
PAGE_SECS=${3:-5}
BENCH_N=${4:-100000}
for tool in redis-server redis-cli redis-benchmark openssl curl python3; do
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

# Certificates: a CA, the server's (127.0.0.1), a client's.
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
( cd "$TMP"
  openssl req -x509 "${EC[@]}" -keyout ca.key -out ca.crt -days 2 -subj /CN=bench-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  for leaf in server client; do
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n' >$leaf.ext
    openssl req "${EC[@]}" -keyout $leaf.key -out $leaf.csr -subj /CN=$leaf 2>/dev/null
    openssl x509 -req -in $leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $leaf.crt -days 2 -extfile $leaf.ext 2>/dev/null
  done )
RPORT=$(free_port)
TPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
redis-server --port 0 --tls-port "$TPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
  --tls-cert-file "$TMP/server.crt" --tls-key-file "$TMP/server.key" --tls-ca-cert-file "$TMP/ca.crt" \
  --tls-auth-clients yes >"$TMP/redis-tls.log" 2>&1 &
PIDS+=($!)
TLS=(--tls --cacert "$TMP/ca.crt" --cert "$TMP/client.crt" --key "$TMP/client.key")
rcli() { redis-cli -p "$RPORT" "$@"; }
for _ in $(seq 1 100); do rcli PING >/dev/null 2>&1 && break; sleep 0.05; done
for _ in $(seq 1 100); do redis-cli -p "$TPORT" "${TLS[@]}" PING >/dev/null 2>&1 && break; sleep 0.05; done

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
. scripts/lib/serve.sh
serve() { # $1 = name, $2.. = extra env → sets BASE
  local name=$1; shift
  serve_start "$BIN" "$TMP/$name.log" ROOMCAST_OPERATOR_KEY=$KEY ROOMCAST_CREATE_RATE_PER_MINUTE=1000000 ROOMCAST_CREATE_BUDGET_PER_MINUTE=1000000 RUST_LOG=warn \
    ROOMCAST_READ_RATE_PER_MINUTE=1000000000 ROOMCAST_MAX_CONCURRENT_REQUESTS=100000 \
    ROOMCAST_RECONCILE_INTERVAL_SECS=0 CLOUDFLARE_WEBHOOK_SECRET=bench-webhook-secret SOLANA_RPC_URL="$RPC" ROOMCAST_REGISTRAR_KEYPAIR="$TMP/faucet.json" \
    CLOUDFLARE_ACCOUNT_ID=$ACCOUNT CLOUDFLARE_API_TOKEN=$TOKEN CLOUDFLARE_CUSTOMER_CODE=roomcastemulator \
    CLOUDFLARE_API_URL="$API_URL" CLOUDFLARE_DELIVERY_URL="$DELIVERY" "$@"
  PIDS+=("$SERVE_PID")
  BASE=$SERVE_URL
}
serve plain ROOMCAST_REDIS_URL="redis://127.0.0.1:$RPORT/0"; A=$BASE
serve tls ROOMCAST_REDIS_URL="rediss://127.0.0.1:$TPORT/0" ROOMCAST_REDIS_CA_FILE="$TMP/ca.crt" \
  ROOMCAST_REDIS_CLIENT_CERT="$TMP/client.crt" ROOMCAST_REDIS_CLIENT_KEY="$TMP/client.key"; T=$BASE

N=0
create() { # $1 = base → "seconds sessionid room"
  N=$((N + 1))
  curl -s -o "$TMP/create.json" -w '%{time_total}' -X POST "$1/api/create" \
    -H "authorization: Bearer $KEY" -H 'content-type: application/json' -H "idempotency-key: bench-$N" \
    -d "{\"title\":\"Bench $N\",\"host\":\"11111111111111111111111111111112\"}"
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("", j["SessionID"], j["room"])' "$TMP/create.json"
}
create "$A" >/dev/null # warm-up

# Counters of the plain Redis since the last reset: commands, bytes in, bytes out.
counters() { rcli INFO stats | tr -d '\r' | awk -F: '/^total_commands_processed:/{c=$2} /^total_net_input_bytes:/{i=$2} /^total_net_output_bytes:/{o=$2} END{print c, i, o}'; }
# phase NAME COUNT CMD...: runs CMD with the stats reset, then an idle window as long (the
# baseline), and prints commands / bytes in / bytes out per unit above the baseline.
phase() {
  local name=$1 count=$2; shift 2
  rcli CONFIG RESETSTAT >/dev/null
  local t0; t0=$(date +%s.%N)
  "$@"
  local t1; t1=$(date +%s.%N)
  read -r c i o <<<"$(counters)"
  rcli INFO commandstats | tr -d '\r' | grep '^cmdstat_' >"$TMP/cmds-$name"
  rcli CONFIG RESETSTAT >/dev/null
  sleep "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')"
  read -r bc bi bo <<<"$(counters)"
  awk -v n="$count" -v c="$c" -v bc="$bc" 'BEGIN { printf "%.2f", (c - bc) / n }' >"$TMP/per-$name"
  awk -v n="$count" -v c="$c" -v i="$i" -v o="$o" -v bc="$bc" -v bi="$bi" -v bo="$bo" -v name="$name" \
    'BEGIN { printf "| %s | %.1f | %.0f | %.0f | (idle window: %d commands) |\n", name, (c-bc)/n, (i-bi)/n, (o-bo)/n, bc }'
}
creates() { for _ in $(seq 1 "$CREATES"); do create "$A" >/dev/null; done; }
read -r _ SID ROOM <<<"$(create "$A")"
views() { for _ in $(seq 1 "$VIEWS"); do curl -s -o /dev/null "$A/api/livestream?sessionId=$SID"; done; }
page() {
  curl -s -o /dev/null "$A/watch/$ROOM"
  curl -s -N -m "$PAGE_SECS" -o /dev/null "$A/api/rooms/$ROOM/events" || true
}

echo "## Redis per operation (plain TCP; ${CREATES} creates, ${VIEWS} viewer requests, one page open ${PAGE_SECS} s)"
echo
echo "| per | Redis commands (Lua-inner included) | bytes in | bytes out | |"
echo "|---|---|---|---|---|"
phase create "$CREATES" creates
phase "viewer request" "$VIEWS" views
phase "open page" 1 page
echo
echo "Commands of the create phase per create, those inside Lua scripts included (INFO commandstats):"
awk -F'[=,:]' -v n="$CREATES" '$1 !~ /cmdstat_(info|config)/ {printf "  %s %.2f\n", substr($1, 9), $3 / n}' "$TMP/cmds-create" | sort

# What one primary sustains: a create's commands, plain and TLS, 50 connections.
CLAIM='local c = redis.call("GET", KEYS[1]) if c then return 0 end redis.call("SET", KEYS[1], ARGV[1], "PX", 86400000) redis.call("SET", KEYS[1] .. ":l", ARGV[1], "PX", 10000) return 1'
SHA=$(rcli SCRIPT LOAD "$CLAIM")
redis-cli -p "$TPORT" "${TLS[@]}" SCRIPT LOAD "$CLAIM" >/dev/null
rb() { # $1 = label, rest = redis-benchmark connection args → "label setnx evalsha get" ops/s
  local label=$1; shift
  local s e g
  s=$(redis-benchmark "$@" -c 50 -n "$BENCH_N" -r 1000000 --csv SET "r:__rand_int__" 1 NX EX 600 | tail -1 | cut -d, -f2 | tr -d '"')
  e=$(redis-benchmark "$@" -c 50 -n "$BENCH_N" -r 1000000 --csv EVALSHA "$SHA" 1 "i:__rand_int__" fp | tail -1 | cut -d, -f2 | tr -d '"')
  g=$(redis-benchmark "$@" -c 50 -n "$BENCH_N" -r 1000000 --csv GET "i:__rand_int__" | tail -1 | cut -d, -f2 | tr -d '"')
  echo "$label $s $e $g"
}
read -r _ PS PE PG <<<"$(rb plain -p "$RPORT")"
read -r _ TS TE TG <<<"$(rb tls -p "$TPORT" "${TLS[@]}")"
PER_CREATE=$(cat "$TMP/per-create")
echo
echo "## One Redis primary (redis-benchmark, 50 connections, ${BENCH_N} requests each)"
echo
echo "| ops/s | SET NX EX | EVALSHA (claim-shaped) | GET | TLS / plain (EVALSHA) |"
echo "|---|---|---|---|---|"
echo "| plain TCP | $PS | $PE | $PG | |"
awk -v s="$TS" -v e="$TE" -v g="$TG" -v pe="$PE" 'BEGIN { printf "| TLS (client certificate) | %s | %s | %s | %.2f |\n", s, e, g, e / pe }'
USEC=$(awk -F'[=,:]' -v n="$CREATES" '$1 !~ /cmdstat_(info|config)/ { s += $5 } END { printf "%.1f", s / n }' "$TMP/cmds-create")
awk -v per="$PER_CREATE" -v pe="$PE" -v te="$TE" -v usec="$USEC" 'BEGIN {
  printf "\ncreates/s one primary sustains: at most %.0f (Redis CPU %.1f us per create in INFO commandstats, one core, I/O excluded);\n", 1e6 / usec, usec
  printf "at least plain %.0f, TLS %.0f (the EVALSHA rate above / %.1f commands per create, every command counted as a script call)\n", pe / per, te / per, per }'

# Create latency: TLS replica vs plain replica, interleaved.
: >"$TMP/lat-plain"; : >"$TMP/lat-tls"
for _ in $(seq 1 "$CREATES"); do
  create "$A" | cut -d' ' -f1 >>"$TMP/lat-plain"
  create "$T" | cut -d' ' -f1 >>"$TMP/lat-tls"
done
stats() { sort -n "$1" | awk '{ a[NR] = $1 } END { p = int(NR * 0.99 + 0.5); if (p < 1) p = 1; printf "%.2f %.2f", a[int((NR + 1) / 2)] * 1000, a[p] * 1000 }'; }
read -r PM P99 <<<"$(stats "$TMP/lat-plain")"
read -r TM T99 <<<"$(stats "$TMP/lat-tls")"
echo
echo "## Create latency, interleaved (${CREATES} each)"
echo
echo "| replica on | median | p99 |"
echo "|---|---|---|"
echo "| plain TCP Redis (baseline) | ${PM} ms | ${P99} ms |"
echo "| TLS Redis (client certificate) | ${TM} ms | ${T99} ms |"
awk -v a="$TM" -v b="$PM" 'BEGIN { printf "\nTLS / plain, median: %.2f\n", a / b }'
