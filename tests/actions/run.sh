#!/usr/bin/env bash
# Usage: tests/actions/run.sh <roomcast-executable>
# Starts `<exe> serve --ephemeral` (API with its embedded local node and Stream emulator) on a port
# the kernel picks, runs the official Actions client library (@solana/actions, pinned in package.json and
# package-lock.json) against the tip Action, and stops the server. Builds nothing itself.
set -euo pipefail

exe=${1:?usage: run.sh <roomcast-executable>}
[[ -x $exe ]] || { echo "run.sh: $exe is not executable" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

key="actions-test-$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')"
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
ROOMCAST_URL="$url" ROOMCAST_OPERATOR_KEY="$key" node --test
