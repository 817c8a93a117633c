#!/usr/bin/env bash
# The same search from `facefind serve` over SQLite and over PostgreSQL + pgvector: the lfw-dev split's gallery
# (3,161 photos) indexed into both stores, then every query photo (526) sent to both servers; prints how many
# queries get the same top-1 (and the same top-10 list), and the top-1 accuracy of each.
#
#   scripts/serve-parity.sh [POSTGRES_URL]     (default: the test instance, started if needed)
#
# Needs the release build (scripts/setup.sh) and scripts/postgres/install.sh.
set -euo pipefail
source "$(dirname "$0")/postgres/measure-env.sh"
work=$(mktemp -d /tmp/facefind-serve-parity.XXXXXX)
schema="parity_$$"
pg="$url?schema=$schema"
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    "$PG_BIN/psql" -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
    rm -rf "$work"
}
pids=()
trap cleanup EXIT

python3 - "$faces" "$work" <<'EOF'
import json, os, shutil, sys
faces, work = sys.argv[1], sys.argv[2]
split = json.load(open(os.path.join(faces, "lfw-dev-split.json")))
for entry in split["gallery"]:
    target = os.path.join(work, "gallery", entry["path"])
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(os.path.join(faces, entry["path"]), target)
with open(os.path.join(work, "queries.tsv"), "w") as out:
    for entry in split["query"]:
        out.write(f'{os.path.join(faces, entry["path"])}\t{entry["id"]}\n')
EOF

"$binary" index "$work/gallery" --db "$work/gallery.sqlite" --models "$models"
"$binary" index "$work/gallery" --store "$pg" --models "$models"

start() {  # store arguments...; prints the port
    local log=$work/serve-$#-$RANDOM.log
    "$binary" serve "$@" --port 0 --api-key parity --models "$models" --uploads "$work/uploads" > "$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 600); do
        if grep -qo '127\.0\.0\.1:[0-9]*/' "$log"; then grep -o '127\.0\.0\.1:[0-9]*/' "$log" | head -1 | cut -d: -f2 | tr -d /; return; fi
        sleep 0.1
    done
    cat "$log" >&2
    exit 1
}
sqlite_port=$(start --db "$work/gallery.sqlite")
postgres_port=$(start --store "$pg")

python3 - "$work/queries.tsv" "$sqlite_port" "$postgres_port" <<'EOF'
import json, sys, urllib.request
queries, ports = sys.argv[1], sys.argv[2:]
def search(port, photo):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/search?k=10", data=open(photo, "rb").read(),
                                     headers={"Content-Type": "image/jpeg"})
    return json.load(urllib.request.urlopen(request, timeout=120))["results"]
same_top1 = same_top10 = 0
correct = [0, 0]
lines = [line.rstrip("\n").split("\t") for line in open(queries)]
for photo, person in lines:
    answers = [search(port, photo) for port in ports]
    paths = [[r["path"] for r in a] for a in answers]
    same_top1 += paths[0][:1] == paths[1][:1]
    same_top10 += paths[0] == paths[1]
    for i, a in enumerate(answers):
        correct[i] += bool(a) and a[0]["label"] == person
n = len(lines)
print(f"queries {n}: same top-1 {same_top1}/{n}, same top-10 list {same_top10}/{n}")
print(f"top-1 over SQLite {correct[0] / n:.4f}, over PostgreSQL {correct[1] / n:.4f}")
EOF
