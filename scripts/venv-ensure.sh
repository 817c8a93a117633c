#!/usr/bin/env bash
# Makes VENV a Python virtual environment with exactly REQUIREMENTS installed, rebuilding it when the
# requirements file changes (its sha256 is stamped inside); silent when it is up to date. Shared by the
# converters (scripts/dlib/install.sh, scripts/int8/quantize.sh). The interpreter is $PYTHON (default python3).
#   scripts/venv-ensure.sh VENV REQUIREMENTS
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 VENV REQUIREMENTS" >&2; exit 2; }
venv=$1 requirements=$2
stamp=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.facefind-requirements" 2>/dev/null)" != "$stamp" ]; then
    echo "[venv] creating the Python venv $venv" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$requirements"
    echo "$stamp" >"$venv/.facefind-requirements"
fi
