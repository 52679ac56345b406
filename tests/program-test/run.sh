#!/usr/bin/env bash
# Runs the solana-program-test suite (the program under the Agave bank, native processor).
# Its own workspace and target dir: cold it builds ~700 crates (about 15 min on a busy 2-core
# machine, several GB of target), so scripts/test.sh does not run it; run it by hand or in a
# separate CI job:  tests/program-test/run.sh
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${PROGRAM_TEST_TARGET_DIR:-${CARGO_TARGET_DIR:-target}-program-test}"
RUST_LOG="${RUST_LOG:-error}" cargo test --locked
