#!/usr/bin/env bash
# Renders the 24-track, 4-minute benchmark session with topdown (CPU backend) and sums the
# same stems with ffmpeg's amix, alternating, in one run; prints the median wall times,
# the realtime factors and their ratio, plus where topdown's time goes.
# Usage: bench/render_vs_ffmpeg.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
scripts/setup.sh --bench
scripts/build.sh >/dev/null
scripts/make_bench_session.sh bench-out/session 240 >/dev/null
session=bench-out/session
inputs=()
n=0
for f in "$session"/stems/*.wav; do inputs+=(-i "$f"); n=$((n + 1)); done
seconds=240

now() { date +%s.%N; }
ffmpeg_times=()
topdown_times=()
master_only_times=()
for ((i = 0; i < runs; i++)); do
  t0=$(now)
  ffmpeg -hide_banner -loglevel error -y "${inputs[@]}" \
    -filter_complex "amix=inputs=$n:normalize=0" -c:a pcm_s24le bench-out/amix.wav
  t1=$(now)
  build/topdown render "$session/session.toml" -o bench-out/render --backend cpu --json \
    >bench-out/render.json 2>/dev/null
  t2=$(now)
  build/topdown render "$session/session.toml" -o bench-out/render-master-only --backend cpu \
    --no-bus-meters --json >bench-out/render-master-only.json 2>/dev/null
  t3=$(now)
  ffmpeg_times+=("$(echo "$t1 - $t0" | bc)")
  topdown_times+=("$(echo "$t2 - $t1" | bc)")
  master_only_times+=("$(echo "$t3 - $t2" | bc)")
done
# A floor: reading the stems' bytes from the page cache.
t0=$(now)
cat "$session"/stems/*.wav >/dev/null
t1=$(now)
read_floor=$(echo "$t1 - $t0" | bc)

python3 - "$seconds" "$read_floor" "${ffmpeg_times[*]}" "${topdown_times[*]}" "${master_only_times[*]}" <<'PY'
import json, statistics, sys
seconds = float(sys.argv[1]); floor = float(sys.argv[2])
ff, td, mo = ([float(x) for x in a.split()] for a in sys.argv[3:6])
f, t, m = statistics.median(ff), statistics.median(td), statistics.median(mo)
print(f"24 stems x {seconds:.0f} s at 48 kHz, {len(ff)} runs each, alternating (median wall time)")
print(f"  ffmpeg amix (decode + sum + write):          {f:6.2f} s  {seconds / f:7.1f}x realtime")
print(f"  topdown render (every bus metered):          {t:6.2f} s  {seconds / t:7.1f}x realtime  ratio {f / t:5.2f}")
print(f"  topdown render --no-bus-meters (master only): {m:6.2f} s  {seconds / m:7.1f}x realtime  ratio {f / m:5.2f}")
print(f"  floor (cat the stems):                       {floor:6.2f} s")
for name in ("render", "render-master-only"):
    r = json.load(open(f"bench-out/{name}.json"))
    tm = r["timings_s"]
    print(f"  {name} time (last run): " + ", ".join(f"{k} {tm[k]:.2f} s" for k in ("decode", "stages", "measure", "write", "total")))
print(f"  master: {r['master']['integrated_lufs']} LUFS, {r['master']['true_peak_dbtp']} dBTP")
PY
