#!/usr/bin/env bash
# Runs every test: the Rust workspace (program on LiteSVM, local node RPC conformance, chain client,
# Stream client/emulator, API, IDL freshness, OpenAPI sync, end-to-end through the built binary), then
# the official-client suites against the binary (Cloudflare's TypeScript SDK vs the emulator;
# @solana/web3.js, @anchor-lang/core and solana-py vs the local node).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

# tests/replicas.rs runs a real redis-server (and redis-cli) next to two API replicas.
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update
    $sudo_ apt-get install -y --no-install-recommends redis-server
fi

cargo test --workspace --locked --no-fail-fast
cargo build -p roomcast-app --locked
bin="$target/debug/roomcast"
tests/sdk/run.sh "$bin"
tests/clients/run.sh "$bin"
