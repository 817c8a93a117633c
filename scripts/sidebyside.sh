#!/usr/bin/env bash
# FaceFind beside the Python baseline (../shared/reference/pyref.py) on lfw-dev, interleaved, ROUNDS times (2):
# pyref at float32, pyref given FaceFind's int8 FaceNet file, `facefind bench` at its defaults, and `facefind
# bench --min-side 448`. Run it on a quiet machine: both sides use both cores. The numbers in README's "Speed"
# come from it.
#
#   scripts/sidebyside.sh [ROUNDS]      (after scripts/setup.sh; makes pyref's venv with its own setup.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=$ROOT/../shared/reference
MODELS=${FACEFIND_MODELS:-${FACEFIND_HOME:-$HOME/.facefind}/models}
VENV=${PYREF_VENV:-/tmp/pyref-venv}
BIN=$ROOT/.build/release/facefind
[ -x "$VENV/bin/python" ] || "$REF/setup.sh" "$VENV" >&2
INT8=$MODELS/int8/facenet512_casia_20180408.int8.onnx
[ -f "$INT8" ] || { echo "no $INT8: facefind models install facenet512-int8 --from-source" >&2; exit 1; }
# pyref reads its models by file name from one folder: YuNet from ../shared/models, the int8 file under FaceNet's name.
PYMODELS=$(mktemp -d); trap 'rm -rf "$PYMODELS"' EXIT
ln -s "$(cd "$REF/../models" && pwd)/face_detection_yunet_2023mar.onnx" "$PYMODELS/"
ln -s "$INT8" "$PYMODELS/facenet512_casia_20180408.onnx"
pyref() { (cd "$REF" && "$VENV/bin/python" pyref.py ../faces/lfw-dev-split.json --threads 2 "$@") | grep -o '"images_per_s": [0-9.]*'; }
bench() { "$BIN" bench "$@" 2>&1 | grep -E "^FaceFind bench|index end|efficiency|RSS while"; }
for round in $(seq 1 "${1:-2}"); do
    echo "## round $round $(date +%T)"
    echo "pyref fp32: $(pyref)"
    echo "pyref int8: $(pyref --models "$PYMODELS")"
    echo "facefind (defaults):"; bench
    echo "facefind --min-side 448:"; bench --min-side 448
done
