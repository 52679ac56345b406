#!/usr/bin/env bash
# The independent WebRTC client of the WHIP/WHEP tests: aiortc (not our code) in a venv.
# Usage: tests/whip/setup.sh  → prints the venv's python path. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ROOMCAST_WHIP_VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import aiortc, numpy' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
fi
echo "$venv/bin/python"
