#!/usr/bin/env bash
# Saturates the 24 stems of the benchmark session (4 minutes each, as stereo) at 4x
# oversampling: topdown's tape model (a batch of 24 one-stem sessions, the saturation on
# each master) against ffmpeg's asoftclip (tanh, oversample=4), two files at a time on the
# 2 cores. Alternating runs in one go; prints the medians, the ratio, and the saturation's
# share of topdown's time (the batch minus the same batch without it).
# Usage: bench/saturation_vs_ffmpeg.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
scripts/setup.sh --bench
scripts/build.sh >/dev/null
scripts/make_bench_session.sh bench-out/session 240 >/dev/null
stems=$(cd bench-out/session/stems && pwd)
work=bench-out/saturation
rm -rf "$work"
mkdir -p "$work/jobs" "$work/jobs-flat" "$work/ffmpeg"
chain='chain = [ { type = "saturation", model = "tape", drive_db = 6, oversampling = 4 } ]'
for f in "$stems"/*.wav; do
  name=$(basename "$f" .wav)
  for kind in jobs jobs-flat; do
    c=""
    [ "$kind" = jobs ] && c="$chain"
    printf '[session]\nsample_rate = 48000\n[master]\n%s\n[[track]]\nname = "t"\nfile = "%s"\n' \
      "$c" "$f" >"$work/$kind/$name.toml"
  done
done
af="aformat=channel_layouts=stereo,volume=6dB,asoftclip=type=tanh:oversample=4,volume=-6dB"

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
print(f"24 stems x 240 s as stereo at 48 kHz, 4x oversampled saturation, {len(ff)} runs, medians")
print(f"  ffmpeg asoftclip (tanh, oversample=4), 2 at a time: {f:6.2f} s")
print(f"  topdown batch (tape, with meters, 24 files):       {t:6.2f} s   ffmpeg / topdown = {f / t:5.2f}")
print(f"  topdown batch without the saturation:              {z:6.2f} s   (its share: {t - z:5.2f} s)")
PY
