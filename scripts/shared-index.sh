#!/usr/bin/env bash
# Indexing lfw-dev (3,687 photos) into PostgreSQL by one process, then by three `--workers-shared` processes of
# which one is killed with -9 midway and started again; prints both times and checks that every photo is stored
# exactly once, with the same faces as the single run.
#
#   scripts/shared-index.sh [POSTGRES_URL]     (default: the test instance, started if needed)
set -euo pipefail
source "$(dirname "$0")/postgres/measure-env.sh"
single="shared_single_$$" shared="shared_three_$$"
cleanup() {
    for schema in "$single" "$shared"; do
        "$PG_BIN/psql" -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT
folder=$faces/lfw-dev

start=$(date +%s%N)
"$binary" index "$folder" --store "$url?schema=$single" --models "$models" > /dev/null
one=$(( ($(date +%s%N) - start) / 1000000 ))

start=$(date +%s%N)
pids=()
for i in 1 2 3; do
    "$binary" index "$folder" --store "$url?schema=$shared" --workers-shared --lease 10 --threads 1 \
        --models "$models" > /dev/null 2>&1 &
    pids+=($!)
done
sleep 15
kill -9 "${pids[1]}"
echo "killed worker ${pids[1]} after 15 s: $("$binary" status --store "$url?schema=$shared" | sed -n 2p)"
"$binary" index "$folder" --store "$url?schema=$shared" --workers-shared --lease 10 --threads 1 \
    --models "$models" > /dev/null 2>&1 &
restarted=$!
wait "${pids[0]}" "${pids[2]}" "$restarted"
three=$(( ($(date +%s%N) - start) / 1000000 ))

"$binary" status --store "$url?schema=$shared"
counts() { "$PG_BIN/psql" -At "$url" -c "SELECT count(*), count(DISTINCT path), (SELECT count(*) FROM $1.faces) FROM $1.images"; }
echo "one process:  $((one / 1000)).$(( one % 1000 / 100 )) s; images, distinct paths, faces: $(counts "$single")"
echo "three shared: $((three / 1000)).$(( three % 1000 / 100 )) s (one killed with -9 and restarted); images, distinct paths, faces: $(counts "$shared")"
