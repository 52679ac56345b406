#!/usr/bin/env bash
# Usage: tests/tokens/run.sh <roomcast-executable>
# Starts `<exe> serve --ephemeral` (API with its embedded local node and Stream emulator) on a port
# the kernel picks, runs the official token clients (@solana/spl-token, @solana/web3.js 1.x, @solana/kit, pinned
# in package.json and package-lock.json) against its local node's SPL Token / Token-2022 programs and
# token RPCs (and the `<exe> token` CLI for one cross-check), and stops the server. Builds nothing.
set -euo pipefail

exe=${1:?usage: run.sh <roomcast-executable>}
[[ -x $exe ]] || { echo "run.sh: $exe is not executable" >&2; exit 2; }
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"   # the tests run the CLI from here
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

key="tokens-test-$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')"
work=$(mktemp -d)
log="$work/serve.log"
SERVE_PID=""
cleanup() { [[ -z $SERVE_PID ]] || kill "$SERVE_PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# shellcheck source=../../scripts/lib/serve.sh
. "$here/../../scripts/lib/serve.sh"
serve_start "$exe" "$log" -- --ephemeral --rtmp-listen 127.0.0.1:0 --srt-listen 127.0.0.1:0 --operator-key "$key"
url=$SERVE_URL

cd "$here"
npm ci --no-audit --no-fund
ROOMCAST_URL="$url" ROOMCAST_OPERATOR_KEY="$key" ROOMCAST_BIN="$exe" node --test
