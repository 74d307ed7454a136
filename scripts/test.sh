#!/usr/bin/env bash
# Second command of the README (and what CI runs): installs, builds (with the CUDA backend
# when nvcc is present) and runs the whole test suite with ctest. GPU tests skip with a
# message when no device answers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc)"
