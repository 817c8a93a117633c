#!/usr/bin/env bash
# Builds the FaceFind library's documentation (the DocC catalog in Sources/FaceFind/FaceFind.docc and every
# public symbol's comment) with the Swift-DocC plugin, as a static website in .build/docs (open index.html
# through any static web server, or add --hosting-base-path for a sub-folder). Fails on a broken symbol link.
#   scripts/docs.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
output=${1:-.build/docs}
mkdir -p "$output"
# A scratch folder of its own: the documentation build compiles the library for its symbol graph, and must not
# disturb the release build in .build.
swift package --scratch-path .build-docs --allow-writing-to-directory "$output" \
    generate-documentation --target FaceFind --output-path "$output" \
    --transform-for-static-hosting --warnings-as-errors
echo "documentation: $output/documentation/facefind/index.html"
