#!/usr/bin/env bash
# Installs a Synapse homeserver (matrix-synapse from PyPI) for tests/realservers into its own
# virtual environment, outside the project's (Synapse brings Twisted and many pins of its own). Idempotent: quick when the venv already holds the wanted versions.
#   HERALD_SYNAPSE_VENV   where (default /tmp/herald-synapse); the tests look in the same place
set -euo pipefail
venv="${HERALD_SYNAPSE_VENV:-/tmp/herald-synapse}"
want="matrix-synapse==1.163.2"
stamp="$venv/.herald-installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "install_synapse: up to date ($venv)"
  exit 0
fi
# a half-made venv is removed, so the tests skip instead of failing on it
trap 'rm -rf "$venv"' ERR
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/pip" install -q --disable-pip-version-check $want 2>&1 | { grep -v "^WARNING: Location" || true; }
echo "$want" > "$stamp"
echo "install_synapse: installed $want in $venv"
