#!/usr/bin/env bash
# Usage: tests/clients/run.sh <roomcast-executable>
# Starts `<exe> localnet` on a free port, runs the official-client suites against it
# (Node: @solana/web3.js 1.x + @anchor-lang/core + @solana/kit + migrations/deploy.ts; Python:
# solana-py + solders, HTTP and websocket),
# and stops it. Builds nothing itself. Set SKIP_PYTHON=1 or SKIP_NODE=1 to run one suite.
set -euo pipefail

exe=${1:?usage: run.sh <roomcast-executable>}
[[ -x $exe ]] || { echo "run.sh: $exe is not executable" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# A free port whose successor is free too: PubSub listens on the RPC port + 1, as clients derive it.
port=$(python3 - <<'PY'
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
PY
)
work=$(mktemp -d)
log="$work/localnet.log"

"$exe" localnet --listen "127.0.0.1:$port" --faucet-keypair "$work/faucet.json" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if python3 - "$url" <<'PY' 2>/dev/null
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=b'{"jsonrpc":"2.0","id":1,"method":"getHealth"}',
                             headers={"content-type": "application/json"})
sys.exit(0 if json.load(urllib.request.urlopen(req, timeout=1)).get("result") == "ok" else 1)
PY
  then ready=1; break; fi
  kill -0 "$pid" 2>/dev/null || { echo "run.sh: localnet exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
[[ ${ready:-} ]] || { echo "run.sh: localnet did not become ready" >&2; cat "$log" >&2; exit 1; }
export ROOMCAST_RPC_URL="$url"
export ROOMCAST_WS_URL="ws://127.0.0.1:$((port + 1))"

if [[ -z ${SKIP_NODE:-} ]]; then
  echo "== Node: @solana/web3.js + @anchor-lang/core ($url)"
  (cd "$here/node" && npm ci --no-audit --no-fund && node --test)
fi

if [[ -z ${SKIP_PYTHON:-} ]]; then
  echo "== Python: solana-py + solders ($url)"
  cd "$here/python"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  .venv/bin/python -m unittest -v test_localnet test_pubsub
fi
