#!/usr/bin/env bash
# Sets up (idempotent) and runs the whole test suite. Tests use the real models and photos in ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift test -c release -Xswiftc -enable-testing "$@"
