#!/usr/bin/env bash
# The whole test suite under a sanitizer: `scripts/sanitize.sh address` (AddressSanitizer) or
# `scripts/sanitize.sh thread` (ThreadSanitizer); further arguments go to `swift test` (`--filter X`).
#
# Not part of CI: each sanitizer rebuilds every package with instrumentation (about 10 minutes on 2 cores)
# and runs the suite several times slower. A release build (with -enable-testing), as scripts/test.sh uses:
# a debug build makes the accuracy tests over 3,687 photos too slow to finish. Its own scratch folder
# (.build-address, .build-thread), so the normal build is left alone. ONNX Runtime is a prebuilt library,
# loaded with dlopen and not instrumented: the sanitizers check FaceFind's code and the Swift packages.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case "$kind" in
    address) export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1} ;;
    thread) export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} ;;
    *) echo "usage: scripts/sanitize.sh address|thread [swift test options]" >&2; exit 64 ;;
esac
shift
scripts/setup.sh
export FACEFIND_PG_INSTANCE=test
scripts/postgres/install.sh
if ! scripts/postgres/start.sh --status; then trap 'scripts/postgres/stop.sh' EXIT; fi
FACEFIND_TEST_POSTGRES_URL=$(scripts/postgres/start.sh)
export FACEFIND_TEST_POSTGRES_URL
swift test -c release -Xswiftc -enable-testing --sanitize="$kind" --scratch-path ".build-$kind" "$@"
