#!/usr/bin/env bash
# Starts the FaceFind PostgreSQL server (installed by scripts/postgres/install.sh) and prints its URL:
#   postgres://facefind:facefind@127.0.0.1:54329/facefind
# Idempotent: initialises the cluster on first use, starts the server unless it runs, creates the database
# and the `vector` extension unless they exist. As root, the server runs as the unprivileged user
# $FACEFIND_PG_USER (created here with useradd), since PostgreSQL refuses to run as root.
#   --status   print nothing, exit 0 when the server runs and 1 otherwise
# Extra server settings for this start: FACEFIND_PG_OPTIONS="-c shared_buffers=4GB -c ...".
set -euo pipefail
source "$(dirname "$0")/env.sh"

if [ "${1:-}" = "--status" ]; then
    pg_running && exit 0 || exit 1
fi
[ -x "$PG_BIN/postgres" ] || { pg_log "PostgreSQL is not installed in $FACEFIND_PG_INSTALL: run scripts/postgres/install.sh"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    if ! id "$FACEFIND_PG_USER" >/dev/null 2>&1; then
        pg_log "creating the system user $FACEFIND_PG_USER to run the server"
        useradd --system --user-group --no-create-home --home-dir "$FACEFIND_PG_STATE" \
            --shell /usr/sbin/nologin "$FACEFIND_PG_USER"
    fi
    mkdir -p "$FACEFIND_PG_STATE"
    chown "$FACEFIND_PG_USER:" "$FACEFIND_PG_STATE"
else
    mkdir -p "$FACEFIND_PG_STATE"
fi
chmod 700 "$FACEFIND_PG_STATE"
as_pg_user mkdir -p "$PG_SOCKET_DIR"

if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    pg_log "initialising a cluster in $PG_DATA"
    pwfile=$FACEFIND_PG_STATE/.pwfile
    as_pg_user sh -c "umask 077; printf '%s\n' '$FACEFIND_PG_PASSWORD' > '$pwfile'"
    # Local socket: trust (these scripts); TCP: password (SCRAM), as FaceFind connects.
    as_pg_user "$PG_BIN/initdb" -D "$PG_DATA" -U "$FACEFIND_PG_ROLE" --pwfile="$pwfile" -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >"$FACEFIND_PG_STATE/initdb.log" 2>&1 ||
        { cat "$FACEFIND_PG_STATE/initdb.log" >&2; rm -f "$pwfile"; exit 1; }
    rm -f "$pwfile"
    as_pg_user sh -c "cat >> '$PG_DATA/postgresql.conf'" <<CONF

# FaceFind (scripts/postgres/start.sh)
listen_addresses = '127.0.0.1'
max_connections = 50
shared_buffers = 256MB
max_wal_size = 4GB
max_parallel_maintenance_workers = 1
CONF
fi

if ! pg_running; then
    pg_log "starting PostgreSQL on 127.0.0.1:$FACEFIND_PG_PORT (log: $PG_LOG)"
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 120 \
        -o "-p $FACEFIND_PG_PORT -k $PG_SOCKET_DIR ${FACEFIND_PG_OPTIONS:-}" start >/dev/null ||
        { tail -n 20 "$PG_LOG" >&2; exit 1; }
fi

psql_local() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$FACEFIND_PG_PORT" -U "$FACEFIND_PG_ROLE" "$@"; }
if [ -z "$(psql_local -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$FACEFIND_PG_DATABASE'")" ]; then
    psql_local -d postgres -c "CREATE DATABASE \"$FACEFIND_PG_DATABASE\""
fi
psql_local -d "$FACEFIND_PG_DATABASE" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector"
pg_url
