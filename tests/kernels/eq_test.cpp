// The EQ's analog prototypes (kernels/eq.h) against the RBJ Audio EQ Cookbook's digital
// biquads, and the FIR designs (kernels/fir_design.h) against the prototypes.
//
// The cookbook designs its biquads by the bilinear transform with s = (z - 1) / (z + 1) /
// tan(w0 / 2), so a biquad's response at digital frequency fd equals the analog
// prototype's at f / f0 = tan(pi fd / fs) / tan(pi f0 / fs). Evaluating the cookbook's own
// coefficient formulas there checks every prototype formula independently (same numbers
// to rounding: 1e-9 dB).
#include "kernels/eq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "kernels/fir_design.h"

namespace td {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Biquad {
  double b0, b1, b2, a0, a1, a2;
  double magnitude(double fd, double fs) const {
    const std::complex<double> z1 = std::polar(1.0, -2.0 * kPi * fd / fs), z2 = z1 * z1;
    return std::abs((b0 + b1 * z1 + b2 * z2) / (a0 + a1 * z1 + a2 * z2));
  }
};

// The cookbook's coefficients, transcribed from the text.
Biquad cookbook(const std::string& type, double f0, double fs, double gain_db, double q) {
  const double A = std::pow(10.0, gain_db / 40.0), w0 = 2 * kPi * f0 / fs;
  const double c = std::cos(w0), alpha = std::sin(w0) / (2 * q), sa = 2 * std::sqrt(A) * alpha;
  if (type == "lowpass") return {(1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha};
  if (type == "highpass") return {(1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha};
  if (type == "bandpass") return {alpha, 0, -alpha, 1 + alpha, -2 * c, 1 - alpha};
  if (type == "notch") return {1, -2 * c, 1, 1 + alpha, -2 * c, 1 - alpha};
  if (type == "bell")
    return {1 + alpha * A, -2 * c, 1 - alpha * A, 1 + alpha / A, -2 * c, 1 - alpha / A};
  if (type == "lowshelf")
    return {A * ((A + 1) - (A - 1) * c + sa), 2 * A * ((A - 1) - (A + 1) * c),
            A * ((A + 1) - (A - 1) * c - sa), (A + 1) + (A - 1) * c + sa,
            -2 * ((A - 1) + (A + 1) * c),     (A + 1) + (A - 1) * c - sa};
  // highshelf
  return {A * ((A + 1) + (A - 1) * c + sa), -2 * A * ((A - 1) + (A + 1) * c),
          A * ((A + 1) + (A - 1) * c - sa), (A + 1) - (A - 1) * c + sa,
          2 * ((A - 1) - (A + 1) * c),      (A + 1) - (A - 1) * c - sa};
}

double db(double x) {
  return 20.0 * std::log10(x);
}

TEST(EqPrototype, EveryCookbookShapeMatchesItsBiquadOnThePrewarpedAxis) {
  const double fs = 48000;
  struct Case {
    const char* type;
    EqBandType t;
    double f0, gain_db, q;
  } cases[] = {
      {"lowpass", EqBandType::kLowpass, 1000, 0, std::sqrt(0.5)},  // 12 dB/oct Butterworth
      {"highpass", EqBandType::kHighpass, 80, 0, std::sqrt(0.5)},
      {"bandpass", EqBandType::kBandpass, 2000, 0, 2},
      {"notch", EqBandType::kNotch, 1000, 0, 4},
      {"bell", EqBandType::kBell, 400, -2, 1.2},
      {"bell", EqBandType::kBell, 10000, 6, 0.7},
      {"lowshelf", EqBandType::kLowShelf, 100, 6, 0.7071},
      {"highshelf", EqBandType::kHighShelf, 8000, -4, 1.5},
  };
  for (const auto& c : cases) {
    EqBand b;
    b.type = c.t;
    b.freq_hz = c.f0;
    b.gain_db = c.gain_db;
    if (c.t != EqBandType::kLowpass && c.t != EqBandType::kHighpass) b.q = c.q;
    b.slope = 12;
    const Biquad bq = cookbook(c.type, c.f0, fs, c.gain_db, c.q);
    for (double fd = 20; fd < 20000; fd *= std::pow(2.0, 1.0 / 12)) {
      const double fa = c.f0 * std::tan(kPi * fd / fs) / std::tan(kPi * c.f0 / fs);
      const double proto = eq_band_magnitude(b, fa), digital = bq.magnitude(fd, fs);
      if (proto < 1e-6) continue;  // the notch's zero
      EXPECT_NEAR(db(proto), db(digital), 1e-7) << c.type << " " << c.f0 << " at " << fd;
    }
  }
}

TEST(EqPrototype, ButterworthSlopesTiltAndShelfSlope) {
  for (int slope : {6, 12, 18, 24, 36, 48, 72, 96}) {
    EqBand hp{EqBandType::kHighpass, 100, 0, 0, (double)slope};
    EXPECT_NEAR(db(eq_band_magnitude(hp, 100)), -3.0103, 1e-4);  // -3 dB at the corner
    // Far from the corner each order gives 20 log10(2) = 6.02 dB per octave (the "6 dB"
    // of the slope's name).
    const double per_octave = slope / 6 * 20 * std::log10(2.0);
    EXPECT_NEAR(db(eq_band_magnitude(hp, 0.1)) - db(eq_band_magnitude(hp, 0.2)), -per_octave, 1e-3);
    EqBand lp{EqBandType::kLowpass, 100, 0, 0, (double)slope};
    EXPECT_NEAR(db(eq_band_magnitude(lp, 200000)) - db(eq_band_magnitude(lp, 100000)), -per_octave,
                1e-2);
  }
  EqBand tilt{EqBandType::kTilt, 1000, 6, 0, 0};  // -3 dB at DC, +3 dB at the top
  EXPECT_NEAR(db(eq_band_magnitude(tilt, 1000)), 0.0, 1e-9);
  EXPECT_NEAR(db(eq_band_magnitude(tilt, 1e-3)), -3.0, 1e-3);
  EXPECT_NEAR(db(eq_band_magnitude(tilt, 1e7)), 3.0, 1e-3);
  // RBJ: S = 1 is Q = 1/sqrt(2) whatever the gain.
  EqBand shelf{EqBandType::kLowShelf, 100, 9, 0, 1.0};
  EXPECT_NEAR(eq_band_q(shelf), std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(db(eq_band_magnitude(shelf, 1)), 9.0, 1e-3);
}

// The magnitude of a designed FIR against the prototype at 1/12-octave points 30 Hz -
// 20 kHz wherever the prototype is above -40 dB.
double worst_error_db(const std::vector<EqBand>& bands, FirPhase phase, double fs) {
  double duration = 0;
  for (const auto& b : bands) duration = std::max(duration, eq_band_fir_duration_s(b));
  const FirShape shape = fir_shape(fir_taps_for(duration, fs), phase);
  const auto h = design_fir([&](double f) { return eq_magnitude(bands, f); }, fs, shape, phase);
  double worst = 0;
  for (double f = 30; f <= 20000; f *= std::pow(2.0, 1.0 / 12)) {
    const double p = db(eq_magnitude(bands, f));
    if (p < -40) continue;
    worst = std::max(worst, std::fabs(db(std::abs(fir_response(h, f, fs))) - p));
  }
  return worst;
}

TEST(FirDesign, TheTapRuleMeetsATenthOfADecibelAt44And96Kilohertz) {
  // The render tests check 48 kHz; the rule is in seconds, so other rates hold too.
  const std::vector<std::vector<EqBand>> cases = {
      {{EqBandType::kHighpass, 40, 0, 0, 48}},
      {{EqBandType::kBell, 120, -6, 2, 0}},
      {{EqBandType::kLowShelf, 80, 4, 0, 1.0}},
      {{EqBandType::kNotch, 500, 0, 8, 0}},
  };
  for (double fs : {44100.0, 96000.0})
    for (const auto& c : cases) {
      EXPECT_LT(worst_error_db(c, FirPhase::kLinear, fs), 0.1) << fs << " " << (int)c[0].type;
      EXPECT_LT(worst_error_db(c, FirPhase::kMinimum, fs), 0.1) << fs << " " << (int)c[0].type;
    }
}

TEST(FirDesign, LinearPhaseTapsAreExactlySymmetric) {
  const std::vector<EqBand> bands = {{EqBandType::kBell, 3000, 4, 2, 0}};
  const FirShape s = fir_shape(1023, FirPhase::kLinear);
  const auto h =
      design_fir([&](double f) { return eq_magnitude(bands, f); }, 48000, s, FirPhase::kLinear);
  for (int n = 0; n < s.taps; ++n) ASSERT_EQ(h[n], h[s.taps - 1 - n]);
  EXPECT_EQ(s.delay, 511);
  EXPECT_EQ(s.hop, s.fft_size - s.taps + 1);
}

}  // namespace
}  // namespace td
