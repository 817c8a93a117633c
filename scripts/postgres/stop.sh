#!/usr/bin/env bash
# Stops the FaceFind PostgreSQL server started by scripts/postgres/start.sh (nothing to do when it is not
# running). --immediate stops it the way a crash would (pg_ctl stop -m immediate: no checkpoint, clients
# cut off), as the reconnect test does; the next start recovers from the WAL.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mode=fast
[ "${1:-}" = "--immediate" ] && mode=immediate
if pg_running; then
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "$mode" -w -t 120 stop >/dev/null
    pg_log "stopped ($mode)"
fi
