// True-peak measurement after ITU-R BS.1770-4 Annex 2: the signal is oversampled 4x by a
// polyphase FIR interpolator and the largest absolute interpolated value is the true peak.
#pragma once
#include <cmath>

#include "td_hd.h"

namespace td {

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
    peak = fmaxf(peak, fabsf(acc));
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
    peak = fmaxf(peak, fabsf(acc));
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
    peak = fmaxf(peak, interior ? true_peak_interior(x, n, f) : true_peak_at_edge(x, frames, n, f));
  }
  return peak;
}

}  // namespace td
