#!/usr/bin/env bash
# First command of the README: installs what is missing, builds, and renders the demo
# into demo-out/ (master.wav and report.json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
# demo-out/ unless the arguments name another folder (-o DIR, --out DIR or --out=DIR).
out=(-o demo-out)
for a in "$@"; do
  case "$a" in -o | --out | --out=* | -o?*) out=() ;; esac
done
build/topdown demo "${out[@]}" "$@"
