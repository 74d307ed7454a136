// td_exp2 and td_log2 (kernels/fast_math.h) against double precision over their whole
// range: the dynamics' levels and gains rest on them, on the CPU and the GPU alike.
#include "kernels/fast_math.h"

#include <gtest/gtest.h>

#include <cmath>

namespace td {
namespace {

// Error in float ulps of the reference value.
double ulps(float got, double want) {
  const double ulp = std::ldexp(1.0, std::ilogb((float)want) - 23);
  return std::fabs(got - want) / ulp;
}

TEST(FastMath, Exp2IsWithinFourUlpsFromMinus126To127) {
  // 4 ulp: the series' remainder is under half an ulp; eight rounded Horner steps and the
  // final scaling add the rest. A compressor's gain of 1e-6 relative is -120 dB of error.
  double worst = 0;
  for (double x = -126.0; x <= 127.0; x += 0.000731) {
    const float xf = (float)x;
    worst = std::max(worst, ulps(td_exp2(xf), std::exp2((double)xf)));
  }
  EXPECT_LE(worst, 4.0);
  EXPECT_EQ(td_exp2(0.0f), 1.0f);
  EXPECT_EQ(td_exp2(1.0f), 2.0f);
  EXPECT_EQ(td_exp2(-3.0f), 0.125f);
  EXPECT_EQ(td_exp2(-1000.0f), std::ldexp(1.0f, -126));  // clamped, not denormal or zero
}

TEST(FastMath, Log2IsWithinAnUlpAndTwoMillionthsOverEveryNormalFloat) {
  // Absolute error in units of (1 ulp of the result + 2e-6): levels are log2 values times
  // 3 dB (a power) or 6 dB (an amplitude), so 2e-6 is 1.2e-5 dB; near x = 1 the result is
  // near 0, where ulps alone mean nothing, and far from it the result's own rounding rules.
  double worst = 0;
  for (double e = -126; e < 128; e += 1)
    for (double m = 1.0; m < 2.0; m += 0.000977) {
      const float x = (float)std::ldexp(m, (int)e);
      const double want = std::log2((double)x);
      const double ulp = want == 0 ? 0 : std::ldexp(1.0, std::ilogb((float)want) - 23);
      worst = std::max(worst, std::fabs(td_log2(x) - want) / (ulp + 2e-6));
    }
  EXPECT_LE(worst, 1.0);
  EXPECT_EQ(td_log2(1.0f), 0.0f);
  EXPECT_EQ(td_log2(8.0f), 3.0f);
  EXPECT_EQ(td_log2(0.25f), -2.0f);
}

}  // namespace
}  // namespace td
