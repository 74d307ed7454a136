#!/usr/bin/env bash
# 4x oversampled saturation on the 24 benchmark stems: topdown's tape model against
# ffmpeg's asoftclip (tanh, oversample=4) with the same drive (bench/batch_vs_ffmpeg.lib.sh).
# Usage: bench/saturation_vs_ffmpeg.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/batch_vs_ffmpeg.lib.sh
batch_vs_ffmpeg saturation \
  'chain = [ { type = "saturation", model = "tape", drive_db = 6, oversampling = 4 } ]' \
  "aformat=channel_layouts=stereo,volume=6dB,asoftclip=type=tanh:oversample=4,volume=-6dB" \
  "4x oversampled saturation (ffmpeg: asoftclip tanh, oversample=4)" "${1:-3}"
