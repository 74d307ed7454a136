#!/usr/bin/env bash
# Configures and builds topdown (Release) in build/. The CUDA backend is built when nvcc
# is found (on PATH or in /usr/local/cuda/bin); TOPDOWN_CUDA=OFF skips it and
# CUDA_ARCHS (default "80;90": A100, H100) picks the GPU architectures.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DTOPDOWN_CUDA="${TOPDOWN_CUDA:-AUTO}" -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-80;90}" >/dev/null
cmake --build build --parallel "$(nproc)"
