#!/usr/bin/env bash
# What a playback grant of a token-gated room costs (not a test): against one `roomcast serve`
# (embedded local node + Stream emulator), a holder wallet's signed POST /api/rooms/{room}/playback
# (gate read, holdings read, token signed) next to a public GET /api/rooms/{room} in the same run
# (ratio), the chain RPC calls per grant from the server's /metrics, and grants/s when N viewers
# renew at once. Tokens are made with `roomcast token` (the CLI), requests signed by Node's ed25519.
# Usage: scripts/bench-grant.sh [grants] [concurrent viewers, comma-separated]
set -euo pipefail
cd "$(dirname "$0")/.."
GRANTS=${1:-200}
VIEWERS=${2:-1,10,50}
for tool in node python3 curl; do command -v $tool >/dev/null || { echo "bench: needs $tool" >&2; exit 1; }; done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"
# ROOMCAST_BIN=path skips the build (the test script smoke-runs this against the debug binary).
if [[ -z ${ROOMCAST_BIN:-} ]]; then
  cargo build --release -p roomcast-app >&2
  ROOMCAST_BIN="$CARGO_TARGET_DIR/release/roomcast"
fi
BIN="$ROOMCAST_BIN"
TMP=$(mktemp -d)
KEY=bench-operator-key-0123456789abcdef
SERVE_PID=""
trap '[[ -z $SERVE_PID ]] || kill $SERVE_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
. scripts/lib/serve.sh
serve_start "$BIN" "$TMP/serve.log" ROOMCAST_OPERATOR_KEY=$KEY RUST_LOG=warn ROOMCAST_PLAYBACK_GRANTS_PER_MINUTE=1000000000 \
  ROOMCAST_READ_RATE_PER_MINUTE=1000000000 ROOMCAST_MAX_CONCURRENT_REQUESTS=100000 \
  -- --rtmp-listen 127.0.0.1:0 --srt-listen 127.0.0.1:0 --ephemeral
URL=$SERVE_URL
RPC=$(awk '/^Solana RPC/ {print $NF}' "$TMP/serve.log")
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

"$BIN" keygen -o "$TMP/issuer.json" >/dev/null
"$BIN" keygen -o "$TMP/viewer.json" >/dev/null
"$BIN" -u "$RPC" -k "$TMP/issuer.json" airdrop 5 >/dev/null
MINT=$("$BIN" -u "$RPC" -k "$TMP/issuer.json" --json token create-mint --decimals 6 | json "['mint']")
VIEWER=$(python3 - "$TMP/viewer.json" <<'PY'
import json, sys
A='123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
b=bytes(json.load(open(sys.argv[1]))[32:]); n=int.from_bytes(b,'big'); s=''
while n: n,r=divmod(n,58); s=A[r]+s
print('1'*(len(b)-len(b.lstrip(b'\0')))+s)
PY
)
"$BIN" -u "$RPC" -k "$TMP/issuer.json" token mint "$MINT" 5000000 --to "$VIEWER" >/dev/null
ROOM=$(curl -sf -X POST "$URL/api/create" -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d "{\"title\":\"Bench gated room\",\"host\":\"11111111111111111111111111111112\",\"gate\":{\"mint\":\"$MINT\",\"minAmount\":1000000}}" | json "['room']")
AUDIENCE=$(curl -sf "$URL/api/info" | json "['authAudience']")
SECRET=$(python3 -c "import json,sys; print(bytes(json.load(open(sys.argv[1]))).hex())" "$TMP/viewer.json")
node benches/grant.mjs "$URL" "$ROOM" "$AUDIENCE" "$SECRET" "$GRANTS" "$VIEWERS"
echo
echo "- $GRANTS sequential requests per row; $(nproc) cores; load average $(cut -d' ' -f1 /proc/loadavg); embedded local node and emulator"
