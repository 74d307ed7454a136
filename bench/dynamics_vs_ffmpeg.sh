#!/usr/bin/env bash
# A compressor then a true-peak limiter on the 24 benchmark stems: topdown against ffmpeg's
# acompressor then alimiter with the same settings (bench/batch_vs_ffmpeg.lib.sh).
# 3:1 at -24 dBFS, 10 ms / 100 ms, hard knee, peak detector, linked; a -1 dBTP limiter with
# 5 ms look-ahead and 50 ms release. (ffmpeg's acompressor smooths the linear envelope with
# the same time constants; its alimiter limits sample peaks, not true peaks.)
# Usage: bench/dynamics_vs_ffmpeg.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/batch_vs_ffmpeg.lib.sh
batch_vs_ffmpeg dynamics \
  'chain = [ { type = "compressor", threshold_db = -24, ratio = 3, knee_db = 0, attack_ms = 10, release_ms = 100 }, { type = "limiter", ceiling_dbtp = -1, lookahead_ms = 5, release_ms = 50 } ]' \
  "aformat=channel_layouts=stereo,acompressor=threshold=-24dB:ratio=3:knee=1:attack=10:release=100:link=maximum:detection=peak,alimiter=limit=-1dB:attack=5:release=50:level=disabled" \
  "compressor + true-peak limiter (ffmpeg: acompressor + alimiter)" "${1:-3}"
