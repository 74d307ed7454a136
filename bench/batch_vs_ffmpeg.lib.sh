# Shared by the processor benchmarks (sourced): the 24 stems of the benchmark session (4
# minutes each, as stereo) through one master chain as a topdown batch of 24 one-stem
# sessions, against ffmpeg with a filter graph doing the same, two files at a time on the
# 2 cores; and the same batch without the chain, so the processors' own share shows.
# Alternating runs in one go; prints the medians and the ratio.
# Usage: batch_vs_ffmpeg NAME CHAIN FFMPEG_FILTERS TITLE RUNS
batch_vs_ffmpeg() {
  local name=$1 chain=$2 af=$3 title=$4 runs=$5
  scripts/setup.sh --bench
  scripts/build.sh >/dev/null
  scripts/make_bench_session.sh bench-out/session 240 >/dev/null
  local stems work
  stems=$(cd bench-out/session/stems && pwd)
  work=bench-out/$name
  rm -rf "$work"
  mkdir -p "$work/jobs" "$work/jobs-flat" "$work/ffmpeg"
  for f in "$stems"/*.wav; do
    local base c
    base=$(basename "$f" .wav)
    for kind in jobs jobs-flat; do
      c=""
      [ "$kind" = jobs ] && c="$chain"
      printf '[session]\nsample_rate = 48000\n[master]\n%s\n[[track]]\nname = "t"\nfile = "%s"\n' \
        "$c" "$f" >"$work/$kind/$base.toml"
    done
  done
  now() { date +%s.%N; }
  local ff=() td=() flat=() t0 t1 t1b t2 t2b t3
  # Each run starts with the last one's files flushed, outside the timing: a run must not
  # pay for the write-back of the one before (topdown waits for its own writes; ffmpeg
  # leaves its files in the page cache).
  for ((i = 0; i < runs; i++)); do
    sync
    t0=$(now)
    ls "$stems"/*.wav | xargs -P 2 -I{} sh -c \
      'ffmpeg -hide_banner -loglevel error -y -i "$1" -af "$2" -c:a pcm_s24le "$3/$(basename "$1")"' \
      _ {} "$af" "$work/ffmpeg"
    t1=$(now)
    sync
    t1b=$(now)
    build/topdown batch "$work/jobs" -o "$work/out" --backend cpu --force --allow-path "$stems" >/dev/null
    t2=$(now)
    sync
    t2b=$(now)
    build/topdown batch "$work/jobs-flat" -o "$work/out-flat" --backend cpu --force --allow-path "$stems" >/dev/null
    t3=$(now)
    ff+=("$(echo "$t1 - $t0" | bc)"); td+=("$(echo "$t2 - $t1b" | bc)"); flat+=("$(echo "$t3 - $t2b" | bc)")
  done
  python3 - "$title" "${ff[*]}" "${td[*]}" "${flat[*]}" <<'PY'
import statistics, sys
title = sys.argv[1]
ff, td, fl = ([float(x) for x in a.split()] for a in sys.argv[2:5])
f, t, z = statistics.median(ff), statistics.median(td), statistics.median(fl)
print(f"24 stems x 240 s as stereo at 48 kHz, {title}, {len(ff)} runs, medians")
print(f"  ffmpeg, 2 files at a time:                 {f:6.2f} s")
print(f"  topdown batch (with meters, 24 files):     {t:6.2f} s   ffmpeg / topdown = {f / t:5.2f}")
print(f"  topdown batch without the processors:      {z:6.2f} s   (their share: {t - z:5.2f} s)")
PY
}
