#!/usr/bin/env bash
# Refreshes the browser libraries the binary embeds (vendor/<package>/<version>/) from the npm
# registry at pinned versions, with each package's licence, and rewrites vendor/SHA256SUMS.
# `scripts/vendor.sh --check` only verifies the committed files against vendor/SHA256SUMS.
#
# To add a library: append a line to PACKAGES ("npm-name version path-inside-package ..."); every
# listed file is copied next to the package's LICENSE under vendor/<npm-name>/<version>/.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # Plays HLS through Media Source Extensions in the player page (/{uid}/iframe).
  "hls.js 1.7.4 dist/hls.min.js"
)

if [[ ${1:-} == --check ]]; then
  (cd vendor && sha256sum --quiet -c SHA256SUMS)
  echo "vendor: all files match vendor/SHA256SUMS"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for entry in "${PACKAGES[@]}"; do
  read -r name version files <<<"$entry"
  dest="vendor/$name/$version"
  echo "vendor: $name@$version -> $dest"
  tarball=$(cd "$work" && npm pack --silent "$name@$version")
  mkdir -p "$work/$name"
  tar -xzf "$work/$tarball" -C "$work/$name"
  rm -rf "vendor/$name"
  mkdir -p "$dest"
  for f in $files; do
    cp "$work/$name/package/$f" "$dest/"
  done
  licence=$(cd "$work/$name/package" && ls | grep -i -m1 -E '^(LICENSE|LICENCE|COPYING)' || true)
  [[ -n $licence ]] || { echo "vendor: $name@$version ships no LICENSE file" >&2; exit 1; }
  cp "$work/$name/package/$licence" "$dest/LICENSE"
done

(cd vendor && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
echo "vendor: wrote vendor/SHA256SUMS"
