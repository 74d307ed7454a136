#!/usr/bin/env bash
# Memory that does not grow with the song (docs/security.md): past --memory-budget the
# kept master goes to a file in OUT (unlinked, its pages released as they are written and
# read), and delivery streams it a segment at a time. A 20-minute stem (its kept master
# alone is 460 MB of floats) renders in under 200 MB and under half the memory of the
# same render held in memory, to the same bytes, and leaves no file behind.
source "$(dirname "$0")/lib.sh" "$1"

# 20 minutes of 16-bit stereo: one second of a detuned pair of tones, repeated.
python3 - "$dir/long.wav" <<'PY'
import math, struct, sys, wave
rate = 48000
second = bytearray()
for n in range(rate):
    l = 0.4 * math.sin(2 * math.pi * 220 * n / rate) + 0.2 * math.sin(2 * math.pi * 3010 * n / rate)
    r = 0.4 * math.sin(2 * math.pi * 221 * n / rate) + 0.2 * math.sin(2 * math.pi * 2990 * n / rate)
    second += struct.pack("<hh", int(l * 32767), int(r * 32767))
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2)
    w.setsampwidth(2)
    w.setframerate(rate)
    for _ in range(1200):
        w.writeframes(second)
PY
cat >"$dir/s.toml" <<'TOML'
[session]
sample_rate = 48000
[delivery]
target_lufs = -14.0
[master]
chain = [ { type = "limiter" } ]
[[track]]
name = "long"
file = "long.wav"
TOML

# Peak RSS of one render, in MiB (getrusage of the child: no /usr/bin/time needed).
peak_mib() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if r.returncode != 0:
    sys.stderr.write(r.stderr)
    sys.exit(1)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
}
held=$(peak_mib "$topdown" render "$dir/s.toml" -o "$dir/held" --backend cpu --memory-budget 4G) ||
  bad "the render held in memory failed"
spilled=$(peak_mib "$topdown" render "$dir/s.toml" -o "$dir/spilled" --backend cpu --memory-budget 8M) ||
  bad "the render over its budget failed"
echo "peak RSS: ${held} MiB held in memory, ${spilled} MiB with the master in a file"
cmp -s "$dir/held/master.wav" "$dir/spilled/master.wav" || bad "the two renders' masters differ"
[ "$spilled" -lt 200 ] || bad "${spilled} MiB: over 200 MiB for a 20-minute song"
[ $((2 * spilled)) -lt "$held" ] || bad "${spilled} MiB is not under half of ${held} MiB"
leftovers=$(find "$dir/spilled" -name '.topdown-keep-*' | wc -l)
[ "$leftovers" -eq 0 ] || bad "the kept masters' file was left in OUT"
exit $fail
