#!/usr/bin/env bash
# Runs the solana-program-test suite (the program under the Agave bank, native processor).
# Its own workspace (the bank's Agave 3.x crates must not unify with the main workspace's) and its
# own target dir *inside* the main one (`<target>/program-test`, like the IDL build's
# `<target>/idl-build`): one directory to cache, but never the same artifacts — both workspaces
# build the `roomcast` program crate under one name, and sharing a dir let one build's rlib be
# linked by the other. Cold it builds ~700 crates (about 4–7 min on 2 cores); scripts/test.sh runs
# it last.
set -euo pipefail
cd "$(dirname "$0")"
if [[ -n ${PROGRAM_TEST_TARGET_DIR:-} ]]; then
  export CARGO_TARGET_DIR="$PROGRAM_TEST_TARGET_DIR"
else
  root="$(cd ../.. && pwd)"
  target="${CARGO_TARGET_DIR:-$root/target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  export CARGO_TARGET_DIR="$target/program-test"
fi
RUST_LOG="${RUST_LOG:-error}" cargo test --locked
