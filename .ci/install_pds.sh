#!/usr/bin/env bash
# Installs the reference Bluesky PDS and a PLC directory for tests/realservers (npm ci from the
# committed package-lock.json). Idempotent: quick when node_modules already matches the lock.
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/realservers/pds"
cd "$dir"
if ! command -v npm >/dev/null 2>&1; then
  echo "install_pds: npm is not installed" >&2
  exit 1
fi
stamp=node_modules/.herald-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  echo "install_pds: up to date"
  exit 0
fi
# better-sqlite3 is built from source (node-gyp; no prebuilt download from here)
# a half-installed tree is removed, so the tests skip instead of failing on it
trap 'rm -rf node_modules' ERR
npm ci --no-audit --no-fund --loglevel=error
trap - ERR
echo "$want" > "$stamp"
echo "install_pds: installed in $dir/node_modules"
