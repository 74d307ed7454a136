// The utility's fractional delay (kernels/utility_design.h) against the ideal band-limited
// delay e^{-j w D}: whole delays are a single unit tap; fractional ones keep unit DC gain,
// a flat magnitude and the phase of a delay by D = centre + fraction across the audio band.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "kernels/fir_design.h"
#include "kernels/utility_design.h"

namespace td {
namespace {

constexpr double kRate = 48000;
constexpr double kPi = 3.14159265358979323846;

std::vector<double> taps_of(const UtilityParams& p) {
  return std::vector<double>(p.h, p.h + p.taps);
}

TEST(UtilityDesign, WholeDelaysAreAShift) {
  const UtilityParams p = design_utility(1.0f, -0.5f, 37.0);
  EXPECT_EQ(p.taps, 1);
  EXPECT_EQ(p.h[0], 1.0f);
  EXPECT_EQ(p.whole, 37);
  EXPECT_EQ(p.history, 37);
  EXPECT_EQ(p.gain_right, -0.5f);
  // Within 1e-6 of a whole number counts as whole (a delay in ms rarely lands exactly).
  EXPECT_EQ(design_utility(1, 1, 12.0000004).taps, 1);
}

TEST(UtilityDesign, FractionalDelaysFollowTheIdealDelay) {
  // Tolerances: a 32-tap Kaiser (beta 8) windowed sinc is flat within 0.05 dB and delays
  // within 0.01 samples up to 16 kHz at 48 kHz (a third below Nyquist, where the
  // transition band begins); at 20 kHz within 1 dB. Measured at every fraction in 0.1 steps.
  for (double frac = 0.1; frac < 0.95; frac += 0.1) {
    const double delay = 20.0 + frac;
    const UtilityParams p = design_utility(1, 1, delay);
    ASSERT_EQ(p.taps, kUtilityTaps);
    EXPECT_EQ(p.whole + kUtilityFirCentre, 20);
    const std::vector<double> h = taps_of(p);
    double dc = 0;
    for (double v : h) dc += v;
    EXPECT_NEAR(dc, 1.0, 1e-6) << frac;
    const double d_fir = kUtilityFirCentre + frac;  // the FIR's share of the delay
    for (double f = 100; f <= 16000; f += 100) {
      const std::complex<double> r = fir_response(h, f, kRate);
      EXPECT_NEAR(20 * std::log10(std::abs(r)), 0.0, 0.05) << frac << " at " << f << " Hz";
      // Phase delay: -arg(H) / w, unwrapped against the ideal.
      const double w = 2 * kPi * f / kRate;
      const double ideal = -w * d_fir;
      double phase = std::arg(r);
      phase += 2 * kPi * std::round((ideal - phase) / (2 * kPi));
      EXPECT_NEAR(-phase / w, d_fir, 0.01) << frac << " at " << f << " Hz";
    }
    const std::complex<double> r20k = fir_response(h, 20000, kRate);
    EXPECT_NEAR(20 * std::log10(std::abs(r20k)), 0.0, 1.0) << frac;
  }
}

}  // namespace
}  // namespace td
