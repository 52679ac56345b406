# Sourced by the benchmark and client-suite scripts: starts `roomcast serve` on a port the kernel
# picks (`--listen 127.0.0.1:0`), reads the address from its banner and waits for /healthz — no
# port is picked, released and bound again (a race with anything else on the machine).
#
#   serve_start EXE LOG [VAR=value ...] [-- serve args ...]
#
# sets SERVE_PID and SERVE_URL (http://127.0.0.1:PORT). The VAR=value words are the server's
# environment on top of the caller's. Extra serve arguments come after `--`; a `--listen` there
# replaces the default.
serve_start() {
  local exe=$1 log=$2; shift 2
  local env_=() args=()
  while (($#)); do
    if [[ $1 == -- ]]; then shift; args=("$@"); break; fi
    env_+=("$1"); shift
  done
  local listen=(--listen 127.0.0.1:0) a
  for a in "${args[@]}"; do [[ $a == --listen || $a == --listen=* ]] && listen=(); done
  : >>"$log"
  local start; start=$(wc -l <"$log")
  env "${env_[@]}" "$exe" serve "${listen[@]}" "${args[@]}" >>"$log" 2>&1 &
  SERVE_PID=$!
  SERVE_URL=""
  local _
  for _ in $(seq 1 1200); do
    if [[ -z $SERVE_URL ]]; then
      SERVE_URL=$(tail -n +"$((start + 1))" "$log" | sed -n 's|.*roomcast API listening on \(http://[^ ]*\).*|\1|p' | head -n1)
    fi
    if [[ -n $SERVE_URL ]] && curl -sf "$SERVE_URL/healthz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "serve did not start (log: $log)" >&2
  tail -n 40 "$log" >&2
  return 1
}
