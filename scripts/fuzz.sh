#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for a set time (docs/Fuzzing.md).
#
#   scripts/fuzz.sh [--seconds N] [--target NAME]... [--work DIR]
#   scripts/fuzz.sh --replay NAME FILE_OR_FOLDER...     # replay inputs through an ordinary (non-fuzzer) build
#
# Each target runs for N seconds (default 20), one after the other, in one process on one core (nice'd), with
# -rss_limit_mb=2048 and a 30 s per-input timeout (FuzzImageDecoder: 1 GB, 64 MB per allocation, 10 s), on a corpus seeded from Fuzz/Corpus/<NAME>, the reproducers in
# Fuzz/Regressions/<NAME> and a few files from ../shared (copied into the work folder at run time, never into the
# repository). Prints executions and coverage per target; exits 1 if any target crashed, leaked, ran out of
# memory or hung, with the path of the crash file. The work folder (corpus, crash files, logs) is a temporary one
# removed after a clean run, unless --work names one (then kept, and reused as the corpus next time).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${FACEFIND_SHARED:-$ROOT/../shared}
ALL_TARGETS=(FuzzImageDecoder FuzzEXIF FuzzMultipart FuzzSplit FuzzPairs FuzzONNX FuzzModelInstall FuzzVideo FuzzVectorFile)
APT_PACKAGES=(libturbojpeg0-dev libpng-dev libwebp-dev libheif-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libsqlite3-dev pkg-config unzip)
SCRATCH="$ROOT/.build-fuzz"

log() { echo "[fuzz] $*" >&2; }
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

seconds=20
targets=()
work=
replay=
while (($#)); do
    case "$1" in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --target) targets+=("${2:?--target needs a name}"); shift 2 ;;
        --work) work=${2:?--work needs a folder}; shift 2 ;;
        --replay) replay=${2:?--replay needs a target name}; shift 2; break ;;
        -h|--help) usage 0 ;;
        *) log "unknown argument $1"; usage 2 ;;
    esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] && ((seconds > 0)) || { log "--seconds must be a positive whole number"; exit 2; }
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}" ${replay:+"$replay"}; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { log "unknown target $t (known: ${ALL_TARGETS[*]})"; exit 2; }
done

# 1. What the build needs: the codec and SQLite headers FaceFind links, and unzip (model packs).
"$ROOT/scripts/apt-ensure.sh" "${APT_PACKAGES[@]}"

cd "$ROOT"
if [ -n "$replay" ]; then
    # Ordinary build (no sanitizer, no libFuzzer): @main replays the files through LLVMFuzzerTestOneInput's body.
    log "building the replay build of $replay"
    nice -n 10 swift build --package-path Fuzz --scratch-path "$SCRATCH/replay" --product "$replay" \
        -Xswiftc -DFUZZ_REPLAY -Xswiftc -parse-as-library >&2
    exec "$SCRATCH/replay/debug/$replay" "$@"
fi

# 2. libFuzzer's runtime ships with the Swift toolchain (compiler-rt, beside its clang resource folder).
swiftc_path=$(readlink -f "$(command -v swiftc)")
toolchain_lib=$(dirname "$(dirname "$swiftc_path")")/lib
if ! compgen -G "$toolchain_lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null \
   && ! compgen -G "$toolchain_lib/swift/clang/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
    log "the Swift toolchain at $(dirname "$toolchain_lib") has no libFuzzer runtime (libclang_rt.fuzzer-x86_64.a);"
    log "install an official swift.org toolchain for Linux, which includes it"
    exit 1
fi

# 3. Build: -sanitize=fuzzer,address on every module (FaceFind and its dependencies included), debug config.
log "building fuzz targets (${targets[*]})"
build_log=$(mktemp)
if ! nice -n 10 swift build --package-path Fuzz --scratch-path "$SCRATCH/fuzzer" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >"$build_log" 2>&1; then
    grep -v "Cannot export local symbol" "$build_log" >&2; rm -f "$build_log"; log "build failed"; exit 1
fi
rm -f "$build_log"
bin="$SCRATCH/fuzzer/debug"

keep_work=1
if [ -z "$work" ]; then work=$(mktemp -d "${TMPDIR:-/tmp}/facefind-fuzz.XXXXXX"); keep_work=0; fi
mkdir -p "$work"
work=$(cd "$work" && pwd)

# Seeds from ../shared, copied at run time (licence: never committed). A handful per target, small ones.
shared_seeds() {
    local t=$1 dir=$2
    local faces="$SHARED/faces" models="$SHARED/models"
    case "$t" in
        FuzzImageDecoder|FuzzEXIF)
            [ -d "$faces/lfw-dev" ] || return 0
            find "$faces/lfw-dev" -name '*.jpg' | sort | awk 'NR % 700 == 1 && ++n <= 6' | while read -r f; do
                cp "$f" "$dir/shared-$(basename "$f")"; done ;;
        FuzzSplit)
            [ -f "$faces/scenes-split.json" ] && cp "$faces/scenes-split.json" "$dir/shared-scenes-split.json" ;;
        FuzzPairs)
            # The first fold of the real file, as a one-fold file (the whole file exceeds -max_len).
            [ -f "$faces/lfw-dev-pairs.txt" ] && awk 'NR == 1 { print "1", $2; n = 2 * $2; next } NR <= n + 1' \
                "$faces/lfw-dev-pairs.txt" > "$dir/shared-lfw-dev-pairs-fold1.txt" ;;
        FuzzONNX|FuzzModelInstall)
            [ -f "$models/mtcnn/pnet.onnx" ] && cp "$models/mtcnn/pnet.onnx" "$dir/shared-pnet.onnx" ;;
    esac
    return 0
}

ort_library=${FACEFIND_ORT_LIBRARY:-${FACEFIND_HOME:-$HOME/.facefind}/lib/libonnxruntime.so.1.32.0}
export LSAN_OPTIONS="suppressions=$ROOT/Fuzz/lsan-suppressions.txt:print_suppressions=0"
export FUZZ_SCRATCH="$work/scratch"
mkdir -p "$FUZZ_SCRATCH"

failed=0
summary=()
for t in "${targets[@]}"; do
    if [ "$t" = FuzzONNX ] && [ ! -f "$ort_library" ]; then
        log "$t: skipped, no ONNX Runtime library at $ort_library (scripts/setup.sh installs it)"
        summary+=("$(printf '%-18s %8s %10s %8s %6s %6s %10s  %s' "$t" - - - - - - "skipped (no ONNX Runtime)")")
        continue
    fi
    corpus="$work/corpus/$t" seeds="$work/seeds/$t" artifacts="$work/artifacts/$t"
    mkdir -p "$corpus" "$seeds" "$artifacts"
    cp "Fuzz/Corpus/$t/"* "$seeds/" 2>/dev/null || true
    [ -d "Fuzz/Regressions/$t" ] && cp "Fuzz/Regressions/$t/"* "$seeds/" 2>/dev/null || true
    shared_seeds "$t" "$seeds"
    case "$t" in
        FuzzImageDecoder|FuzzEXIF|FuzzONNX|FuzzModelInstall|FuzzVideo|FuzzVectorFile) max_len=65536 ;;
        *) max_len=16384 ;;
    esac
    # Limits below what the target's inputs may legitimately cost, so that a bound bypassed by a lying header
    # shows as a crash rather than as a slow run: FuzzImageDecoder decodes at 1 MP (a few MB a decode, under
    # 1 s with ASan), so one allocation over 64 MB or an input over 10 s is a limit not enforced. (At 2 GB and
    # 30 s, a HEIC whose `ispe` says 1000x1000 over a 16000x16000 stream, 1.5 GB and 10 s, got through.)
    rss_mb=2048 malloc_mb=2048 timeout_s=30
    case "$t" in
        FuzzImageDecoder) rss_mb=1024 malloc_mb=64 timeout_s=10 ;;
        # FuzzVideo decodes at most 1 MP frames (the decoder's max_pixels too), 10 s and 300 frames per input.
        FuzzVideo) rss_mb=1024 malloc_mb=128 timeout_s=10 ;;
        # FuzzVectorFile: a file of at most 64 KB may make the reader allocate about its own size (sections are
        # read into memory only once the file's size matches its header), and a repair rebuilds a 40-face file.
        FuzzVectorFile) rss_mb=1024 malloc_mb=64 timeout_s=10 ;;
    esac
    run_log="$work/$t.log"
    log "$t: ${seconds}s, corpus $corpus"
    status=0
    started=$SECONDS
    # New units go to $corpus (the first folder); the seed folder is read only. One process, one core.
    (cd "$artifacts" && nice -n 10 "$bin/$t" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb="$rss_mb" \
        -malloc_limit_mb="$malloc_mb" -timeout="$timeout_s" -max_len="$max_len" -artifact_prefix="$artifacts/" \
        "$corpus" "$seeds") >"$run_log" 2>&1 || status=$?
    elapsed=$((SECONDS - started))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run_log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run_log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$run_log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
    if ((status == 0)) && grep -q '^Done [0-9]* runs' "$run_log"; then
        result=ok
    else
        failed=1
        crash=$(sed -n "s/.*Test unit written to \(.*\)/\1/p" "$run_log" | tail -1)
        result="FAILED (exit $status)${crash:+: $crash}"
        log "$t failed; log: $run_log"
        grep -E 'ERROR: |SUMMARY: |Fatal error|deadly signal|out-of-memory|timeout' "$run_log" | head -8 >&2 || true
        [ -n "$crash" ] && log "reproduce: scripts/fuzz.sh --replay $t $crash"
    fi
    summary+=("$(printf '%-18s %8s %10s %8s %6s %6s %10s  %s' "$t" "${elapsed}s" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")")
done

echo
printf '%-18s %8s %10s %8s %6s %6s %10s  %s\n' target time execs exec/s cov ft corpus result
printf '%s\n' "${summary[@]}"
rm -rf "$FUZZ_SCRATCH"
if ((failed)); then
    echo "work folder kept (corpus, crash files, logs): $work"
    exit 1
fi
if ((keep_work)); then echo "work folder: $work"; else rm -rf "$work"; fi
