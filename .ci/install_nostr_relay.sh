#!/usr/bin/env bash
# Installs the `nostr-relay` package from PyPI into its own virtual environment for
# tests/realservers/test_nostr_relay.py (a real Nostr relay, SQLite storage, run on loopback).
# Idempotent: quick when the pinned version is already there.
set -euo pipefail
version="1.14"
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/realservers/nostr/venv"
if [ -x "$dir/bin/nostr-relay" ] && "$dir/bin/python" -m pip show nostr-relay 2>/dev/null | grep -qx "Version: $version"; then
  echo "install_nostr_relay: up to date"
  exit 0
fi
# a half-installed environment is removed, so the tests skip instead of failing on it
trap 'rm -rf "$dir"' ERR
python3 -m venv "$dir"
"$dir/bin/python" -m pip install -q --disable-pip-version-check "nostr-relay==$version"
trap - ERR
echo "install_nostr_relay: nostr-relay $version installed in $dir"
