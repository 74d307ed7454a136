// The EQ's bands as analog prototypes: the magnitude each band contributes at a frequency,
// from the s-domain transfer functions of R. Bristow-Johnson's "Cookbook formulae for audio
// EQ biquad filter coefficients" (the RBJ Audio EQ Cookbook), evaluated at s = j f / f0 on
// the analog frequency axis (no bilinear warping), and Butterworth magnitudes for the high-
// and low-pass slopes. The FIR that realises the product of the bands is designed in
// fir_design.h; this header is plain math.
#pragma once
#include <cmath>
#include <vector>

namespace td {

enum class EqBandType {
  kHighpass,
  kLowpass,
  kLowShelf,
  kHighShelf,
  kBell,
  kNotch,
  kBandpass,
  kTilt
};

struct EqBand {
  EqBandType type = EqBandType::kBell;
  double freq_hz = 1000.0;  // corner (pass filters, shelves), centre (bell, notch, bandpass),
                            // pivot (tilt)
  double gain_db = 0.0;     // shelves, bell, tilt
  double q = 0.0;           // 0: the type's default (0.7071 shelves, 1 bell/notch/bandpass)
  double slope = 0.0;       // pass filters: dB/octave (6 .. 96); shelves: RBJ's S (0 = use q)
};

// Butterworth order of a high- or low-pass slope (6 dB/octave per order).
inline int eq_pass_order(const EqBand& b) {
  return std::max(1, (int)std::lround((b.slope > 0 ? b.slope : 12.0) / 6.0));
}

// The quality factor a band uses: q when given; for shelves given by slope S, RBJ's
// 1/Q = sqrt((A + 1/A)(1/S - 1) + 2).
inline double eq_band_q(const EqBand& b) {
  if (b.q > 0) return b.q;
  switch (b.type) {
    case EqBandType::kLowShelf:
    case EqBandType::kHighShelf: {
      if (b.slope <= 0) return std::sqrt(0.5);
      const double a = std::pow(10.0, b.gain_db / 40.0);
      return 1.0 / std::sqrt((a + 1.0 / a) * (1.0 / b.slope - 1.0) + 2.0);
    }
    default:
      return 1.0;
  }
}

// One band with what does not depend on the frequency worked out once: a FIR design
// evaluates the magnitude at up to half a million frequencies, and the powers of ten and the
// quality factor per evaluation were most of a design's time.
struct EqBandCurve {
  EqBandType type = EqBandType::kBell;
  double freq_hz = 1000.0;
  double a = 1.0;       // RBJ's A = 10^(gain_db / 40)
  double q = 1.0;       // eq_band_q
  int twice_order = 2;  // high- and low-pass: 2 n, for (f/f0)^(2 n)
};

inline EqBandCurve eq_band_curve(const EqBand& b) {
  EqBandCurve c;
  c.type = b.type;
  c.freq_hz = b.freq_hz;
  c.a = std::pow(10.0, b.gain_db / 40.0);
  c.q = eq_band_q(b);
  c.twice_order = 2 * eq_pass_order(b);
  return c;
}

// x^n for a whole n >= 1, by squaring (exact to a few ulp; pow's generality costs more).
inline double eq_whole_power(double x, int n) {
  double r = 1.0;
  while (n > 0) {
    if (n & 1) r *= x;
    x *= x;
    n >>= 1;
  }
  return r;
}

// |H(j f)| of one band (linear magnitude).
inline double eq_band_magnitude(const EqBandCurve& b, double f_hz) {
  const double w = f_hz / b.freq_hz;  // normalised analog frequency
  const double w2 = w * w;
  const double a = b.a, q = b.q;
  auto ratio = [](double nr, double ni, double dr, double di) {
    return std::sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
  };
  switch (b.type) {
    case EqBandType::kHighpass:  // 1 / sqrt(1 + (f0/f)^2n)
      return w <= 0 ? 0.0 : 1.0 / std::sqrt(1.0 + 1.0 / eq_whole_power(w, b.twice_order));
    case EqBandType::kLowpass:  // 1 / sqrt(1 + (f/f0)^2n)
      return 1.0 / std::sqrt(1.0 + eq_whole_power(w, b.twice_order));
    case EqBandType::kLowShelf: {  // A (s^2 + (sqrt A/Q) s + A) / (A s^2 + (sqrt A/Q) s + 1)
      const double k = std::sqrt(a) / q * w;
      return a * ratio(a - w2, k, 1.0 - a * w2, k);
    }
    case EqBandType::kHighShelf: {  // A (A s^2 + (sqrt A/Q) s + 1) / (s^2 + (sqrt A/Q) s + A)
      const double k = std::sqrt(a) / q * w;
      return a * ratio(1.0 - a * w2, k, a - w2, k);
    }
    case EqBandType::kBell:  // (s^2 + s A/Q + 1) / (s^2 + s/(A Q) + 1)
      return ratio(1.0 - w2, w * a / q, 1.0 - w2, w / (a * q));
    case EqBandType::kNotch:  // (s^2 + 1) / (s^2 + s/Q + 1)
      return ratio(1.0 - w2, 0.0, 1.0 - w2, w / q);
    case EqBandType::kBandpass:  // (s/Q) / (s^2 + s/Q + 1), 0 dB at the centre
      return ratio(0.0, w / q, 1.0 - w2, w / q);
    case EqBandType::kTilt: {
      // First order, G (s + 1/G) / (s + G) with G = 10^(gain_db/40): -gain_db/2 at DC,
      // +gain_db/2 at high frequencies, 0 dB at the pivot.
      return a * ratio(1.0 / a, w, a, w);
    }
  }
  return 1.0;
}

inline double eq_band_magnitude(const EqBand& b, double f_hz) {
  return eq_band_magnitude(eq_band_curve(b), f_hz);
}

// The product of the bands' magnitudes, the bands prepared once (eq_curve) for a design's
// many frequencies.
struct EqCurve {
  std::vector<EqBandCurve> bands;
  double operator()(double f_hz) const {
    double m = 1.0;
    for (const auto& b : bands) m *= eq_band_magnitude(b, f_hz);
    return m;
  }
};

inline EqCurve eq_curve(const std::vector<EqBand>& bands) {
  EqCurve c;
  for (const auto& b : bands) c.bands.push_back(eq_band_curve(b));
  return c;
}

inline double eq_magnitude(const std::vector<EqBand>& bands, double f_hz) {
  return eq_curve(bands)(f_hz);
}

// How long a linear-phase FIR must be (seconds, all taps) to meet the band's analog
// magnitude within 0.1 dB at 1/12-octave points from 30 Hz up, wherever the band is above
// -40 dB. A FIR resolves frequency only to about 1/duration, so the rule follows the
// band's finest feature, measured (tests/kernels/eq_test.cpp scans it):
//  - resonances: a pole or zero pair with quality factor Q at f rings with time constant
//    tau = Q / (pi f); 45 tau covers the ringing (bells: Q A or Q / A for boost or cut;
//    shelves: Q at f / sqrt(A) and f sqrt(A); tilt: first order, 1 / (2 pi f min(G, 1/G)));
//  - Butterworth slopes of order n: the curvature of f^n in the stop band scales as n / f,
//    taken at the -40 dB frequency (high-pass: not below 30 Hz); 7 n / f;
//  - magnitudes with a kink (an odd-order zero: |f| at DC for odd high-pass orders and the
//    band-pass, |f - f0| at a notch) decay slowly in time; 0.35 s covers the DC kink down
//    to 30 Hz, 120 tau the notch's.
inline double eq_band_fir_duration_s(const EqBand& b) {
  const double pi = 3.14159265358979323846;
  const double a = std::pow(10.0, b.gain_db / 40.0);
  const double q = eq_band_q(b);
  switch (b.type) {
    case EqBandType::kHighpass: {
      const int n = eq_pass_order(b);
      const double f40 = std::max(30.0, b.freq_hz * std::pow(10.0, -2.0 / n));
      return 7.0 * n / f40;
    }
    case EqBandType::kLowpass:
      return 7.0 * eq_pass_order(b) / b.freq_hz;
    case EqBandType::kLowShelf:
    case EqBandType::kHighShelf:
      return 45.0 * q / (pi * b.freq_hz * std::min(std::sqrt(a), 1.0 / std::sqrt(a)));
    case EqBandType::kBell:
      return 45.0 * q * std::max(a, 1.0 / a) / (pi * b.freq_hz);
    case EqBandType::kNotch:
      return 120.0 * q / (pi * b.freq_hz);
    case EqBandType::kBandpass:
      return std::max(0.35, 45.0 * q / (pi * b.freq_hz));
    case EqBandType::kTilt:
      return 45.0 / (2.0 * pi * b.freq_hz * std::min(a, 1.0 / a));
  }
  return 0.0;
}

}  // namespace td
