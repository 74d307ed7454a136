// TPDF dither: deterministic, triangular, and quantisation that rounds and clips.
#include "kernels/dither.h"

#include <gtest/gtest.h>

#include <cmath>

namespace td {
namespace {

float left_of(uint64_t seed, uint64_t n) {
  float l, r;
  tpdf_lsb_pair(seed, n, l, r);
  return l;
}
float right_of(uint64_t seed, uint64_t n) {
  float l, r;
  tpdf_lsb_pair(seed, n, l, r);
  return r;
}

TEST(Dither, DependsOnlyOnSeedAndIndex) {
  EXPECT_EQ(left_of(7, 12345), left_of(7, 12345));
  EXPECT_EQ(right_of(7, 12345), right_of(7, 12345));
  EXPECT_NE(left_of(7, 12345), right_of(7, 12345));
  EXPECT_NE(left_of(7, 12345), left_of(8, 12345));
  EXPECT_NE(left_of(7, 12345), left_of(7, 12346));
}

TEST(Dither, IsTriangularWithZeroMeanAndVarianceOneSixthLsbOnEitherChannel) {
  // TPDF of width 2 LSB: mean 0, variance 2 * (1/12) = 1/6 LSB^2, support (-1, 1). The
  // 16-bit uniforms' variance is (1 - 2^-32) / 12: 1/6 to 4e-11.
  const int n = 1 << 20;
  for (int c = 0; c < 2; ++c) {
    SCOPED_TRACE(c ? "right" : "left");
    double sum = 0, sum2 = 0;
    int centre = 0, edge = 0;
    for (int i = 0; i < n; ++i) {
      const double d = c ? right_of(1, (uint64_t)i) : left_of(1, (uint64_t)i);
      ASSERT_GT(d, -1.0);
      ASSERT_LT(d, 1.0);
      sum += d;
      sum2 += d * d;
      if (std::fabs(d) < 0.1) ++centre;
      if (std::fabs(d) > 0.9) ++edge;
    }
    EXPECT_NEAR(sum / n, 0.0, 2e-3);  // 4 standard errors of the mean (0.41 / 1024)
    EXPECT_NEAR(sum2 / n, 1.0 / 6.0, 2e-3);
    EXPECT_GT(centre, 8 * edge);  // triangle: density at 0 far above the tails
  }
}

TEST(Dither, TheChannelsAndNeighbouringFramesAreUncorrelated) {
  // Each channel's dither must be independent of the other's and of the frame before
  // (they share a hash, or follow one another's counter). The correlation of 2^20
  // independent pairs has a standard error of 1/1024: held within 4 of them.
  const int n = 1 << 20;
  double lr = 0, ll = 0, l2 = 0, r2 = 0;
  float before = 0.0f;
  for (int i = 0; i < n; ++i) {
    float l, r;
    tpdf_lsb_pair(3, (uint64_t)i, l, r);
    lr += (double)l * r;
    ll += (double)l * before;
    l2 += (double)l * l;
    r2 += (double)r * r;
    before = l;
  }
  EXPECT_NEAR(lr / std::sqrt(l2 * r2), 0.0, 4.0 / 1024);
  EXPECT_NEAR(ll / l2, 0.0, 4.0 / 1024);
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
