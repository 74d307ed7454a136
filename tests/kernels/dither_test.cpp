// TPDF dither: deterministic, triangular, and quantisation that rounds and clips.
#include "kernels/dither.h"

#include <gtest/gtest.h>

#include <cmath>

namespace td {
namespace {

TEST(Dither, DependsOnlyOnSeedStreamAndIndex) {
  EXPECT_EQ(tpdf_lsb(7, 1, 12345), tpdf_lsb(7, 1, 12345));
  EXPECT_NE(tpdf_lsb(7, 1, 12345), tpdf_lsb(7, 0, 12345));
  EXPECT_NE(tpdf_lsb(7, 1, 12345), tpdf_lsb(8, 1, 12345));
}

TEST(Dither, IsTriangularWithZeroMeanAndVarianceOneSixthLsb) {
  // TPDF of width 2 LSB: mean 0, variance 2 * (1/12) = 1/6 LSB^2, support (-1, 1).
  const int n = 1 << 20;
  double sum = 0, sum2 = 0;
  int centre = 0, edge = 0;
  for (int i = 0; i < n; ++i) {
    const double d = tpdf_lsb(1, 0, (uint64_t)i);
    ASSERT_GT(d, -1.0);
    ASSERT_LT(d, 1.0);
    sum += d;
    sum2 += d * d;
    if (std::fabs(d) < 0.1) ++centre;
    if (std::fabs(d) > 0.9) ++edge;
  }
  EXPECT_NEAR(sum / n, 0.0, 2e-3);  // 4 standard errors of the mean
  EXPECT_NEAR(sum2 / n, 1.0 / 6.0, 2e-3);
  EXPECT_GT(centre, 8 * edge);  // triangle: density at 0 far above the tails
}

TEST(Quantize, RoundsToNearestAndClipsAtFullScale) {
  EXPECT_EQ(quantize_left_aligned(0.5f, 0.0f, 16), 16384 << 16);
  EXPECT_EQ(quantize_left_aligned(-1.0f, 0.0f, 16), -32768 * 65536);
  EXPECT_EQ(quantize_left_aligned(2.0f, 0.0f, 16), 32767 << 16);
  EXPECT_EQ(quantize_left_aligned(1.0f / 8388608.0f * 10.4f, 0.0f, 24), 10 << 8);
  EXPECT_EQ(quantize_left_aligned(1.0f / 8388608.0f * 10.6f, 0.0f, 24), 11 << 8);
  EXPECT_EQ(quantize_left_aligned(0.0f, 0.7f, 24), 1 << 8);  // dither moves the rounding
}

}  // namespace
}  // namespace td
