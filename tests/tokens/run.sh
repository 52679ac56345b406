#!/usr/bin/env bash
# Usage: tests/tokens/run.sh <roomcast-executable>
# Starts `<exe> serve --ephemeral` (API with its embedded local node and Stream emulator) on a free
# port, runs the official token clients (@solana/spl-token, @solana/web3.js 1.x, @solana/kit, pinned
# in package.json and package-lock.json) against its local node's SPL Token / Token-2022 programs and
# token RPCs (and the `<exe> token` CLI for one cross-check), and stops the server. Builds nothing.
set -euo pipefail

exe=${1:?usage: run.sh <roomcast-executable>}
[[ -x $exe ]] || { echo "run.sh: $exe is not executable" >&2; exit 2; }
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"   # the tests run the CLI from here
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
key="tokens-test-$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')"
work=$(mktemp -d)
log="$work/serve.log"

"$exe" serve --ephemeral --listen "127.0.0.1:$port" --rtmp-listen 127.0.0.1:0 --srt-listen 127.0.0.1:0 \
  --operator-key "$key" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
  if node -e "fetch('$url/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    ready=1; break
  fi
  kill -0 "$pid" 2>/dev/null || { echo "run.sh: serve exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
[[ ${ready:-} ]] || { echo "run.sh: serve did not become ready" >&2; cat "$log" >&2; exit 1; }

cd "$here"
npm ci --no-audit --no-fund
ROOMCAST_URL="$url" ROOMCAST_OPERATOR_KEY="$key" ROOMCAST_BIN="$exe" node --test
