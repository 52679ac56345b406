#!/usr/bin/env bash
# Runs the solana-program-test suite (the program under the Agave bank, native processor).
# Its own workspace (the bank's Agave 3.x crates must not unify with the main workspace's), but the
# same target dir as the main workspace (crates both use are built once). Cold it builds ~700
# crates (about 7 min on 2 cores); scripts/test.sh runs it after the main workspace.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
target="${PROGRAM_TEST_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
export CARGO_TARGET_DIR="$target"
RUST_LOG="${RUST_LOG:-error}" cargo test --locked
