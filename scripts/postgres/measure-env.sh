# Sourced by the measurement scripts that run `facefind` against PostgreSQL (serve-parity.sh, shared-index.sh):
# the repository root, the shared photos and models, the release binary, the PostgreSQL URL ($1, or the test
# instance, started if needed) and the server's tools ($PG_BIN/psql). Leaves the working folder at the root.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
faces=${FACEFIND_FACES:-$root/../shared/faces}
models=${FACEFIND_MODELS_DIR:-$root/../shared/models}
binary=$root/.build/release/facefind
[ -x "$binary" ] || { echo "no $binary: run scripts/setup.sh" >&2; exit 1; }
url=${1:-}
if [ -z "$url" ]; then
    export FACEFIND_PG_INSTANCE=test
    url=$(scripts/postgres/start.sh | tail -1)
fi
source scripts/postgres/env.sh
