#!/usr/bin/env bash
# Checks FaceFind's CUDA path on a machine with an NVIDIA GPU (docs/Scale.md, "GPU"), and writes what it measured
# into OUTDIR: whether the sessions really ran on CUDA, CUDA's embeddings against the CPU's on the same photos,
# accuracy on the lfw-dev split and pairs (to set beside the CPU figures in docs/ModelMatrix.md), and `bench` on
# both providers and both precisions.
#
#   FACEFIND_ORT_LIBRARY=/path/libonnxruntime.so.1.31.1 scripts/gpu/check.sh OUTDIR
#
# FACEFIND_ORT_LIBRARY: the onnxruntime-gpu wheel's library (its libonnxruntime_providers_{shared,cuda}.so beside
# it); the CUDA 13 and cuDNN 9 libraries on LD_LIBRARY_PATH. FACEFIND_BIN (default .build/release/facefind),
# FACES (default ../shared/faces) and FACEFIND_MODELS as everywhere else. Exit status: that of the last failing
# step, 0 when all ran.
set -uo pipefail
out=${1:?usage: check.sh OUTDIR}
FF=${FACEFIND_BIN:-.build/release/facefind}
FACES=${FACES:-../shared/faces}
: "${FACEFIND_ORT_LIBRARY:?the onnxruntime-gpu library}"
mkdir -p "$out"
status=0
step() { # step NAME COMMAND...: runs COMMAND, its stdout to OUTDIR/NAME, stderr to OUTDIR/NAME.err
    local name=$1; shift
    local start=$SECONDS
    "$@" >"$out/$name" 2>"$out/$name.err"
    local rc=$?
    echo "[gpu-check] $name: exit $rc in $((SECONDS - start)) s" >&2
    [ $rc -eq 0 ] || status=$rc
}

nvidia-smi -L >&2 || true
"$FF" --version >&2

# The same 300 photos through both providers: boxes and vectors must agree (the detector's float arithmetic on
# the GPU differs in the last bits, so a threshold, not equality).
find "$FACES/lfw-dev" -name '*.jpg' | sort | head -300 >"$out/photos.txt"
for provider in cpu cuda; do
    for precision in fp32 int8; do
        step "embed-$provider-$precision.ndjson" "$FF" embed --provider "$provider" --precision "$precision" \
            $(cat "$out/photos.txt")
    done
done

# Both providers must find the same faces (boxes within 1 px) and give nearly the same vectors (cosine at least
# 0.99 for every face; measured on an H200: 0.9960 at worst in float32, 0.9946 in int8).
compare() {
    python3 - "$out" <<'PY'
import json, math, sys
out, ok = sys.argv[1], True
def faces(name):
    found = {}
    for line in open(f"{out}/{name}"):
        r = json.loads(line)
        if "embedding" in r:
            found[(r["path"], r["face"])] = (r["embedding"], [r["box"][k] for k in ("x", "y", "width", "height")])
    return found
for precision in ("fp32", "int8"):
    cpu, cuda = faces(f"embed-cpu-{precision}.ndjson"), faces(f"embed-cuda-{precision}.ndjson")
    if set(cpu) != set(cuda):
        print(f"{precision}: the providers found different faces ({len(cpu)} on the CPU, {len(cuda)} on CUDA)"); ok = False; continue
    def cosine(a, b): return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    cosines = [cosine(cpu[k][0], cuda[k][0]) for k in cpu]
    box = max(abs(a - b) for k in cpu for a, b in zip(cpu[k][1], cuda[k][1]))
    print(f"{precision}: {len(cpu)} faces, cosine mean {sum(cosines) / len(cosines):.5f}, worst {min(cosines):.4f}, boxes within {box:.2f} px")
    ok = ok and min(cosines) >= 0.99 and box <= 1
sys.exit(0 if ok else 1)
PY
}
step compare.txt compare

# Speed: both providers, both precisions, the whole lfw-dev.
for provider in cuda cpu; do
    for precision in fp32 int8; do
        step "bench-$provider-$precision.json" "$FF" bench --folder "$FACES/lfw-dev" --provider "$provider" \
            --precision "$precision" --json
    done
done
# Accuracy with CUDA, each with its own cache (the cache key does not hold the provider).
for embedder in facenet512 mobilefacenet; do
    step "split-cuda-$embedder.json" "$FF" evaluate --split "$FACES/lfw-dev-split.json" --embedder "$embedder" \
        --precision fp32,int8 --provider cuda --cache "$out/cache-cuda" --json
    step "pairs-cuda-$embedder.json" "$FF" evaluate --pairs "$FACES/lfw-dev-pairs.txt" --images "$FACES/lfw-dev" \
        --embedder "$embedder" --precision fp32,int8 --provider cuda --cache "$out/cache-cuda" --json
done
rm -rf "$out/cache-cuda"

exit $status
