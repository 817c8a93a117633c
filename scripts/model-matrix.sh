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
# One evaluate run per detector (all embedders) and per embedder x crop (all normalisations), each saved as it
# finishes, so that an interrupted sweep keeps what it measured.
run() {
    local file="$OUT/$1.json"; shift
    [ -s "$file" ] && { echo "have $file"; return; }
    echo "== $file"
    "$FACEFIND" evaluate "$@" --cache "$OUT/cache" --json > "$file.part"
    mv "$file.part" "$file"
}
for split in scenes lfw-dev; do
    for detector in ${DETECTORS//,/ }; do
        run "$split-detector-$detector" --split "$SHARED/faces/$split-split.json" --detector "$detector" \
            --embedder "$EMBEDDERS"
    done
    for embedder in ${EMBEDDERS//,/ }; do
        for crop in margin align5; do
            run "$split-preprocessing-$embedder-$crop" --split "$SHARED/faces/$split-split.json" \
                --embedder "$embedder" --crop "$crop" --normalization fixed,per-image,unit,none,symmetric
        done
    done
done
python3 - "$OUT" <<'PY'
import json, sys, glob, os
out = sys.argv[1]
print("| split | detector | embedder | crop | normalization | top-1 | top-5 | top-10 | no face | TAR@FAR1e-3 | images/s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    rows = json.load(open(path))
    name = os.path.basename(path)[:-5]
    split = name.split("-detector-")[0].split("-preprocessing-")[0]
    forced = "-preprocessing-" in name
    for r in rows:
        speed = f'{r["imagesPerSecond"]:.1f}' if r.get("imagesPerSecond") else "cached"
        # "own" is the catalog's crop for the embedder (dlib's align5 is its own 150 px chip template);
        # a forced --crop align5 is the ArcFace 112 template scaled to the embedder's input.
        crop = ("align5 (ArcFace template)" if r["crop"] == "align5" else r["crop"]) if forced else f'own: {r["crop"]}'
        if not forced and r["embedder"] == "dlib":
            crop = "own: align5 (dlib chip)"
        tar = (r.get("verification") or {}).get("tarAtFar1e3")
        tar = f"{tar:.3f}" if tar is not None else ""
        print(f'| {split} | {r["detector"]} | {r["embedder"]} | {crop} | {r["normalization"]} | {r["top1"]:.3f} '
              f'| {r["top5"]:.3f} | {r["top10"]:.3f} | {r["facesNotFound"]} | {tar} | {speed} |')
PY
