// ITU-R BS.1770-4 K-weighting. The filter is the standard's two biquads (high shelf, then the RLB
// high-pass), derived from their analog prototypes so that any sample rate works; the
// constants are those of libebur128's ebur128_init_filter, which reproduce the
// standard's 48 kHz coefficients to double precision.
#pragma once
#include <algorithm>
#include <cmath>

#include "td_hd.h"

namespace td {

struct Biquad {
  double b0, b1, b2, a1, a2;
};

// The meters restart the K-weighting every kMeterRestartHops hops of the song from the
// state the filter reaches from rest over the warm_hops hops before (meters.h), so that a
// song's meter can be cut into chunks at those hops and still give one result.
constexpr long long kMeterRestartHops = 128;

struct KWeighting {
  Biquad shelf;
  Biquad highpass;
  int warm_hops;  // 48 time constants of the RLB high-pass's double pole, in 10 ms hops
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
  // The warm-up: the high-pass's double pole at radius sqrt(a2); 48 time constants take a
  // difference of states below a double's resolution (about 9600 samples at 48 kHz).
  const double hop = std::round(sample_rate / 100.0);
  const double warm = 48.0 / -std::log(std::sqrt(k.highpass.a2)) + 2.0;
  const double hops = std::ceil(warm / hop);
  k.warm_hops = (int)std::min<double>(std::max(1.0, hops), kMeterRestartHops / 2);
  return k;
}

// The state of the two K-weighting biquads (transposed direct form II) is kept in double,
// as in libebur128: the RLB pole sits within 0.5 % of the unit circle at 48 kHz, where
// float state would add error to quiet passages.
// One sample through the filter: returns the K-weighted value. The only per-sample math
// of the meter; the scalar loop, the CUDA kernel (T = double) and the CPU's SIMD lanes
// (T = a GCC vector of doubles, each lane the same operations) all call it.
template <typename T>
struct KweightInput {  // `in` takes T's type from the state (a float input converts)
  typedef T type;
};
template <typename T>
TD_HD T kweight_step(const KWeighting& k, T& s1, T& s2, T& h1, T& h2,
                     typename KweightInput<T>::type in) {
  const T y1 = k.shelf.b0 * in + s1;
  s1 = k.shelf.b1 * in - k.shelf.a1 * y1 + s2;
  s2 = k.shelf.b2 * in - k.shelf.a2 * y1;
  const T y2 = k.highpass.b0 * y1 + h1;
  h1 = k.highpass.b1 * y1 - k.highpass.a1 * y2 + h2;
  h2 = k.highpass.b2 * y1 - k.highpass.a2 * y2;
  return y2;
}

}  // namespace td
