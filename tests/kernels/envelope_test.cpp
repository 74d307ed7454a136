// Automation envelopes: exact at breakpoints, linear between, held outside.
#include "kernels/envelope.h"

#include <gtest/gtest.h>

#include "kernels/mix.h"

namespace td {
namespace {

const Breakpoint kPoints[] = {{0.0, -6.0f}, {48000.0, 0.0f}, {96000.0, 0.0f}, {96000.0, -12.0f}};

TEST(Envelope, ExactAtBreakpoints) {
  EXPECT_EQ(envelope_at(kPoints, 4, 0.0), -6.0f);
  EXPECT_EQ(envelope_at(kPoints, 4, 48000.0), 0.0f);
}

TEST(Envelope, LinearBetweenBreakpoints) {
  EXPECT_NEAR(envelope_at(kPoints, 4, 24000.0), -3.0f, 1e-6);
  EXPECT_NEAR(envelope_at(kPoints, 4, 12000.0), -4.5f, 1e-6);
  // One sample after a breakpoint moves by exactly one sample's slope: sample accuracy.
  EXPECT_NEAR(envelope_at(kPoints, 4, 1.0), -6.0f + 6.0f / 48000.0f, 1e-6);
}

TEST(Envelope, HoldsFirstValueBeforeAndLastValueAfter) {
  const Breakpoint late[] = {{1000.0, 3.0f}, {2000.0, 1.0f}};
  EXPECT_EQ(envelope_at(late, 2, 0.0), 3.0f);
  EXPECT_EQ(envelope_at(late, 2, 5000.0), 1.0f);
}

TEST(Envelope, TwoPointsAtOneTimeMakeAStep) {
  EXPECT_EQ(envelope_at(kPoints, 4, 95999.0), 0.0f);
  EXPECT_EQ(envelope_at(kPoints, 4, 96001.0), -12.0f);
}

TEST(TrackInput, GainAutomationAddsToClipGainAndPanAutomationReplacesPan) {
  const Breakpoint pts[] = {{0.0, -6.0f}, {100.0, 0.0f}, {0.0, -1.0f}};
  TrackInputJob job{};
  job.gain_db = -3.0f;
  job.pan = 0.7f;  // replaced by the pan envelope (hard left)
  job.pan_law = (int)PanLaw::k3dB;
  job.mute_gain = 1.0f;
  job.gain_env_offset = 0;
  job.gain_env_count = 2;
  job.pan_env_offset = 2;
  job.pan_env_count = 1;
  const StereoGains g = track_input_gains(job, pts, 50.0);  // -3 dB clip + -3 dB automation
  EXPECT_NEAR(g.left, std::pow(10.0, -6.0 / 20.0), 1e-6);
  EXPECT_NEAR(g.right, 0.0, 1e-6);
}

}  // namespace
}  // namespace td
