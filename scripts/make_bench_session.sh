#!/usr/bin/env bash
# Generates the benchmark session: 24 synthesised tracks (drums, bass, guitars, keys,
# vocals), 4 minutes at 48 kHz, written as 24-bit WAV stems plus session.toml.
# Usage: scripts/make_bench_session.sh [OUT_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench-out/session}"
seconds="${2:-240}"
[ -x build/topdown ] || scripts/build.sh
if [ -f "$out/stems/kick_in.wav" ] && [ "$(ls "$out/stems" | wc -l)" -eq 24 ]; then
  echo "bench session already in $out"
  exit 0
fi
build/topdown demo --export "$out" --tracks 24 --seconds "$seconds"
