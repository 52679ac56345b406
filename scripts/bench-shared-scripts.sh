#!/usr/bin/env bash
# What the deployment-wide registrar floor and auth throttle add to a request, measured at Redis
# (not a test): redis-benchmark, one connection, the Lua scripts of app/api/src/store/redis/funds.rs
# and shared/auth_failures.rs against a PING in the same run (a PING is one loopback round trip).
# Usage: scripts/bench-shared-scripts.sh [requests] [reservations held]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
HELD=${2:-300}
for tool in redis-server redis-cli redis-benchmark python3; do
  command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }
done
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
RPID=$!
cleanup() { kill "$RPID" 2>/dev/null || true; wait "$RPID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for _ in $(seq 1 100); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.05; done
script() { python3 - "$1" "$2" <<'PY'
import re, sys
print(re.search(r'const %s: &str = r"(.*?)";' % sys.argv[2], open(sys.argv[1]).read(), re.S).group(1))
PY
}
FUNDS=$(script app/api/src/store/redis/funds.rs RESERVE)
CHECK=$(script app/api/src/store/redis/auth_failures.rs CHECK)
NOW=$(redis-cli -p "$PORT" TIME | head -1)000000
row() { tail -1 | awk -F'","' -v n="$1" '{printf "| %s | %s | %s |\n", n, $3, $5}'; }
bench() { redis-benchmark -p "$PORT" -c 1 -n "$N" --csv "$@"; }
echo "| command | avg ms | p50 ms |"
echo "|---|---|---|"
bench PING | row "PING (one round trip)"
bench EVAL "$CHECK" 1 af 20 | row "auth-failure check (every authenticated request)"
# floor 0: always reserves; the same member each time, so one reservation is held.
bench EVAL "$FUNDS" 2 fb fr 0 3800000 id 90000000 5000 999999999999 "$NOW" | row "registrar reserve, 1 reservation held"
for i in $(seq 1 "$HELD"); do echo "ZADD fr $NOW 3800000:m$i"; done | redis-cli -p "$PORT" >/dev/null
bench EVAL "$FUNDS" 2 fb fr 999999999999999 3800000 id 90000000 5000 999999999999 "$NOW" | row "registrar reserve, $HELD reservations held (refused)"
bench PING | row "PING again"
echo
echo "- $N requests per row, one connection; $(nproc) cores; load average $(cut -d' ' -f1 /proc/loadavg)"
