#!/usr/bin/env bash
# Flake check (run before every stop; not part of the test script): runs the timing-sensitive
# tests N times while two busy loops keep both cores loaded, and reports each test's pass count.
# A test that fails here under load would sooner or later fail a CI run. `--no-fail-fast`: one
# failing test binary must not hide the later binaries of its suite.
# Usage: scripts/flake-check.sh [runs]      (default 3; exit 1 if any test failed in any run)
#        FLAKE_ONLY='replicas|chain_watch' scripts/flake-check.sh 3    (only the matching suites)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/roomcast-target}"

# (cargo test arguments, test-name filter) of every test whose outcome could depend on timing:
# leases, TTLs, keepalives, propagation between replicas, encoders being dropped, kill -9 bursts,
# webhooks delivered after the answer (the emulator's default), browser pages waiting for state,
# the create limits' windows (replicas::create_limits_count_every_replicas_creates), the fault
# campaign and its faults' premises (api::abuse), readyz's window (api::hardening), the
# idempotency store's leases (roomcast-api's idempotency_store), the chain thread held
# (roomcast-localnet's limits), the emulator's latency / Retry-After lower bounds
# (roomcast-stream's client_emulator) and its asynchronous webhooks (emulator_http).
SUITES=(
  "-p roomcast-app --test e2e|replicas::"
  "-p roomcast-app --test e2e|redis_ops::"
  "-p roomcast-app --test e2e|chain_watch::"
  "-p roomcast-app --test e2e|video::"
  "-p roomcast-app --test e2e|web::"
  "-p roomcast-app --test e2e|web_gate::"
  "-p roomcast-app --test e2e|web_tips::"
  "-p roomcast-app --test e2e|web_webrtc::"
  "-p roomcast-app --test e2e|api_gate::"
  "-p roomcast-app --test e2e|gate_server::"
  "-p roomcast-app --test e2e|api_failures::"
  "-p roomcast-app --test e2e|api_rooms::"
  "-p roomcast-app --test e2e|api::"
  "-p roomcast-api|"
  "-p roomcast-app --test e2e|readme_claims::"
  "-p roomcast-stream|"
  "-p roomcast-localnet --test limits|"
  "-p roomcast-localnet --test pubsub|"
)

# FLAKE_ONLY=regex keeps only the suites whose "args|filter" matches (e.g. after a change to a few).
if [[ -n ${FLAKE_ONLY:-} ]]; then
  kept=()
  for suite in "${SUITES[@]}"; do [[ $suite =~ $FLAKE_ONLY ]] && kept+=("$suite"); done
  SUITES=("${kept[@]}")
fi

cargo build -p roomcast-app >/dev/null
for suite in "${SUITES[@]}"; do
  cargo test ${suite%%|*} --no-run >/dev/null 2>&1
done

busy() { while :; do :; done; }
busy & B1=$!
busy & B2=$!
trap 'kill $B1 $B2 2>/dev/null || true' EXIT

# The whole output of every suite run with a failure is kept here, to read why.
LOGS=${FLAKE_LOGS:-$(mktemp -d /tmp/flake-check.XXXX)}
mkdir -p "$LOGS"
declare -A passed failed
for run in $(seq 1 "$RUNS"); do
  for suite in "${SUITES[@]}"; do
    args=${suite%%|*}
    filter=${suite#*|}
    log=$(mktemp)
    # shellcheck disable=SC2086
    status=0
    cargo test --no-fail-fast $args -- $filter >"$log" 2>&1 || status=$?
    # A suite that fails without a failing test (a build error, a crash) counts as one failure.
    if [[ $status -ne 0 ]] && ! grep -qE '^test .+ \.\.\. FAILED$' "$log"; then
      failed["suite $args $filter"]=$(( ${failed["suite $args $filter"]:-0} + 1 ))
      echo "run $run: suite FAILED without a failing test ($args $filter):"; tail -20 "$log"
    fi
    # Outcome first: doc-test names ("src/lib.rs - (line 8)") contain spaces.
    while read -r outcome name; do
      if [[ $outcome == ok ]]; then
        passed[$name]=$(( ${passed[$name]:-0} + 1 ))
      else
        failed[$name]=$(( ${failed[$name]:-0} + 1 ))
        echo "run $run: FAILED $name ($args)"
      fi
    done < <(sed -nE 's/^test (.+) \.\.\. (ok|FAILED)$/\2 \1/p' "$log")
    if [[ $status -ne 0 ]]; then
      kept="$LOGS/run$run-$(echo "$args $filter" | tr -c 'A-Za-z0-9_-' '_').log"
      mv "$log" "$kept"
      grep -E "panicked at|^  left:|^ right:" "$kept" | head -12 | sed 's/^/    /' || true
      echo "    whole output: $kept"
    else
      rm -f "$log"
    fi
  done
done

echo
echo "| test | passed | failed |"
echo "|---|---|---|"
bad=0
while IFS= read -r name; do
  echo "| $name | ${passed[$name]:-0} | ${failed[$name]:-0} |"
  [[ ${failed[$name]:-0} -eq 0 ]] || bad=1
done < <(printf '%s\n' "${!passed[@]}" "${!failed[@]}" | sort -u)
echo
echo "$RUNS loaded runs (two busy loops on $(nproc) cores)."
exit $bad
