#!/usr/bin/env bash
# Times `topdown analyze` against ffmpeg's ebur128 filter (with true peak) and libebur128
# on the same 4-minute stereo file, alternating, in one run; prints medians and ratios.
# The file is the benchmark session's master (rendered first if missing).
# Usage: bench/analyze_vs_peers.sh [RUNS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
scripts/setup.sh --bench
scripts/build.sh >/dev/null
scripts/make_bench_session.sh bench-out/session 240 >/dev/null
file=bench-out/render/master.wav
[ -f "$file" ] || build/topdown render bench-out/session/session.toml -o bench-out/render --backend cpu >/dev/null 2>&1

now() { date +%s.%N; }
td=() ff=() lib=()
for ((i = 0; i < runs; i++)); do
  t0=$(now); build/topdown analyze "$file" --json --backend cpu >bench-out/analyze.json 2>/dev/null
  t1=$(now); ffmpeg -hide_banner -nostats -i "$file" -af ebur128=peak=true -f null - 2>bench-out/ffmpeg-ebur128.txt
  t2=$(now); build/bench/ebur128_scan "$file" >bench-out/libebur128.txt
  t3=$(now)
  td+=("$(echo "$t1 - $t0" | bc)"); ff+=("$(echo "$t2 - $t1" | bc)"); lib+=("$(echo "$t3 - $t2" | bc)")
done
python3 - "${td[*]}" "${ff[*]}" "${lib[*]}" <<'PY'
import json, re, statistics, sys
td, ff, lib = ([float(x) for x in a.split()] for a in sys.argv[1:4])
t, f, l = statistics.median(td), statistics.median(ff), statistics.median(lib)
print(f"4-minute stereo 48 kHz file, {len(td)} runs each, alternating (median wall time)")
print(f"  topdown analyze --backend cpu:   {t:6.2f} s")
print(f"  ffmpeg -af ebur128=peak=true:    {f:6.2f} s   ratio ffmpeg / topdown {f / t:5.2f}")
print(f"  libebur128 (M, S, I, LRA, TP):   {l:6.2f} s   ratio libebur128 / topdown {l / t:5.2f}")
a = json.load(open("bench-out/analyze.json"))
print(f"  topdown:    I {a['integrated_lufs']} LUFS  LRA {a['lra_lu']} LU  TP {a['true_peak_dbtp']} dBTP")
print("  libebur128: " + open("bench-out/libebur128.txt").read().strip())
txt = open("bench-out/ffmpeg-ebur128.txt").read()
txt = txt[txt.rfind("Summary:"):]
m = re.findall(r"I:\s+(-?[\d.]+) LUFS.*?LRA:\s+([\d.]+) LU.*?Peak:\s+(-?[\d.]+)", txt, re.S)
if m: print(f"  ffmpeg:     I {m[-1][0]} LUFS  LRA {m[-1][1]} LU  TP {m[-1][2]} dBFS")
PY
