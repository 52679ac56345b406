#!/usr/bin/env bash
# Usage: tests/sdk/run.sh <emulator-executable>
# Starts `<exe> stream-emulator` on a free port, runs the SDK tests against
# it, and stops it. Builds nothing itself.
set -euo pipefail

exe=${1:?usage: run.sh <emulator-executable>}
[[ -x $exe ]] || { echo "run.sh: $exe is not executable" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
account=0123456789abcdef0123456789abcdef
token="sdk-test-$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')"
log=$(mktemp)

"$exe" stream-emulator --listen "127.0.0.1:$port" --rtmp-listen 127.0.0.1:0 --srt-listen 127.0.0.1:0 --account-id "$account" --api-token "$token" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$port/__emulator/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    ready=1; break
  fi
  kill -0 "$pid" 2>/dev/null || { echo "run.sh: emulator exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
[[ ${ready:-} ]] || { echo "run.sh: emulator did not become ready" >&2; cat "$log" >&2; exit 1; }

# The ingest URL live inputs carry: the local RTMP listener (ffmpeg present) or Cloudflare's.
ingest=$(node -e "fetch('http://127.0.0.1:$port/__emulator/health').then(r=>r.json()).then(h=>console.log(h.videoIngest.rtmpUrl||'rtmps://live.cloudflare.com:443/live/'))")
# Its SRT listener, from the banner line `Video ingest (SRT): srt://ADDR?…` (Cloudflare's without video).
srt=$(sed -n 's/^Video ingest (SRT): \(srt:\/\/[^?]*\)?.*/\1/p' "$log" | head -1)
srt=${srt:-srt://live.cloudflare.com:778}

cd "$here"
npm ci --no-audit --no-fund
ROOMCAST_EMULATOR_URL="http://127.0.0.1:$port/client/v4" \
ROOMCAST_EMULATOR_ACCOUNT="$account" \
ROOMCAST_EMULATOR_TOKEN="$token" \
ROOMCAST_EMULATOR_INGEST="$ingest" \
ROOMCAST_EMULATOR_SRT="$srt" \
  node --test
