#!/usr/bin/env bash
# usage: scripts/facenet/python.sh convert|check [PYTHON ARGS...]
# Runs Python in the pinned environment (made once, see env.sh): `convert` has TensorFlow, tf2onnx and
# onnx; `check` has onnxruntime, numpy and Pillow. E.g.
#   scripts/facenet/python.sh check scripts/facenet/compare.py candidate.onnx reference.onnx
set -euo pipefail
source "$(dirname "$0")/env.sh"
case "${1:-}" in
    convert|check) ;;
    *) echo "usage: $0 convert|check [PYTHON ARGS...]" >&2; exit 2 ;;
esac
venv=$(facenet_venv "$1")
shift
"$venv/bin/python" "$@"
