// ITU-R BS.1770-4 K-weighting and the per-hop mean-square energies the gated loudness
// is computed from. The filter is the standard's two biquads (high shelf, then the RLB
// high-pass), derived from their analog prototypes so that any sample rate works; the
// constants are those of libebur128's ebur128_init_filter, which reproduce the
// standard's 48 kHz coefficients to double precision.
#pragma once
#include <cmath>

#include "td_hd.h"

namespace td {

struct Biquad {
  double b0, b1, b2, a1, a2;
};

struct KWeighting {
  Biquad shelf;
  Biquad highpass;
};

inline KWeighting design_kweighting(double sample_rate) {
  const double pi = 3.14159265358979323846;
  KWeighting k{};
  {
    const double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
    const double K = std::tan(pi * f0 / sample_rate);
    const double vh = std::pow(10.0, gain_db / 20.0);
    const double vb = std::pow(vh, 0.4996667741545416);
    const double a0 = 1.0 + K / q + K * K;
    k.shelf = {(vh + vb * K / q + K * K) / a0, 2.0 * (K * K - vh) / a0,
               (vh - vb * K / q + K * K) / a0, 2.0 * (K * K - 1.0) / a0,
               (1.0 - K / q + K * K) / a0};
  }
  {
    const double f0 = 38.13547087602444, q = 0.5003270373238773;
    const double K = std::tan(pi * f0 / sample_rate);
    const double a0 = 1.0 + K / q + K * K;
    k.highpass = {1.0, -2.0, 1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / q + K * K) / a0};
  }
  return k;
}

// The state of the two K-weighting biquads (transposed direct form II), in double as in
// libebur128: the RLB pole sits within 0.5 % of the unit circle at 48 kHz, where float
// state would add error to quiet passages.
struct KWeightState {
  double s1 = 0.0, s2 = 0.0, h1 = 0.0, h2 = 0.0;
};

// One sample through the filter: returns the K-weighted value. The only per-sample math
// of the meter; the scalar loop, the SIMD-lane loop and the CUDA kernel all call it.
TD_HD double kweight_step(const KWeighting& k, double& s1, double& s2, double& h1, double& h2,
                          double in) {
  const double y1 = k.shelf.b0 * in + s1;
  s1 = k.shelf.b1 * in - k.shelf.a1 * y1 + s2;
  s2 = k.shelf.b2 * in - k.shelf.a2 * y1;
  const double y2 = k.highpass.b0 * y1 + h1;
  h1 = k.highpass.b1 * y1 - k.highpass.a1 * y2 + h2;
  h2 = k.highpass.b2 * y1 - k.highpass.a2 * y2;
  return y2;
}

// K-weights one channel and writes the sum of squares of each hop of hop_frames samples
// (the last hop may be partial) to hop_energy[0 .. ceil(frames / hop_frames)).
// A recurrence: one GPU thread per stream.
TD_HD void kweight_hop_energies(const float* x, long long frames, const KWeighting& k,
                                long long hop_frames, double* hop_energy) {
  KWeightState st;  // a local copy: registers on the GPU
  long long hop = 0;
  for (long long start = 0; start < frames; start += hop_frames, ++hop) {
    const long long end = start + hop_frames < frames ? start + hop_frames : frames;
    double acc = 0.0;
    for (long long n = start; n < end; ++n) {
      const double y = kweight_step(k, st.s1, st.s2, st.h1, st.h2, x[n]);
      acc += y * y;
    }
    hop_energy[hop] = acc;
  }
}

// The same for `Lanes` streams at once, lane l reading x[l]: the lane loop is innermost
// so the compiler runs the lanes in SIMD registers (lanes = streams, as DESIGN section 3
// asks of recurrences on the CPU). Each lane's arithmetic is exactly the scalar loop's, so
// the energies are bit-identical to kweight_hop_energies'.
template <int Lanes>
inline void kweight_hop_energies_lanes(const float* const* x, long long frames, const KWeighting& k,
                                       long long hop_frames, double* const* hop_energy) {
  double s1[Lanes] = {}, s2[Lanes] = {}, h1[Lanes] = {}, h2[Lanes] = {};
  long long hop = 0;
  for (long long start = 0; start < frames; start += hop_frames, ++hop) {
    const long long end = start + hop_frames < frames ? start + hop_frames : frames;
    double acc[Lanes] = {};
    for (long long n = start; n < end; ++n) {
      double in[Lanes];
      for (int l = 0; l < Lanes; ++l) in[l] = x[l][n];
      for (int l = 0; l < Lanes; ++l) {
        const double y = kweight_step(k, s1[l], s2[l], h1[l], h2[l], in[l]);
        acc[l] += y * y;
      }
    }
    for (int l = 0; l < Lanes; ++l) hop_energy[l][hop] = acc[l];
  }
}

}  // namespace td
