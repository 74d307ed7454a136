// The imager through whole renders (issue #6): width 100 % is the input, width 0 % is mono,
// mono_below_hz makes the lows mono (correlation 1) and leaves the highs' side signal
// alone, and the node's correlation is in the report.
#include <gtest/gtest.h>

#include <cmath>

#include "io/audio_file.h"
#include "render/render.h"
#include "test_util.h"

namespace td {
namespace {

using test::Planar;
constexpr int kRate = 48000;
constexpr double kPi = 3.14159265358979323846;

AudioData render_imager(const std::string& imager, const Planar& stem,
                        RenderResult* result = nullptr, long long segment = 0) {
  return test::render_text(test::chain_session(imager), {stem}, segment, result);
}

// Two tones whose left and right differ in phase: an image with width.
Planar wide_tones(double low_hz, double high_hz, long long frames) {
  Planar p(2, std::vector<float>(frames));
  for (long long n = 0; n < frames; ++n) {
    const double t = (double)n / kRate;
    p[0][n] = (float)(0.4 * std::sin(2 * kPi * low_hz * t) + 0.2 * std::sin(2 * kPi * high_hz * t));
    p[1][n] = (float)(0.4 * std::sin(2 * kPi * low_hz * t + kPi / 2) +
                      0.2 * std::sin(2 * kPi * high_hz * t + 2.0));
  }
  return p;
}

double correlation(const std::vector<float>& l, const std::vector<float>& r, long long from,
                   long long to) {
  double lr = 0, ll = 0, rr = 0;
  for (long long n = from; n < to; ++n) lr += l[n] * r[n], ll += l[n] * l[n], rr += r[n] * r[n];
  return lr / std::sqrt(ll * rr);
}

// The side signal's level (dB) of frequency f in [from, to).
double side_db(const std::vector<float>& l, const std::vector<float>& r, double f, long long from,
               long long to) {
  double re = 0, im = 0;
  for (long long n = from; n < to; ++n) {
    const double s = 0.5 * (l[n] - r[n]);
    re += s * std::cos(2 * kPi * f * n / kRate);
    im += s * std::sin(2 * kPi * f * n / kRate);
  }
  return 20 * std::log10(2 * std::hypot(re, im) / (to - from));
}

TEST(Imager, FullWidthIsTheInput) {
  const Planar in = wide_tones(100, 2500, kRate);
  const AudioData out = render_imager("{ type = \"imager\", width_pct = 100 }", in);
  double worst = 0;
  for (int c = 0; c < 2; ++c)
    for (long long n = 0; n < kRate; ++n)
      worst = std::max(worst, (double)std::fabs(out.channels[c][n] - in[c][n]));
  EXPECT_LT(20 * std::log10(worst + 1e-30), -120.0);
}

TEST(Imager, ZeroWidthIsMono) {
  RenderResult r;
  const AudioData out =
      render_imager("{ type = \"imager\", width_pct = 0 }", wide_tones(100, 2500, kRate), &r);
  for (long long n = 0; n < kRate; ++n) ASSERT_EQ(out.channels[0][n], out.channels[1][n]);
  // The master's correlation in the report.
  ASSERT_FALSE(r.meters.empty());
  ASSERT_TRUE(r.meters.back().readings.correlation.has_value());
  EXPECT_NEAR(*r.meters.back().readings.correlation, 1.0, 1e-6);
}

TEST(Imager, MonoBelowMakesTheLowsMonoAndLeavesTheHighSideAlone) {
  // 50 Hz at 90 degrees between the channels (correlation 0) and 3 kHz with its own side:
  // mono below 150 Hz makes the 50 Hz mono and keeps the 3 kHz side within 0.1 dB.
  const long long frames = 3 * kRate;
  const Planar in = wide_tones(50, 3000, frames);
  const AudioData out = render_imager("{ type = \"imager\", mono_below_hz = 150 }", in);
  // The channels' 50 Hz components (correlation with a complex tone).
  double l_re = 0, l_im = 0, r_re = 0, r_im = 0;
  for (long long n = kRate; n < 2 * kRate; ++n) {
    const double c = std::cos(2 * kPi * 50 * n / kRate), s = std::sin(2 * kPi * 50 * n / kRate);
    l_re += out.channels[0][n] * c, l_im += out.channels[0][n] * s;
    r_re += out.channels[1][n] * c, r_im += out.channels[1][n] * s;
  }
  // Same amplitude and phase at 50 Hz: the lows are mono.
  EXPECT_NEAR(std::hypot(l_re - r_re, l_im - r_im) / std::hypot(l_re, l_im), 0.0, 1e-3);
  EXPECT_NEAR(side_db(out.channels[0], out.channels[1], 3000, kRate, 2 * kRate),
              side_db(in[0], in[1], 3000, kRate, 2 * kRate), 0.1);
  // And a pure low image comes out with correlation 1.
  const AudioData low =
      render_imager("{ type = \"imager\", mono_below_hz = 150 }", wide_tones(50, 50, frames));
  EXPECT_GT(correlation(low.channels[0], low.channels[1], kRate, 2 * kRate), 0.999);
}

TEST(Imager, BalanceUsesTheBalanceLaw) {
  const Planar in = wide_tones(100, 2500, kRate / 2);
  const AudioData out = render_imager("{ type = \"imager\", balance = 0.5 }", in);
  for (long long n = 100; n < kRate / 2; n += 997) {
    EXPECT_NEAR(out.channels[0][n], 0.5f * in[0][n], 1e-6);
    EXPECT_NEAR(out.channels[1][n], in[1][n], 1e-6);
  }
}

TEST(Imager, SweptAndSegmentedRendersAgree) {
  const Planar in = wide_tones(80, 1500, 2 * kRate);
  const std::string im = "{ type = \"imager\", width_pct = 120, mono_below_hz = 120 }";
  const AudioData a = render_imager(im, in, nullptr, 0), b = render_imager(im, in, nullptr, 5003);
  EXPECT_EQ(a.channels[0], b.channels[0]);
  EXPECT_EQ(a.channels[1], b.channels[1]);
}

}  // namespace
}  // namespace td

namespace td {
namespace {

TEST(Imager, ATrackWithAnImagerHasItsCorrelationInTheReport) {
  test::TempDir dir;
  const std::string toml =
      "[session]\nsample_rate = 48000\n[delivery]\nbit_depth = 32\n"
      "[[track]]\nname = \"keys\"\nfile = \"k.wav\"\n"
      "chain = [ { type = \"imager\", width_pct = 0 } ]\n"
      "[[track]]\nname = \"gtr\"\nfile = \"g.wav\"\n";
  const Session s = parse_session_text(toml, dir / "song.toml");
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = dir.path;
  const test::Planar wide = {test::sine(300, 0.3, 1.0, 48000, 1)[0],
                             test::sine(300, 0.3, 1.0, 48000, 1, 1.5)[0]};
  const RenderResult r = render_session(s, test::memory_stems({wide, wide}, 48000), o);
  bool found = false;
  for (const auto& m : r.meters)
    if (m.node == "keys") {
      found = true;
      EXPECT_EQ(m.kind, "track");
      ASSERT_TRUE(m.readings.correlation.has_value());
      EXPECT_NEAR(*m.readings.correlation, 1.0, 1e-6);
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace td
