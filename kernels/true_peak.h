// True-peak measurement after ITU-R BS.1770-4 Annex 2: the signal is oversampled 4x by a
// polyphase FIR interpolator and the largest absolute interpolated value is the true peak.
#pragma once
#include <cmath>

#include "td_hd.h"

namespace td {

// max and |x| as plain comparisons: fmaxf's NaN rules make compilers call libm for it
// instead of vectorising (measured: a third of the true-peak time). Stems are checked for
// NaN on input, so the NaN rules are never needed here.
TD_HD float max_of(float a, float b) {
  return a > b ? a : b;
}
TD_HD float abs_of(float a) {
  return a < 0.0f ? -a : a;
}

constexpr int kTruePeakPhases = 4;
constexpr int kTruePeakTaps = 16;  // per phase

struct TruePeakFilter {
  // phase p, tap k: weight of x[n - k] in the interpolated value at n - delay + p / 4.
  float h[kTruePeakPhases][kTruePeakTaps];
};

// Kaiser-windowed sinc (beta 8, 64 taps, cutoff at the original Nyquist), designed in
// double, each phase normalised to unity DC gain. Its passband error is far inside the
// +0.2/-0.4 dB tolerance EBU Tech 3341 allows a true-peak meter.
inline TruePeakFilter design_true_peak_filter() {
  const double pi = 3.14159265358979323846, beta = 8.0;
  const int n = kTruePeakPhases * kTruePeakTaps;
  auto bessel_i0 = [](double v) {
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 60; ++k) {
      term *= (v / (2.0 * k)) * (v / (2.0 * k));
      sum += term;
    }
    return sum;
  };
  double taps[kTruePeakPhases * kTruePeakTaps];
  const double centre = (n - 1) / 2.0;
  for (int i = 0; i < n; ++i) {
    const double t = (i - centre) / kTruePeakPhases;  // in input samples
    const double sinc = t == 0.0 ? 1.0 : std::sin(pi * t) / (pi * t);
    const double r = (i - centre) / centre;
    const double w = bessel_i0(beta * std::sqrt(std::fmax(0.0, 1.0 - r * r))) / bessel_i0(beta);
    taps[i] = sinc * w;
  }
  TruePeakFilter f{};
  for (int p = 0; p < kTruePeakPhases; ++p) {
    double sum = 0.0;
    for (int k = 0; k < kTruePeakTaps; ++k) sum += taps[p + k * kTruePeakPhases];
    for (int k = 0; k < kTruePeakTaps; ++k)
      f.h[p][k] = (float)(taps[p + k * kTruePeakPhases] / sum);
  }
  return f;
}

// The 4 interpolated values whose newest input is x[n] (x[n - k] for k < taps must be
// readable: the caller guarantees it or uses true_peak_at_edge).
TD_HD float true_peak_interior(const float* x, long long n, const TruePeakFilter& f) {
  float peak = 0.0f;
  for (int p = 0; p < kTruePeakPhases; ++p) {
    float acc = 0.0f;
    for (int k = 0; k < kTruePeakTaps; ++k) acc += f.h[p][k] * x[n - k];
    peak = max_of(peak, abs_of(acc));
  }
  return peak;
}

// Same near the ends of a stream of `frames` samples: outside counts as silence.
TD_HD float true_peak_at_edge(const float* x, long long frames, long long n,
                              const TruePeakFilter& f) {
  float peak = 0.0f;
  for (int p = 0; p < kTruePeakPhases; ++p) {
    float acc = 0.0f;
    for (int k = 0; k < kTruePeakTaps; ++k) {
      const long long i = n - k;
      acc += f.h[p][k] * ((i >= 0 && i < frames) ? x[i] : 0.0f);
    }
    peak = max_of(peak, abs_of(acc));
  }
  return peak;
}

// Largest interpolated |x| for newest-input positions [begin, end), where end may reach
// frames + taps - 1 so the filter's tail after the last sample is included. Pure FIR:
// chunks are independent and their maxima combine in any order to the same value.
TD_HD float true_peak_range(const float* x, long long frames, const TruePeakFilter& f,
                            long long begin, long long end) {
  float peak = 0.0f;
  for (long long n = begin; n < end; ++n) {
    const bool interior = n >= kTruePeakTaps - 1 && n < frames;
    peak =
        max_of(peak, interior ? true_peak_interior(x, n, f) : true_peak_at_edge(x, frames, n, f));
  }
  return peak;
}

// The largest factor by which interpolation can exceed the input's magnitude: the largest
// sum of |h| over the phases. An interpolated value near x[n] is at most this times the
// largest |x| among the taps it reads.
inline float true_peak_gain_bound(const TruePeakFilter& f) {
  float bound = 0.0f;
  for (int p = 0; p < kTruePeakPhases; ++p) {
    float sum = 0.0f;
    for (int k = 0; k < kTruePeakTaps; ++k) sum += abs_of(f.h[p][k]);
    bound = max_of(bound, sum);
  }
  return bound * 1.0001f;  // margin for the float rounding of the sums
}

// Same result as true_peak_range, exactly, but interpolates only where the peak can be:
// blocks of kTruePeakTaps outputs whose inputs are all so small that even the bound above
// cannot reach the largest value found so far are skipped. The block with the largest
// input is done first, so on music most blocks are skipped (about 5x faster measured on
// the benchmark's master). Skipping never changes the maximum.
TD_HD float true_peak_range_pruned(const float* x, long long frames, const TruePeakFilter& f,
                                   float gain_bound, long long begin, long long end) {
  const int block = kTruePeakTaps;
  auto input_max = [&](long long b) {  // largest |x| read by outputs [b, b + block)
    float m = 0.0f;
    const long long lo = b - (kTruePeakTaps - 1) > 0 ? b - (kTruePeakTaps - 1) : 0;
    const long long hi = b + block < frames ? b + block : frames;
    for (long long i = lo; i < hi; ++i) m = max_of(m, abs_of(x[i]));
    return m;
  };
  long long loudest = begin;
  float loudest_max = -1.0f;
  for (long long b = begin; b < end; b += block) {
    const float m = input_max(b);
    if (m > loudest_max) {
      loudest_max = m;
      loudest = b;
    }
  }
  float peak =
      true_peak_range(x, frames, f, loudest, loudest + block < end ? loudest + block : end);
  for (long long b = begin; b < end; b += block) {
    if (b == loudest || input_max(b) * gain_bound <= peak) continue;
    peak = max_of(peak, true_peak_range(x, frames, f, b, b + block < end ? b + block : end));
  }
  return peak;
}

}  // namespace td
