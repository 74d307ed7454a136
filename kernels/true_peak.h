// True-peak measurement after ITU-R BS.1770-4 Annex 2: the signal is oversampled by a
// polyphase FIR interpolator and the largest absolute interpolated value is the true peak.
#pragma once
#include <cmath>

#include "fast_math.h"
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
// |a| as the bits of a non-negative float. For those, the unsigned order of the bits is
// the order of the values, so the largest |x| of a stretch is an integer max: exact and
// the same in any order or vector width (compilers vectorise it, where a float max's
// NaN and signed-zero rules keep them scalar), a zero is always +0, and a NaN, whose
// bits exceed every number's, is kept wherever it falls.
TD_HD unsigned abs_bits(float a) {
  return bits_of_float(a) & 0x7fffffffu;
}
TD_HD unsigned max_bits(unsigned a, unsigned b) {
  return a > b ? a : b;
}

constexpr int kMaxTruePeakPhases = 16;
constexpr int kTruePeakTaps = 16;                    // per phase
constexpr int kTruePeakHistory = kTruePeakTaps - 1;  // samples an output reads before x[n]

struct TruePeakFilter {
  int phases;
  // phase p, tap k: weight of x[n - k] in the interpolated value at n - delay + p / phases.
  float h[kMaxTruePeakPhases][kTruePeakTaps];
  // The same for 4 phases, tap-major, so the 4 phases of a sample are one SIMD register.
  float h4[kTruePeakTaps][4];
};

// The oversampling factor: BS.1770-4 Annex 2 asks for 4x at 48 kHz and more at lower rates
// (the interpolated rate should reach about 192 kHz): ceil(176400 / rate), 4 .. 16.
inline int true_peak_phases(double sample_rate) {
  const int p = (int)std::ceil(176400.0 / sample_rate - 1e-9);
  return p < 4 ? 4 : (p > kMaxTruePeakPhases ? kMaxTruePeakPhases : p);
}

// Kaiser-windowed sinc (beta 8, 16 taps per phase, cutoff at the original Nyquist),
// designed in double, each phase normalised to unity DC gain. Its passband error is far
// inside the +0.2/-0.4 dB tolerance EBU Tech 3341 allows a true-peak meter. The sinc is
// centred on a tap of phase 0, whose other taps fall on the sinc's zeros: phase 0 returns
// the input samples exactly (a Nyquist filter), so the true peak is never below the sample
// peak, and the sample peak is a floor that lets the search skip most of a signal.
inline TruePeakFilter design_true_peak_filter(double sample_rate = 48000.0) {
  const double pi = 3.14159265358979323846, beta = 8.0;
  TruePeakFilter f{};
  f.phases = true_peak_phases(sample_rate);
  const int n = f.phases * kTruePeakTaps;
  auto bessel_i0 = [](double v) {
    double sum = 1.0, term = 1.0;
    for (int k = 1; k < 60; ++k) {
      term *= (v / (2.0 * k)) * (v / (2.0 * k));
      sum += term;
    }
    return sum;
  };
  const double centre = n / 2;  // a multiple of the phase count
  for (int p = 0; p < f.phases; ++p) {
    double taps[kTruePeakTaps], sum = 0.0;
    for (int k = 0; k < kTruePeakTaps; ++k) {
      const int i = p + k * f.phases;
      const double t = (i - centre) / f.phases;  // in input samples
      const double sinc = i == (int)centre                    ? 1.0
                          : (i - (int)centre) % f.phases == 0 ? 0.0  // the sinc's exact zeros
                                                              : std::sin(pi * t) / (pi * t);
      const double r = (i - centre) / centre;
      taps[k] = sinc * bessel_i0(beta * std::sqrt(std::fmax(0.0, 1.0 - r * r))) / bessel_i0(beta);
      sum += taps[k];
    }
    for (int k = 0; k < kTruePeakTaps; ++k) f.h[p][k] = (float)(taps[k] / sum);
  }
  for (int k = 0; k < kTruePeakTaps; ++k)
    for (int p = 0; p < 4; ++p) f.h4[k][p] = p < f.phases ? f.h[p][k] : 0.0f;
  return f;
}

// The largest factor by which interpolation can exceed the input's magnitude: the largest
// sum of |h| over the phases. An interpolated value is at most this times the largest |x|
// among the taps it reads.
inline float true_peak_gain_bound(const TruePeakFilter& f) {
  float bound = 0.0f;
  for (int p = 0; p < f.phases; ++p) {
    float sum = 0.0f;
    for (int k = 0; k < kTruePeakTaps; ++k) sum += abs_of(f.h[p][k]);
    bound = max_of(bound, sum);
  }
  return bound * 1.0001f;  // margin for the float rounding of the sums
}

// A segment of a stream: x[0 .. frames), preceded by history[0 .. kTruePeakHistory) (the
// stream's previous samples, oldest first; zeros at the start of the song). Samples at
// and after `frames` read as silence, which is how the filter's tail after the song's
// last sample is measured.
struct TruePeakInput {
  const float* x;
  long long frames;
  const float* history;
  TD_HD float at(long long i) const {
    return i >= 0 ? (i < frames ? x[i] : 0.0f) : history[kTruePeakHistory + i];
  }
};

// The interpolated values whose newest input is sample n.
TD_HD float true_peak_at(const TruePeakInput& in, long long n, const TruePeakFilter& f) {
  float peak = 0.0f;
  const bool interior = n >= kTruePeakHistory && n < in.frames;
  if (interior && f.phases == 4) {
    // The common case (44.1 and 48 kHz and up): the same sums as below, tap by tap in the
    // same order for each phase, with the phases side by side (vectorisable).
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int k = 0; k < kTruePeakTaps; ++k) {
      const float v = in.x[n - k];
      for (int p = 0; p < 4; ++p) acc[p] += f.h4[k][p] * v;
    }
    for (int p = 0; p < 4; ++p) peak = max_of(peak, abs_of(acc[p]));
    return peak;
  }
  for (int p = 0; p < f.phases; ++p) {
    float acc = 0.0f;
    if (interior)
      for (int k = 0; k < kTruePeakTaps; ++k) acc += f.h[p][k] * in.x[n - k];
    else
      for (int k = 0; k < kTruePeakTaps; ++k) acc += f.h[p][k] * in.at(n - k);
    peak = max_of(peak, abs_of(acc));
  }
  return peak;
}

// The interpolated values of the kTruePeakTaps consecutive outputs [b, b + 16), all
// interior, at 4 phases: true_peak_at's sums, tap by tap in the same order for each output
// (the same bits), with the outputs side by side. Vectorised along time, one register of 16
// outputs per phase, where true_peak_at fills a register with one output's 4 phases: a
// quarter of the instructions on AVX-512.
TD_HD float true_peak_block4(const float* x, long long b, const TruePeakFilter& f) {
  float peak = 0.0f;
  for (int p = 0; p < 4; ++p) {
    float acc[kTruePeakTaps];
    for (int i = 0; i < kTruePeakTaps; ++i) acc[i] = 0.0f;
    for (int k = 0; k < kTruePeakTaps; ++k) {
      const float w = f.h[p][k];
      TD_SIMD for (int i = 0; i < kTruePeakTaps; ++i) acc[i] += w * x[b + i - k];
    }
    unsigned m = 0;
    for (int i = 0; i < kTruePeakTaps; ++i) m = max_bits(m, abs_bits(acc[i]));
    peak = max_of(peak, float_of_bits(m));
  }
  return peak;
}

TD_HD float true_peak_range(const TruePeakInput& in, const TruePeakFilter& f, long long begin,
                            long long end) {
  float peak = 0.0f;
  long long n = begin;
  if (f.phases == 4)
    for (; n >= kTruePeakHistory && n + kTruePeakTaps <= end && n + kTruePeakTaps <= in.frames;
         n += kTruePeakTaps)
      peak = max_of(peak, true_peak_block4(in.x, n, f));
  for (; n < end; ++n) peak = max_of(peak, true_peak_at(in, n, f));
  return peak;
}

// Same result as true_peak_range, exactly, but interpolates only where the peak can be:
// blocks whose inputs are all so small that even the gain bound cannot reach the largest
// value found so far are skipped. The block with the largest input is done first, so on
// music most blocks are skipped (about 5x faster measured on the benchmark's master).
// Skipping never changes the maximum. `floor` is a peak already found elsewhere (earlier
// segments): blocks that cannot exceed it are skipped too, and a return value below the
// floor then only means "nothing here beats it".
TD_HD float true_peak_range_pruned(const TruePeakInput& in, const TruePeakFilter& f,
                                   float gain_bound, long long begin, long long end,
                                   float floor = 0.0f) {
  const int block = kTruePeakTaps;
  auto block_max = [&](long long b) {  // largest |x| among inputs [b, b + block)
    float m = 0.0f;
    if (b >= 0 && b + block <= in.frames) {  // the common case, branch-free (vectorised)
      unsigned bits = 0;
      for (int i = 0; i < block; ++i) bits = max_bits(bits, abs_bits(in.x[b + i]));
      return float_of_bits(bits);
    }
    // Inputs before the history do not exist (block begin - 16 reaches one sample past it;
    // outputs read no further back than sample -15).
    const long long lo = b > -kTruePeakHistory ? b : -kTruePeakHistory;
    const long long hi = b + block < in.frames ? b + block : in.frames;
    for (long long i = lo; i < hi; ++i) m = max_of(m, abs_of(in.at(i)));
    return m;
  };
  float peak = 0.0f;
  if (floor <= 0.0f) {  // no floor yet: start with the loudest block's outputs
    long long loudest = begin;
    float loudest_max = -1.0f;
    for (long long b = begin; b < end; b += block) {
      const float m = max_of(block_max(b - block), block_max(b));
      if (m > loudest_max) loudest_max = m, loudest = b;
    }
    peak = true_peak_range(in, f, loudest, loudest + block < end ? loudest + block : end);
  }
  // Outputs [b, b + block) read inputs [b - 15, b + 15]: within blocks b - 16 and b.
  float previous = block_max(begin - block);
  for (long long b = begin; b < end; b += block) {
    const float current = block_max(b);
    const float reach = max_of(previous, current) * gain_bound;
    previous = current;
    if (reach <= max_of(peak, floor)) continue;
    peak = max_of(peak, true_peak_range(in, f, b, b + block < end ? b + block : end));
  }
  return peak;
}

}  // namespace td
