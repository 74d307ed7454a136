#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: the session parser and plan, the audio reader)
# with clang, AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/, then runs each
# for SECONDS (default 60) from its regression corpus (tests/fuzz/corpus/<target>/; new
# inputs go to build-fuzz/corpus-<target>/, not into the repository). A crash, leak or
# sanitizer report fails the run; the input that caused it is left in build-fuzz/ (add it
# to the corpus once fixed). The seed is fixed (TOPDOWN_FUZZ_SEED, default 1) so that a CI
# run explores what a local run of the same length did; set another to explore further.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (scripts/setup.sh installs it)" >&2
  exit 1
fi
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
# -O1 with line tables: libFuzzer's usual level, and half the sanitized compile time.
cmake -S . -B build-fuzz "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTOPDOWN_FUZZ=ON -DTOPDOWN_CUDA=OFF \
  -DTOPDOWN_BENCH=OFF >/dev/null
cmake --build build-fuzz --parallel "$(nproc)" --target session_fuzz audio_fuzz
for target in session audio; do
  work="build-fuzz/corpus-$target"
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/$target/* "$work/" 2>/dev/null || true
  echo "fuzz: $target for ${seconds} s"
  (cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "./tests/${target}_fuzz" -seed="${TOPDOWN_FUZZ_SEED:-1}" -max_total_time="$seconds" \
    -max_len=8192 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 "corpus-$target" 2>&1 | tail -12)
done
