#!/usr/bin/env bash
# Compresses and limits the 24 stems of the benchmark session (4 minutes each, as stereo):
# topdown (a batch of 24 one-stem sessions, compressor then limiter on each master) against
# ffmpeg's acompressor then alimiter with the same settings, two files at a time on the 2
# cores. Alternating runs in one go; prints the medians and the ratio, and the dynamics'
# share of topdown's time (the batch minus the same batch without the two processors).
# Usage: bench/dynamics_vs_ffmpeg.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
scripts/setup.sh --bench
scripts/build.sh >/dev/null
scripts/make_bench_session.sh bench-out/session 240 >/dev/null
stems=$(cd bench-out/session/stems && pwd)
work=bench-out/dynamics
rm -rf "$work"
mkdir -p "$work/jobs" "$work/jobs-flat" "$work/ffmpeg"
# 3:1 at -24 dBFS, 10 ms / 100 ms, hard knee, peak detector, linked; a -1 dBTP limiter with
# 5 ms look-ahead and 50 ms release. (ffmpeg's acompressor smooths the linear envelope with
# the same time constants; its alimiter limits sample peaks, not true peaks.)
chain='chain = [ { type = "compressor", threshold_db = -24, ratio = 3, knee_db = 0, attack_ms = 10, release_ms = 100 }, { type = "limiter", ceiling_dbtp = -1, lookahead_ms = 5, release_ms = 50 } ]'
for f in "$stems"/*.wav; do
  name=$(basename "$f" .wav)
  for kind in jobs jobs-flat; do
    c=""
    [ "$kind" = jobs ] && c="$chain"
    printf '[session]\nsample_rate = 48000\n[master]\n%s\n[[track]]\nname = "t"\nfile = "%s"\n' \
      "$c" "$f" >"$work/$kind/$name.toml"
  done
done
af="aformat=channel_layouts=stereo,acompressor=threshold=-24dB:ratio=3:knee=1:attack=10:release=100:link=maximum:detection=peak,alimiter=limit=-1dB:attack=5:release=50:level=disabled"

now() { date +%s.%N; }
ff=(); td=(); flat=()
for ((i = 0; i < runs; i++)); do
  t0=$(now)
  ls "$stems"/*.wav | xargs -P 2 -I{} sh -c \
    'ffmpeg -hide_banner -loglevel error -y -i "$1" -af "$2" -c:a pcm_s24le "$3/$(basename "$1")"' \
    _ {} "$af" "$work/ffmpeg"
  t1=$(now)
  build/topdown batch "$work/jobs" -o "$work/out" --backend cpu --force >/dev/null
  t2=$(now)
  build/topdown batch "$work/jobs-flat" -o "$work/out-flat" --backend cpu --force >/dev/null
  t3=$(now)
  ff+=("$(echo "$t1 - $t0" | bc)"); td+=("$(echo "$t2 - $t1" | bc)"); flat+=("$(echo "$t3 - $t2" | bc)")
done
python3 - "${ff[*]}" "${td[*]}" "${flat[*]}" <<'PY'
import statistics, sys
ff, td, fl = ([float(x) for x in a.split()] for a in sys.argv[1:4])
f, t, z = statistics.median(ff), statistics.median(td), statistics.median(fl)
print(f"24 stems x 240 s as stereo at 48 kHz, compressor + true-peak limiter, {len(ff)} runs, medians")
print(f"  ffmpeg acompressor + alimiter, 2 files at a time: {f:6.2f} s")
print(f"  topdown batch (with meters, 24 files):           {t:6.2f} s   ffmpeg / topdown = {f / t:5.2f}")
print(f"  topdown batch without the two processors:        {z:6.2f} s   (their share: {t - z:5.2f} s)")
PY
