#!/usr/bin/env bash
# Renders 8 small sessions (30 s, 8 to 15 synthesised tracks) three ways, alternating, in
# one run: `topdown batch` (sessions share launches), `topdown batch --memory-budget 1M`
# (one launch per session, one process) and eight `topdown render` processes one after
# another; prints median wall times and ratios.
# Usage: bench/batch_vs_sequential.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
scripts/setup.sh
scripts/build.sh >/dev/null
root=bench-out/batch
if [ ! -d "$root/jobs" ]; then
  mkdir -p "$root/jobs"
  for n in 1 2 3 4 5 6 7 8; do
    build/topdown demo --export "$root/song$n" --seconds 30 --tracks $((7 + n)) >/dev/null
    sed "s|stems/|../song$n/stems/|" "$root/song$n/session.toml" >"$root/jobs/song$n.toml"
  done
fi
now() { date +%s.%N; }
shared=() separate=() procs=()
for ((i = 0; i < runs; i++)); do
  rm -rf "$root/out-shared" "$root/out-separate" "$root/out-procs"
  t0=$(now); build/topdown batch "$root/jobs" -o "$root/out-shared" --backend cpu --allow-path "$root" >/dev/null
  t1=$(now); build/topdown batch "$root/jobs" -o "$root/out-separate" --backend cpu --memory-budget 1M --allow-path "$root" >/dev/null
  t2=$(now)
  for n in 1 2 3 4 5 6 7 8; do
    build/topdown render "$root/jobs/song$n.toml" -o "$root/out-procs/song$n" --backend cpu --allow-path "$root" >/dev/null 2>&1
  done
  t3=$(now)
  shared+=("$(echo "$t1 - $t0" | bc)"); separate+=("$(echo "$t2 - $t1" | bc)"); procs+=("$(echo "$t3 - $t2" | bc)")
done
for n in 1 2 3 4 5 6 7 8; do
  cmp -s "$root/out-shared/song$n/master.wav" "$root/out-procs/song$n/master.wav" || echo "song$n differs!"
done
python3 - "${shared[*]}" "${separate[*]}" "${procs[*]}" <<'PY'
import statistics, sys
a, b, c = ([float(x) for x in s.split()] for s in sys.argv[1:4])
a, b, c = statistics.median(a), statistics.median(b), statistics.median(c)
print("8 sessions x 30 s, 8-15 tracks each (median wall time)")
print(f"  topdown batch (shared launches):         {a:6.2f} s")
print(f"  topdown batch --memory-budget 1M:        {b:6.2f} s   ratio {b / a:5.2f}")
print(f"  8 x topdown render, one after another:   {c:6.2f} s   ratio {c / a:5.2f}")
PY
