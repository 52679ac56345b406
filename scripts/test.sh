#!/usr/bin/env bash
# Runs every test: Rust workspace (unit, program, integration, end-to-end through the built binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
