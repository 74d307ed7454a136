// Pan laws: the values a mixing engineer reads off a console's documentation.
#include "kernels/pan_law.h"

#include <gtest/gtest.h>

#include <cmath>

namespace td {
namespace {

double db(double g) {
  return 20.0 * std::log10(g);
}

TEST(PanLaw, ConstantPowerIsMinus3dBAtCentreAndKeepsPowerEverywhere) {
  const StereoGains c = pan_mono_gains(0.0f, PanLaw::k3dB);
  // cos(pi/4) = 0.70711 = -3.0103 dB; float precision gives 1e-6.
  EXPECT_NEAR(c.left, std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(c.right, std::sqrt(0.5), 1e-6);
  EXPECT_NEAR(db(c.left), -3.0103, 1e-4);
  for (float p = -1.0f; p <= 1.0f; p += 0.125f) {
    const StereoGains g = pan_mono_gains(p, PanLaw::k3dB);
    EXPECT_NEAR(g.left * g.left + g.right * g.right, 1.0, 1e-6) << "pan " << p;
  }
}

TEST(PanLaw, ConstantPowerHardLeftAndHalfRight) {
  const StereoGains l = pan_mono_gains(-1.0f, PanLaw::k3dB);
  EXPECT_NEAR(l.left, 1.0, 1e-7);
  EXPECT_NEAR(l.right, 0.0, 1e-7);
  const StereoGains h = pan_mono_gains(0.5f, PanLaw::k3dB);  // theta = 3 pi / 8
  EXPECT_NEAR(h.left, 0.3826834, 1e-6);
  EXPECT_NEAR(h.right, 0.9238795, 1e-6);
}

TEST(PanLaw, OtherLawsAtCentre) {
  EXPECT_NEAR(db(pan_mono_gains(0.0f, PanLaw::k6dB).left), -6.0206, 1e-4);
  EXPECT_NEAR(db(pan_mono_gains(0.0f, PanLaw::k0dB).left), 0.0, 1e-6);
  // The geometric mean of -3.01 and -6.02 dB is -4.52 dB: the "-4.5 dB" law.
  EXPECT_NEAR(db(pan_mono_gains(0.0f, PanLaw::k4_5dB).left), -4.5154, 1e-3);
  // Linear law sums to unity amplitude everywhere.
  const StereoGains q = pan_mono_gains(0.3f, PanLaw::k6dB);
  EXPECT_NEAR(q.left + q.right, 1.0, 1e-6);
}

TEST(PanLaw, OutOfRangePositionsClamp) {
  const StereoGains g = pan_mono_gains(3.0f, PanLaw::k3dB);
  EXPECT_NEAR(g.left, 0.0, 1e-7);
  EXPECT_NEAR(g.right, 1.0, 1e-7);
}

TEST(Balance, CentreIsUnityAndMovingAttenuatesTheOtherSide) {
  const StereoGains c = balance_gains(0.0f);
  EXPECT_EQ(c.left, 1.0f);
  EXPECT_EQ(c.right, 1.0f);
  const StereoGains r = balance_gains(0.5f);
  EXPECT_NEAR(r.left, 0.5, 1e-7);
  EXPECT_EQ(r.right, 1.0f);
  const StereoGains l = balance_gains(-1.0f);
  EXPECT_EQ(l.left, 1.0f);
  EXPECT_EQ(l.right, 0.0f);
}

}  // namespace
}  // namespace td
