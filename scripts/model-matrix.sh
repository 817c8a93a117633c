#!/usr/bin/env bash
# Evaluates every installed detector x embedder (each embedder with its own crop and normalisation), and every
# embedder x crop x normalisation (with the default detector), on lfw-dev and scenes; writes the JSON of each
# sweep and a Markdown table with images/s per row (docs/ModelMatrix.md is made from its output).
#
#   scripts/model-matrix.sh [OUT_DIR]        (default /tmp/facefind-matrix; a few hours on 2 cores)
#
# A fresh embedding cache under OUT_DIR makes every row embed its photos, so that each has its own images/s.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/facefind-matrix}
mkdir -p "$OUT"
FACEFIND=${FACEFIND:-.build/release/facefind}
SHARED=${SHARED:-../shared}
DETECTORS=$("$FACEFIND" models list --json | python3 -c '
import json, sys
print(",".join(m["name"] for m in json.load(sys.stdin) if m["task"] == "detector" and m["installed"]))')
EMBEDDERS=$("$FACEFIND" models list --json | python3 -c '
import json, sys
print(",".join(m["name"] for m in json.load(sys.stdin) if m["task"] == "embedder" and m["installed"]))')
echo "detectors: $DETECTORS"
echo "embedders: $EMBEDDERS"
for split in scenes lfw-dev; do
    for sweep in detectors preprocessing; do
        file="$OUT/$split-$sweep.json"
        [ -s "$file" ] && { echo "have $file"; continue; }
        if [ "$sweep" = detectors ]; then
            args=(--detector "$DETECTORS" --embedder "$EMBEDDERS")
        else
            args=(--embedder "$EMBEDDERS" --crop margin,align5 --normalization fixed,per-image,unit,none,symmetric)
        fi
        echo "== $split $sweep"
        "$FACEFIND" evaluate --split "$SHARED/faces/$split-split.json" "${args[@]}" --cache "$OUT/cache" --json \
            > "$file.part"
        mv "$file.part" "$file"
    done
done
python3 - "$OUT" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    rows = json.load(open(path))
    name = os.path.basename(path)[:-5]
    print(f"\n### {name}\n")
    print("| detector | embedder | crop | normalization | top-1 | top-5 | top-10 | no face | images/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        speed = f'{r["imagesPerSecond"]:.1f}' if r.get("imagesPerSecond") else "cached"
        print(f'| {r["detector"]} | {r["embedder"]} | {r["crop"]} | {r["normalization"]} | {r["top1"]:.3f} '
              f'| {r["top5"]:.3f} | {r["top10"]:.3f} | {r["facesNotFound"]} | {speed} |')
PY
