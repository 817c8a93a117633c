#!/usr/bin/env bash
# Builds an int8 model of the catalog from its float parent, with ONNX Runtime's own quantization tool.
#
#   scripts/int8/quantize.sh NAME-int8 OUTPUT.onnx [--method minmax|entropy|percentile]
#
# (the contract of `facefind models install NAME-int8 --from-source`, which calls it with the file to write and
# then checks the catalog's sha256).
# 1. a Python venv in $FACEFIND_INT8_WORK (default /tmp/facefind-int8/venv) with requirements.txt (pinned);
# 2. the calibration inputs: the 256 photos of calibration.txt (under $FACEFIND_FACES, default ../shared/faces
#    beside the checkout) through `facefind embed --network-inputs` with the parent's defaults, so that every
#    face is cropped and normalised exactly as FaceFind feeds the network ($FACEFIND_BIN, default the
#    checkout's .build/release/facefind);
# 3. quantize.py: static QDQ, per-channel int8 weights, uint8 activations, MinMax calibration unless --method.
# The parent must be installed (`facefind models install NAME`). Prints "SHA256 OUTPUT ..." on success.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 NAME-int8 OUTPUT.onnx [--method minmax|entropy|percentile]" >&2; exit 2; }
NAME=$1; OUTPUT=$2; shift 2
PARENT=${NAME%-int8}
[ "$PARENT" != "$NAME" ] || { echo "$NAME: not an int8 model name (NAME-int8)" >&2; exit 2; }
MODELS=${FACEFIND_MODELS:-${FACEFIND_HOME:-$HOME/.facefind}/models}
FACES=${FACEFIND_FACES:-$ROOT/../shared/faces}
BIN=${FACEFIND_BIN:-$ROOT/.build/release/facefind}
WORK=${FACEFIND_INT8_WORK:-/tmp/facefind-int8}
PYTHON=${PYTHON:-python3}

# The parent's file, and the operator types kept in float where quantizing them costs accuracy
# (docs/ModelMatrix.md, "Int8 models").
# Detectors are calibrated on their whole input (each photo at FaceFind's default detection size), embedders on
# each face's crop.
TASK=embedder
case "$PARENT" in
    facenet512) FLOAT=facenet512_casia_20180408.onnx; EXCLUDE="" ;;
    mobilefacenet) FLOAT=mobilefacenet_128.onnx; EXCLUDE="" ;;
    dlib) FLOAT=dlib_resnet_v1.onnx; EXCLUDE="Mul,Add" ;;
    scrfd-500m) FLOAT=scrfd_500m_bnkps.onnx; EXCLUDE=""; TASK=detector ;;
    scrfd-2.5g) FLOAT=scrfd_2.5g_kps_640.onnx; EXCLUDE=""; TASK=detector ;;
    *) echo "$NAME: no int8 recipe (known: facenet512-int8, mobilefacenet-int8, dlib-int8, scrfd-500m-int8," \
            "scrfd-2.5g-int8)" >&2; exit 2 ;;
esac
log() { echo "[int8] $*" >&2; }
[ -f "$MODELS/$FLOAT" ] || { log "the float model $MODELS/$FLOAT is missing: facefind models install $PARENT"; exit 1; }
[ -x "$BIN" ] || { log "no facefind binary at $BIN (build it, or set FACEFIND_BIN)"; exit 1; }
[ -d "$FACES/lfw-dev" ] || { log "no calibration photos under $FACES (set FACEFIND_FACES)"; exit 1; }

VENV=$WORK/venv
PYTHON=$PYTHON "$HERE/../venv-ensure.sh" "$VENV" "$HERE/requirements.txt"

tmp=$(mktemp -d "$WORK/$NAME.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
grep -v '^#' "$HERE/calibration.txt" | sed "s|^|$FACES/|" >"$tmp/photos.txt"
mapfile -t photos <"$tmp/photos.txt"
if [ "$TASK" = detector ]; then
    # The calibrator keeps every activation of every input until it computes the ranges: 3.8 GB at the peak for
    # SCRFD-2.5G's 640 x 640 input (its CalibMaxIntermediateOutputs, meant to bound that, drops the data instead
    # in onnxruntime 1.32).
    log "calibration inputs: ${#photos[@]} photos through facefind embed --detector $PARENT"
    "$BIN" embed --detector "$PARENT" --embedder mobilefacenet --precision fp32 --min-side 448 --models "$MODELS" \
        --detector-inputs "$tmp/inputs.npy" "${photos[@]}" >/dev/null
else
    log "calibration inputs: ${#photos[@]} photos through facefind embed --embedder $PARENT"
    # At 448 px, the detection size the calibration recipe was fixed at (and the pinned sha256s were built with),
    # whatever the embedder's default detection size is now.
    "$BIN" embed --embedder "$PARENT" --min-side 448 --models "$MODELS" --network-inputs "$tmp/inputs.npy" "${photos[@]}" >/dev/null
fi
"$VENV/bin/python" "$HERE/quantize.py" "$MODELS/$FLOAT" "$tmp/inputs.npy" "$OUTPUT" --exclude "$EXCLUDE" "$@"
