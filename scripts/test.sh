#!/usr/bin/env bash
# Second command of the README (and what CI runs): installs, builds (with the CUDA backend
# when nvcc is present) and runs the whole test suite with ctest. GPU tests skip with a
# message when no device answers. Then the CUDA backend runs anyway: the emulated-device
# build (-DTOPDOWN_CUDA=EMU, tests/emu; with AddressSanitizer and UndefinedBehaviorSanitizer)
# runs the parity, launch and render tests on --backend cuda in race mode (`ctest -L emu`),
# then every unit test and the fuzz corpus again under the sanitizers, leaks included.
# TOPDOWN_EMU=OFF skips that part. Last, the libFuzzer targets run for 60 s each
# (scripts/fuzz.sh; TOPDOWN_FUZZ_SECONDS=0 skips them).
set -euo pipefail
cd "$(dirname "$0")/.."
# Two test processes per 2 cores: OpenMP workers that spin while they wait take the core
# from the other process (measured: 40 s -> 21 s for the render tests at -j2). The topdown
# binary sets a short spin itself (host/cli/main.cpp); the test binaries get this.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 600 -j "$(nproc)"
if [ "${TOPDOWN_EMU:-ON}" != "OFF" ]; then
  echo "test: the emulated CUDA device (build-emu, sanitizers, race mode)"
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  # Host code at -O1 with line tables only: under the sanitizers it compiles in half the
  # time of -O2 -g (CI's budget). The kernels (-O3) and the emulated device (-O2), where
  # the tests spend their time, keep their own levels (CMakeLists.txt).
  cmake -S . -B build-emu "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DTOPDOWN_CUDA=EMU -DTOPDOWN_SANITIZE=ON -DTOPDOWN_BENCH=OFF >/dev/null
  cmake --build build-emu --parallel "$(nproc)"
  # The emulated device's cuFFT keeps process-long plan caches: only errors stop this run.
  # The backend parity tests' "cpu" instances compare the CPU with itself: the normal
  # build ran them.
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-emu --output-on-failure --timeout 900 -j "$(nproc)" -L emu \
    -E '"cpu"$'

  # Every unit test and the fuzz corpus under the sanitizers, leaks included. Left out
  # (CI's 30 minutes): the scripted tests through the binary (*_test), which ran above
  # without them; the launch tests (DeviceLaunches.*), which are the same run under the
  # `emu.` prefix; and four whole-song searches and calibrations (20 to 90 s each
  # under ASan) whose code the shorter init and match tests run under the sanitizers too.
  echo "test: the unit tests under AddressSanitizer, LeakSanitizer and UBSan"
  long='^InitSession[.]BusesAreStaged|^Match[.]RecoversSpectralLevelAndDynamics'
  long+='|^Match[.]TheSpectralShortcutMatchesATilted|^MatchExcerpt[.]SearchesTheExcerpt'
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-emu --output-on-failure --timeout 900 -j "$(nproc)" -LE emu \
    -E "_test\$|^DeviceLaunches[.]|$long"

fi
# The fuzz targets (tests/fuzz), each for TOPDOWN_FUZZ_SECONDS (default 60; 0 skips), built
# with clang by scripts/fuzz.sh: a crash or sanitizer report fails the run.
if [ "${TOPDOWN_FUZZ_SECONDS:-60}" != "0" ]; then
  echo "test: fuzzing the session parser and the audio reader"
  scripts/fuzz.sh "${TOPDOWN_FUZZ_SECONDS:-60}"
fi
