// kernels/fir_design: the Kaiser window's Bessel function against the C++ library's.

#include "kernels/fir_design.h"

#include <gtest/gtest.h>

#include <cmath>

namespace td {
namespace {

// The power series against libstdc++'s cyl_bessel_i over the range the designs use (beta up
// to 20: the window's argument never exceeds beta) and beyond: within 1e-14 relative, a few
// ulps, so a window differs from the library's by less than any float tap can show.
TEST(BesselI0, MatchesTheStandardLibrary) {
  for (double x = 0.0; x <= 40.0; x += 0.0625) {
    const double want = std::cyl_bessel_i(0.0, x);
    EXPECT_NEAR(bessel_i0(x), want, 1e-14 * want) << "x = " << x;
  }
}

TEST(KaiserWindow, IsOneAtTheCentreAndFallsToTheEdgeValue) {
  EXPECT_DOUBLE_EQ(kaiser_window(0.0, 9.0), 1.0);
  EXPECT_NEAR(kaiser_window(1.0, 9.0), 1.0 / std::cyl_bessel_i(0.0, 9.0), 1e-16);
  EXPECT_DOUBLE_EQ(kaiser_window(0.3, 9.0), kaiser_window(-0.3, 9.0));
}

}  // namespace
}  // namespace td
