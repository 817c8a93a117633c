#!/usr/bin/env bash
# Load test of `facefind serve` on loopback with wrk (Debian package `wrk`):
#   1. steady: 50 concurrent clients search for 30 s against the whole lfw-dev gallery (default queue):
#      every request must succeed; prints p50/p99 latency, requests/s and the server's RSS over time;
#   2. burst: 100 clients for 10 s against a server with a small queue (8): beyond it the answer must be a
#      prompt 503 (with Retry-After), never a time-out or a dropped connection.
# Usage: scripts/load-test.sh [--clients N] [--seconds S] [--db INDEX] [--query PHOTO]
# The gallery index is built once from ../shared/faces/lfw-dev (a few minutes) when --db does not exist.
# FACEFIND_BIN overrides the binary (default .build/release/facefind).
# Traffic goes to 127.0.0.1 only; every loop is bounded in count and time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FACEFIND_BIN:-$ROOT/.build/release/facefind}
CLIENTS=50
SECONDS_STEADY=30
BURST_CLIENTS=100
SECONDS_BURST=10
BURST_QUEUE=8
DB=${FACEFIND_LOAD_DB:-/tmp/facefind-load/lfw.sqlite}
QUERY="$ROOT/../shared/faces/lfw-dev/Tiger_Woods/Tiger_Woods_0001.jpg"
while (($#)); do
    case "$1" in
        --clients) CLIENTS=$2; shift 2 ;;
        --seconds) SECONDS_STEADY=$2; shift 2 ;;
        --db) DB=$2; shift 2 ;;
        --query) QUERY=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN: run scripts/setup.sh first" >&2; exit 1; }

WORK=$(mktemp -d /tmp/facefind-load-XXXXXX)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -f "$DB" ]; then
    mkdir -p "$(dirname "$DB")"
    echo "# indexing lfw-dev into $DB (once)" >&2
    "$BIN" index "$ROOT/../shared/faces/lfw-dev" --db "$DB" >&2
fi

# wrk script: POST the photo as the raw body; count answers by status across threads.
cat >"$WORK/search.lua" <<'LUA'
local f = assert(io.open(os.getenv("FACEFIND_QUERY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do counts[status] = (counts[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format("%d:%d", status, n)) end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.1f rps=%.1f p50_ms=%.0f p90_ms=%.0f p99_ms=%.0f max_ms=%.0f statuses=%s connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, table.concat(parts, ","), e.connect, e.read, e.write, e.timeout))
end
LUA

rss_mb() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# Starts the server with extra options, waits for its banner (at most 120 s), sets SERVER_PID and PORT.
start_server() {
    : >"$WORK/server.out"
    "$BIN" serve --db "$DB" --port 0 --api-key load-test "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 1 1200); do
        PORT=$(grep -o '127.0.0.1:[0-9]*' "$WORK/server.out" | head -1 | cut -d: -f2 || true)
        [ -n "$PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$PORT" ] || { echo "server did not start" >&2; exit 1; }
}

stop_server() {
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

# Samples the server's RSS once a second for $1 seconds into $2.
sample_rss() {
    for _ in $(seq 1 "$1"); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        rss_mb "$SERVER_PID" >>"$2"; echo >>"$2"
        sleep 1
    done
}

export FACEFIND_QUERY="$QUERY"
echo "## Load test: $(nproc) cores, $(date -u +%Y-%m-%d), query $(basename "$QUERY")"
start_server
IMAGES=$(curl -s "http://127.0.0.1:$PORT/v1/health" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["images"], "images,", d["faces"], "faces")')
echo "gallery: $DB ($IMAGES)"
# Warm-up: first inferences allocate ONNX Runtime's buffers; RSS is measured after it.
for _ in $(seq 1 20); do
    curl -s -o /dev/null -H 'Content-Type: image/jpeg' --data-binary @"$QUERY" "http://127.0.0.1:$PORT/v1/search"
done
RSS_BEFORE=$(rss_mb "$SERVER_PID")
sample_rss $((SECONDS_STEADY + 2)) "$WORK/rss.txt" &
SAMPLER=$!
wrk -t2 -c"$CLIENTS" -d"${SECONDS_STEADY}s" --timeout 60s -s "$WORK/search.lua" "http://127.0.0.1:$PORT/v1/search" \
    >"$WORK/steady.txt"
wait "$SAMPLER" || true
RSS_AFTER=$(rss_mb "$SERVER_PID")
STEADY=$(grep '^RESULT' "$WORK/steady.txt")
echo "steady: $CLIENTS clients, ${SECONDS_STEADY} s, default queue"
echo "  ${STEADY#RESULT }"
echo "  server RSS MB: before $RSS_BEFORE, after $RSS_AFTER; during (1 s samples): $(grep -v '^$' "$WORK/rss.txt" | tr '\n' ' ')"
stop_server

start_server --queue "$BURST_QUEUE"
for _ in $(seq 1 5); do
    curl -s -o /dev/null -H 'Content-Type: image/jpeg' --data-binary @"$QUERY" "http://127.0.0.1:$PORT/v1/search"
done
BURST_RSS_BEFORE=$(rss_mb "$SERVER_PID")
wrk -t2 -c"$BURST_CLIENTS" -d"${SECONDS_BURST}s" --timeout 30s -s "$WORK/search.lua" "http://127.0.0.1:$PORT/v1/search" \
    >"$WORK/burst.txt"
BURST=$(grep '^RESULT' "$WORK/burst.txt")
echo "burst: $BURST_CLIENTS clients, ${SECONDS_BURST} s, queue $BURST_QUEUE"
echo "  ${BURST#RESULT }"
echo "  server RSS MB: before $BURST_RSS_BEFORE, after $(rss_mb "$SERVER_PID")"
stop_server

# Verdicts: steady must have only 200s; burst only 200s and 503s; no transport errors or time-outs in either.
fail=0
echo "$STEADY" | grep -Eq 'statuses=200:[0-9]+ ' || { echo "FAIL: steady run had answers other than 200"; fail=1; }
echo "$BURST" | grep -Eq 'statuses=200:[0-9]+,503:[0-9]+ ' || { echo "FAIL: burst run was not just 200s and 503s"; fail=1; }
for run in "$STEADY" "$BURST"; do
    echo "$run" | grep -q 'connect_errors=0 read_errors=0 write_errors=0 timeouts=0' \
        || { echo "FAIL: transport errors or time-outs: $run"; fail=1; }
done
[ "$fail" = 0 ] && echo "PASS: no failed request under steady load; the burst got 503s, no time-outs"
exit "$fail"
