#!/usr/bin/env bash
# EQs the 24 stems of the benchmark session (4 minutes each, as stereo) with one 5-band
# linear-phase EQ: topdown (a batch of 24 one-stem sessions, the EQ on each master) against
# ffmpeg's firequalizer given the same magnitude response (the same analog prototypes,
# tabulated) and a FIR of the same length, two files at a time on the 2 cores; plus FFTW's
# raw throughput for the transforms of the same blocks as the floor. Alternating runs in
# one go; prints the medians and the ratios.
# Usage: bench/eq_vs_ffmpeg.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
scripts/setup.sh --bench
scripts/build.sh >/dev/null
scripts/make_bench_session.sh bench-out/session 240 >/dev/null
stems=$(cd bench-out/session/stems && pwd)
work=bench-out/eq
rm -rf "$work"
mkdir -p "$work/jobs" "$work/jobs-flat" "$work/ffmpeg"

# The 5 bands (the seed's mix-bus moves): topdown's TOML and the same curve for ffmpeg.
bands='{ type = "highpass", freq = 25, slope = 24 }, { type = "lowshelf", freq = 100, gain_db = 2 }, { type = "bell", freq = 400, gain_db = -2, q = 1.2 }, { type = "bell", freq = 3000, gain_db = 1, q = 1 }, { type = "highshelf", freq = 10000, gain_db = 1.5 }'
for f in "$stems"/*.wav; do
  name=$(basename "$f" .wav)
  for kind in jobs jobs-flat; do
    chain=""
    [ "$kind" = jobs ] && chain="chain = [ { type = \"eq\", bands = [ $bands ] } ]"
    cat >"$work/$kind/$name.toml" <<TOML
[session]
sample_rate = 48000
[master]
$chain
[[track]]
name = "t"
file = "$f"
TOML
  done
done
# The prototypes' magnitude in dB at 64 log-spaced points, 1/6 octave apart (the formulas of
# docs/processors.md), for firequalizer's cubic interpolation.
entries=$(python3 - <<'PY'
import math
def mag(f):
    w = f / 25.0
    m = 1.0 / math.sqrt(1.0 + w ** -8)                       # highpass 25 Hz, order 4
    def shelf(f0, g, low):
        A = 10 ** (g / 40.0); q = math.sqrt(0.5); w = f / f0; k = math.sqrt(A) / q * w
        n = complex(A - w * w, k) if low else complex(1 - A * w * w, k)
        d = complex(1 - A * w * w, k) if low else complex(A - w * w, k)
        return A * abs(n) / abs(d)
    def bell(f0, g, q):
        A = 10 ** (g / 40.0); w = f / f0
        return abs(complex(1 - w * w, w * A / q)) / abs(complex(1 - w * w, w / (A * q)))
    return m * shelf(100, 2, True) * bell(400, -2, 1.2) * bell(3000, 1, 1) * shelf(10000, 1.5, False)
pts = [0.0] + [5 * (24000 / 5) ** (i / 62) for i in range(63)]  # firequalizer takes at most 64
print(";".join(f"entry({f:.4f},{20 * math.log10(max(mag(f), 1e-12)) if f > 0 else -240:.5f})" for f in pts))
PY
)
# A FIR as long as firequalizer allows (its FFT is at most 2^16 points: 43689 taps);
# topdown's is 44801 (the 25 Hz slope's, docs/processors.md) on 2^17-point FFTs.
delay=$(python3 -c "print(21844 / 48000)")
fq="aformat=channel_layouts=stereo,firequalizer=gain_entry='$entries':gain='cubic_interpolate(f)':delay=$delay:accuracy=1:zero_phase=on"

now() { date +%s.%N; }
ff=(); td=(); flat=()
for ((i = 0; i < runs; i++)); do
  t0=$(now)
  ls "$stems"/*.wav | xargs -P 2 -I{} sh -c \
    'ffmpeg -hide_banner -loglevel error -y -i "$1" -af "$2" -c:a pcm_s24le "$3/$(basename "$1")"' \
    _ {} "$fq" "$work/ffmpeg"
  t1=$(now)
  build/topdown batch "$work/jobs" -o "$work/out" --backend cpu --force --allow-path "$stems" >/dev/null
  t2=$(now)
  build/topdown batch "$work/jobs-flat" -o "$work/out-flat" --backend cpu --force --allow-path "$stems" >/dev/null
  t3=$(now)
  ff+=("$(echo "$t1 - $t0" | bc)"); td+=("$(echo "$t2 - $t1" | bc)"); flat+=("$(echo "$t3 - $t2" | bc)")
done
# The floor: the forward and inverse FFTs of every block of the 48 channels.
read -r fft_size hop latency < <(python3 - "$work/out" <<'PY'
import json, sys, glob
r = json.load(open(sorted(glob.glob(sys.argv[1] + "/*/report.json"))[0]))
lat = r["plan"]["latency_samples"]
taps = 44801; n = 1
while n < 2 * taps: n *= 2
print(n, n - taps + 1, lat)
PY
)
blocks=$(( 48 * ((240 * 48000 + latency) / hop + 1) ))
floor=$(build/bench/fft_floor "$fft_size" "$blocks")

python3 - "$floor" "$fft_size" "$hop" "$blocks" "${ff[*]}" "${td[*]}" "${flat[*]}" <<'PY'
import statistics, sys
floor = float(sys.argv[1]); n, hop, blocks = sys.argv[2:5]
ff, td, fl = ([float(x) for x in a.split()] for a in sys.argv[5:8])
f, t, z = statistics.median(ff), statistics.median(td), statistics.median(fl)
print(f"24 stems x 240 s as stereo at 48 kHz, 5-band linear-phase EQ (FIR {n}-point FFT, hop {hop}), {len(ff)} runs, medians")
print(f"  ffmpeg firequalizer (43689 taps), 2 files at a time: {f:6.2f} s")
print(f"  topdown batch (44801 taps, meters, 24 files):         {t:6.2f} s   ffmpeg / topdown = {f / t:5.2f}")
print(f"  topdown batch without the EQ:                          {z:6.2f} s   (the EQ's share: {t - z:5.2f} s)")
print(f"  FFTW floor ({blocks} r2c + c2r pairs of {n}):     {floor:6.2f} s   EQ share / floor = {(t - z) / floor:5.2f}")
PY
