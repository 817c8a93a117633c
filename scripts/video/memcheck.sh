#!/usr/bin/env bash
# Runs FaceFind's video reader under valgrind's memcheck over a corpus of real encoder output at awkward sizes
# (issue 25: swscale wrote 8 bytes past a packed RGB buffer at widths 202, 248, 250, 252, 330, 360, 426, 1000,
# 1080; AddressSanitizer does not see writes made inside FFmpeg's uninstrumented code, nor glibc's abort).
#
#   scripts/video/memcheck.sh [--keep DIR]
#
# The corpus (made here by ffmpeg, in a temporary folder, about 90 clips of 1 s at 2 fps): every width from 200
# to 260 at height 250 (H.264, 4:2:0 at even widths, 4:4:4 at odd ones); portrait 1080x1920; 4:2:2 (H.264 High 4:2:2); 10-bit (H.265 and VP9
# profile 2); and the awkward sizes in each codec the local ffmpeg encodes: H.264, H.265, VP9, AV1 (libaom,
# else SVT-AV1), MPEG-4 Part 2. The reader is the FuzzVideo replay build (scripts/fuzz.sh --replay FuzzVideo):
# open, decode every frame, convert the sampled ones to RGB and grey thumbnails, seek. Exits 1 on any memcheck
# error (invalid read or write, use of uninitialised memory in a jump), naming it; leaks are not checked.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${FACEFIND_SHARED:-$ROOT/../shared}
log() { echo "[memcheck] $*" >&2; }

keep=
while (($#)); do
    case "$1" in
        --keep) keep=${2:?--keep needs a folder}; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) log "unknown argument $1"; exit 2 ;;
    esac
done

"$ROOT/scripts/apt-ensure.sh" valgrind ffmpeg binutils

if [ -n "$keep" ]; then clips=$keep; mkdir -p "$clips"; else clips=$(mktemp -d "${TMPDIR:-/tmp}/facefind-memcheck.XXXXXX"); fi
trap '[ -n "$keep" ] || rm -rf "$clips"' EXIT

# A real photo where ../shared has one (faces make the frames realistic), else FFmpeg's test pattern.
photo="$SHARED/faces/lfw-dev/Abdullah_Gul/Abdullah_Gul_0001.jpg"
if [ -f "$photo" ]; then input=(-loop 1 -i "$photo"); else input=(-f lavfi -i "testsrc=s=640x480:r=2"); fi
encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
has() { grep -q " $1 " <<<"$encoders"; }
make() {  # make NAME WIDTH HEIGHT PIXFMT ENCODER-ARGS...
    local name=$1 w=$2 h=$3 fmt=$4; shift 4
    ffmpeg -nostdin -y -loglevel error "${input[@]}" -t 1 -r 2 -vf "scale=$w:$h,format=$fmt" "$@" "$clips/$name" \
        || { log "ffmpeg could not make $name"; exit 1; }
}

log "making the corpus in $clips"
x264=(-c:v libx264 -preset ultrafast)
# 4:2:0 needs even widths; the odd ones as 4:4:4 (x264's High 4:4:4), so that every width from 200 to 260 is read.
for w in $(seq 200 260); do
    if ((w % 2 == 0)); then make "h264-${w}x250.mkv" "$w" 250 yuv420p "${x264[@]}"
    else make "h264-444-${w}x250.mkv" "$w" 250 yuv444p "${x264[@]}" -profile:v high444; fi
done
make h264-1080x1920.mp4 1080 1920 yuv420p "${x264[@]}"
make h264-422-250x250.mkv 250 250 yuv422p "${x264[@]}" -profile:v high422
awkward=("202 250" "250 250" "252 250" "330 250" "360 250" "426 240" "1000 250")
for size in "${awkward[@]}"; do
    read -r w h <<<"$size"
    has libx265 && make "hevc-${w}x$h.mp4" "$w" "$h" yuv420p -c:v libx265 -preset ultrafast -x265-params log-level=none
    has libvpx-vp9 && make "vp9-${w}x$h.webm" "$w" "$h" yuv420p -c:v libvpx-vp9 -deadline realtime -cpu-used 8
    if has libaom-av1; then make "av1-${w}x$h.mkv" "$w" "$h" yuv420p -c:v libaom-av1 -cpu-used 8
    elif has libsvtav1; then make "av1-${w}x$h.mkv" "$w" "$h" yuv420p -c:v libsvtav1 -preset 12; fi
    has mpeg4 && make "mpeg4-${w}x$h.avi" "$w" "$h" yuv420p -c:v mpeg4
done
has libx265 && make hevc-10bit-250x250.mkv 250 250 yuv420p10le -c:v libx265 -preset ultrafast -x265-params log-level=none
has libvpx-vp9 && make vp9-10bit-250x250.webm 250 250 yuv420p10le -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -profile:v 2
has libx265 && make hevc-422-10bit-426x240.mkv 426 240 yuv422p10le -c:v libx265 -preset ultrafast -x265-params log-level=none
count=$(find "$clips" -type f | wc -l)
log "$count clips"

# The replay build of FuzzVideo (built by fuzz.sh with its own flags; one empty input runs it once).
empty=$(mktemp)
"$ROOT/scripts/fuzz.sh" --replay FuzzVideo "$empty" >/dev/null
rm -f "$empty"
# Debian 12's valgrind (3.19) cannot read the DWARF 5 the Swift toolchain writes ("unhandled dwarf2 abbrev form
# code 0x25 ... I can't recover"): memcheck runs a copy without debug information (symbols stay, so the
# stacks still name the functions).
reader=$(mktemp)
objcopy --strip-debug "$ROOT/.build-fuzz/replay/debug/FuzzVideo" "$reader"

report=$(mktemp)
log "valgrind memcheck over $count clips (minutes)"
started=$SECONDS
status=0
# 1080x1920 is 2.1 MP: above FuzzVideo's 1 MP default.
FUZZ_VIDEO_MAX_PIXELS=2100000 valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --track-origins=no \
    --log-file="$report" "$reader" "$clips" >"$report.out" 2>&1 || status=$?
errors=$(grep -cE 'Invalid (read|write)|uninitialised|Invalid free|Mismatched free' "$report" || true)
ran=$(grep -c '^replay: .* bytes)$' "$report.out" || true)
log "$ran inputs in $((SECONDS - started)) s; exit $status; $errors memcheck errors"
grep -E 'ERROR SUMMARY' "$report" | tail -1 >&2
if ((status != 0 || errors != 0)); then
    grep -B2 -A12 -E 'Invalid (read|write)|uninitialised' "$report" | head -60 >&2 || true
    tail -5 "$report.out" >&2
    log "FAILED; valgrind log: $report"
    exit 1
fi
rm -f "$report" "$report.out" "$reader"
log "no invalid read or write"
