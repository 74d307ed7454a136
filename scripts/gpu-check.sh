#!/usr/bin/env bash
# The first run on a real NVIDIA GPU, in one go (under 8 minutes on one data-centre GPU):
#  1. builds topdown for this GPU's own architecture (build-gpu/),
#  2. runs the CPU/GPU parity and launch tests on the device,
#  3. runs compute-sanitizer (memcheck and racecheck) over the parity tests,
#  4. runs bench/gpu_stages (every stage's throughput against the memory roofline) and
#     times 1, 16 and 256 mix-bus variants of a 60 s, 24-track bench session,
# and ends with a summary of a few lines. What the emulated device of tests/emu cannot
# check -- the device's own math rounding, cuFFT's rounding and memory, real concurrency and
# timing -- is what steps 2 to 4 measure. Output: gpu-check-out/ (logs) and stdout.
set -uo pipefail
cd "$(dirname "$0")/.."
out=gpu-check-out
mkdir -p "$out"
summary=()
say() { echo "gpu-check: $*"; }

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  say "no NVIDIA GPU answers (nvidia-smi); nothing to check"
  exit 77
fi
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
say "device: $gpu (sm_$arch)"
summary+=("device: $gpu, sm_$arch")

# 1. Build for this architecture only.
t0=$(date +%s)
scripts/setup.sh >/dev/null
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTOPDOWN_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$arch" >"$out/configure.log" 2>&1 &&
  cmake --build build-gpu --parallel "$(nproc)" >"$out/build.log" 2>&1
if [ $? -ne 0 ]; then
  say "build failed (see $out/build.log)"
  tail -20 "$out/build.log"
  exit 1
fi
say "built in $(($(date +%s) - t0)) s"

# 2. Parity and launch tests on the device.
filter='AllBackends/*:DeviceLaunches.*:Deesser.*'
build-gpu/tests/render_test --gtest_filter="$filter" >"$out/parity.log" 2>&1
parity=$?
build-gpu/tests/launch_test >>"$out/parity.log" 2>&1
launch=$?
passed=$(grep -c '^\[       OK \]' "$out/parity.log")
failed=$(grep -c '^\[  FAILED  \].*(' "$out/parity.log")
skipped=$(grep -c '^\[  SKIPPED \].*(' "$out/parity.log")
say "parity and launch tests: $passed passed, $failed failed, $skipped skipped"
summary+=("parity/launch tests on the device: $passed passed, $failed failed, $skipped skipped")
# The render tests on the device as well (TD_TEST_BACKEND: every render test's backend).
TD_TEST_BACKEND=cuda build-gpu/tests/render_test >"$out/render_on_device.log" 2>&1
render=$?
summary+=("render tests on the device: $(tail -3 "$out/render_on_device.log" | grep -E 'PASSED|FAILED' | head -1)")

# 3. compute-sanitizer over the parity tests.
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer \
  /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1)
if [ -n "$sanitizer" ]; then
  for tool in memcheck racecheck; do
    "$sanitizer" --tool "$tool" --error-exitcode 9 build-gpu/tests/render_test \
      --gtest_filter='AllBackends/*/1' >"$out/$tool.log" 2>&1
    rc=$?
    errors=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$out/$tool.log" | tail -1)
    say "compute-sanitizer $tool: exit $rc, ${errors:-no summary}"
    summary+=("compute-sanitizer $tool: ${errors:-exit $rc}")
  done
else
  say "compute-sanitizer not found: skipped"
  summary+=("compute-sanitizer: not installed, skipped")
fi

# 4. Throughput and variants.
build-gpu/bench/gpu_stages --backend cuda --pairs 48 --reps 3 | tee "$out/gpu_stages.txt"
session="$out/session"
if [ ! -f "$session/session.toml" ]; then
  build-gpu/topdown demo --export "$session" --tracks 24 --seconds 60 >/dev/null
fi
# Mix-bus variants: the seed's mix-bus chain (EQ, glue compressor, tape, maximizer) with
# the compressor's threshold swept; everything below the master renders once.
chain='chain = [ { type = "eq", bands = [ { type = "highpass", freq = 25, slope = 24 }, '\
'{ type = "bell", freq = 10000, gain_db = 1, q = 0.7 } ] }, '\
'{ type = "compressor", id = "comp", threshold_db = -16, ratio = 2, attack_ms = 10, '\
'release_ms = 120, knee_db = 2, makeup_db = 1.5 }, '\
'{ type = "saturation", model = "tape", drive_db = 2 }, { type = "limiter" } ]'
variants_of() {
  local n=$1 values="" i
  for ((i = 0; i < n; i++)); do values+="${values:+, }$(awk "BEGIN { print -30 + 20 * $i / $n }")"; done
  echo "$values"
}
for n in 1 16 256; do
  toml="$out/variants-$n.toml"
  cp "$session/session.toml" "$toml"
  sed -i "s#stems/#session/stems/#" "$toml"
  python3 - "$toml" "$chain" <<'PY'
import sys
p, chain = sys.argv[1], sys.argv[2]
s = open(p).read()
trim = 'chain = [ { type = "gain", id = "trim", gain_db = -2.0 } ]'
assert trim in s, "the exported session's master chain changed"
open(p, "w").write(s.replace(trim, chain))
PY
  if [ "$n" -gt 1 ]; then
    printf '\n[variants.sweep]\n"master.comp.threshold_db" = [%s]\n' "$(variants_of "$n")" >>"$toml"
  fi
  for backend in cuda cpu; do
    [ "$backend" = cpu ] && [ "$n" -eq 256 ] && continue  # the CPU's time at 16 is the peer
    t0=$(date +%s.%N)
    build-gpu/topdown render "$toml" -o "$out/render-$n-$backend" --backend "$backend" \
      --write-variants none --json >"$out/render-$n-$backend.json" 2>"$out/render-$n-$backend.log"
    rc=$?
    t=$(echo "$(date +%s.%N) - $t0" | bc)
    say "$n variant(s) on $backend: $(printf %.1f "$t") s (exit $rc)"
    summary+=("$n mix-bus variant(s) of the 60 s bench session on $backend: $(printf %.1f "$t") s")
  done
done

echo
echo "gpu-check summary"
for line in "${summary[@]}"; do echo "  $line"; done
echo "  stage throughput: $out/gpu_stages.txt"
[ $parity -eq 0 ] && [ $launch -eq 0 ] && [ $render -eq 0 ]
