#!/usr/bin/env bash
# Regenerates kernels/fftw_wisdom.inc: FFTW_MEASURE's plans for the transforms topdown uses
# (2^8 .. 2^18 points), measured on this machine, one size per process (about 30 s; keep
# the machine otherwise idle), then prints each size's time with FFTW_ESTIMATE alone and
# with the new wisdom. Run it after an FFTW upgrade or to tune for another CPU, then
# rebuild. Renders plan from the shipped wisdom, so they stay bit-identical run to run
# (docs/architecture.md, "FFT plans").
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
c++ -O2 -std=c++17 scripts/fftw_wisdom.cpp -o "$tmp/fftw_wisdom" -lfftw3f
files=()
for log2n in $(seq 8 18); do
  "$tmp/fftw_wisdom" plan $((1 << log2n)) "$tmp/w$log2n"
  files+=("$tmp/w$log2n")
done
"$tmp/fftw_wisdom" merge "$tmp/fftw_wisdom.inc" "${files[@]}"
sed -n '/^R"FFTW_WISDOM(/,/)FFTW_WISDOM"$/p' "$tmp/fftw_wisdom.inc" |
  sed -e 's/^R"FFTW_WISDOM(//' -e 's/)FFTW_WISDOM"$//' > "$tmp/merged"
echo "size   estimate (ms per r2c + c2r)   wisdom (ms)"
for log2n in $(seq 8 18); do
  n=$((1 << log2n))
  printf '2^%-4s %-29s %s\n' "$log2n" "$("$tmp/fftw_wisdom" time $n)" \
    "$("$tmp/fftw_wisdom" time $n "$tmp/merged")"
done
mv "$tmp/fftw_wisdom.inc" kernels/fftw_wisdom.inc
echo "wrote kernels/fftw_wisdom.inc"
