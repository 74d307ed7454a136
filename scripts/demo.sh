#!/usr/bin/env bash
# First command of the README: installs what is missing, builds, and renders the demo
# into demo-out/ (master.wav and report.json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/topdown demo -o demo-out "$@"
