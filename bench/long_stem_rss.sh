#!/usr/bin/env bash
# Memory against song length (issue #17, docs/security.md): a 2.0 GB stem (1 h 56 min of
# 24-bit stereo at 48 kHz) through a limiter to -14 LUFS, rendered with its kept master in
# memory and with --memory-budget 256M (the master in an unlinked file in OUT); prints
# /usr/bin/time -v's peak RSS and wall time for each, and checks the two masters are the
# same bytes. Needs about 8 GB of free disk in bench-out/.
# Usage: bench/long_stem_rss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench
scripts/build.sh >/dev/null
work=bench-out/long-stem
mkdir -p "$work"
if [ ! -f "$work/huge.wav" ]; then
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "sine=frequency=220:sample_rate=48000:duration=6944,volume=0.5" \
    -f lavfi -i "anoisesrc=color=pink:sample_rate=48000:duration=6944:amplitude=0.2" \
    -filter_complex "[0][1]amerge=inputs=2" -c:a pcm_s24le "$work/huge.wav"
fi
cat >"$work/session.toml" <<'TOML'
[session]
sample_rate = 48000
[delivery]
target_lufs = -14.0
[master]
chain = [ { type = "limiter" } ]
[[track]]
name = "huge"
file = "huge.wav"
TOML
echo "stem: $(du -h "$work/huge.wav" | cut -f1), $(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/huge.wav") s"
for budget in 8G 256M; do
  rm -rf "$work/out-$budget"
  /usr/bin/time -v build/topdown render "$work/session.toml" -o "$work/out-$budget" --backend cpu \
    --memory-budget "$budget" 2>"$work/time-$budget.txt" >/dev/null
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$work/time-$budget.txt")
  wall=$(awk -F': ' '/Elapsed/ {print $2}' "$work/time-$budget.txt")
  echo "--memory-budget $budget: peak RSS $((rss / 1024)) MB, wall $wall"
done
cmp -s "$work/out-8G/master.wav" "$work/out-256M/master.wav" && echo "masters: the same bytes" ||
  { echo "masters differ"; exit 1; }
