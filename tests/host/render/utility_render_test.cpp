// The utility through whole renders: whole-sample delays are exact shifts, advances are
// compensated (a track advanced against its own late copy nulls to silence), polarity and
// gain act per channel, fractional delays match the band-limited delay of a tone, and the
// result does not depend on the segment length or on the values a sweep gives the delay.
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

Planar noise(long long frames, float amplitude, uint32_t seed) {
  Planar p(2, std::vector<float>(frames));
  uint32_t x = seed;
  for (auto& ch : p)
    for (auto& v : ch) {
      x = x * 1664525u + 1013904223u;
      v = amplitude * ((float)(x >> 8) / (float)(1u << 24) * 2.0f - 1.0f);
    }
  return p;
}

// delay_ms of a whole number of samples at 48 kHz.
std::string ms_of(double samples) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", samples * 1000.0 / kRate);
  return buf;
}

AudioData render_master(const std::string& chain, const Planar& stem, long long segment = 0) {
  return test::render_text(test::chain_session(chain), {stem}, segment);
}

TEST(UtilityRender, WholeSampleDelayIsAnExactShift) {
  const Planar in = noise(20000, 0.3f, 3);
  const AudioData out = render_master("{ type = \"utility\", delay_ms = " + ms_of(10) + " }", in);
  for (int c = 0; c < 2; ++c) {
    for (long long n = 0; n < 10; ++n) ASSERT_EQ(out.channels[c][n], 0.0f);
    for (long long n = 10; n < 20000; ++n) ASSERT_EQ(out.channels[c][n], in[c][n - 10]) << n;
  }
}

TEST(UtilityRender, AnAdvanceIsCompensatedAndNullsAgainstItsLateCopy) {
  // Track b is track a 7 samples late; advancing b by 7 samples and inverting it makes
  // the sum exactly silent. Without the advance it would not be.
  const Planar a = noise(30000, 0.25f, 7);
  Planar b(2, std::vector<float>(30000, 0.0f));
  for (int c = 0; c < 2; ++c)
    for (long long n = 7; n < 30000; ++n) b[c][n] = a[c][n - 7];
  const std::string tracks =
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\n"
      "[[track]]\nname = \"b\"\nfile = \"b.wav\"\nchain = [ { type = \"utility\", invert_left = "
      "true, invert_right = true, delay_ms = -" +
      ms_of(7) + " } ]\n";
  RenderResult r;
  const AudioData out = test::render_text(
      test::chain_session("{ type = \"gain\", gain_db = 0 }", tracks), {a, b}, 0, &r);
  for (int c = 0; c < 2; ++c)
    for (long long n = 0; n < 30000 - 7; ++n) ASSERT_EQ(out.channels[c][n], 0.0f) << n;
  EXPECT_EQ(r.latency_samples, 7);  // the room the advance needs, compensated
}

TEST(UtilityRender, PolarityAndGainPerChannel) {
  const Planar in = noise(5000, 0.3f, 9);
  const AudioData out =
      render_master("{ type = \"utility\", invert_left = true, gain_db = -6 }", in);
  const float g = std::pow(10.0f, -6.0f * 0.05f);
  for (long long n = 0; n < 5000; ++n) {
    ASSERT_EQ(out.channels[0][n], -g * in[0][n]);
    ASSERT_EQ(out.channels[1][n], g * in[1][n]);
  }
}

TEST(UtilityRender, FractionalDelayIsTheBandLimitedDelayOfATone) {
  // A 1 kHz tone delayed by 5.3 samples matches sin(2 pi f (t - 5.3 / fs)) within -80 dB:
  // the pass-band ripple of a 32-tap Kaiser (beta 8) windowed sinc is about 1e-4 (measured
  // here: -86.5 dB), far below audibility; the design test bounds its phase delay.
  const long long frames = kRate;
  Planar in(2, std::vector<float>(frames));
  for (long long n = 0; n < frames; ++n)
    in[0][n] = in[1][n] = (float)(0.5 * std::sin(2 * kPi * 1000.0 * n / kRate));
  const AudioData out = render_master("{ type = \"utility\", delay_ms = " + ms_of(5.3) + " }", in);
  double err = 0, ref = 0;
  for (long long n = 1000; n < frames - 1000; ++n) {
    const double want = 0.5 * std::sin(2 * kPi * 1000.0 * (n - 5.3) / kRate);
    err += std::pow(out.channels[0][n] - want, 2);
    ref += want * want;
  }
  EXPECT_LT(10 * std::log10(err / ref), -80.0);
}

TEST(UtilityRender, TheResultDoesNotDependOnTheSegmentLength) {
  const Planar in = noise(90000, 0.3f, 5);
  const std::string chain =
      "{ type = \"utility\", delay_ms = " + ms_of(123.4) + ", invert_right = true }";
  const AudioData whole = render_master(chain, in);
  for (long long segment : {1000LL, 4097LL, 77LL})
    EXPECT_EQ(whole.channels, render_master(chain, in, segment).channels) << segment;
}

TEST(UtilityRender, SweptDelaysRenderEachSettingAsItsOwnSessionWould) {
  // The stage's latency is set by every swept value (the largest advance, the fractional
  // filter's centre); compensated, each variant is bit for bit its own session.
  const Planar in = noise(40000, 0.3f, 13);
  const std::vector<double> delays = {-4.8, 0.0, 9.6};  // samples
  test::TempDir dir;
  std::string values;
  for (double d : delays) values += (values.empty() ? "" : ", ") + ms_of(d);
  const std::string toml =
      test::chain_session("{ type = \"utility\", id = \"u\" }", "",
                          "[variants.sweep]\n\"master.u.delay_ms\" = [" + values + "]\n");
  const Session s = parse_session_text(toml, dir / "song.toml");
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = dir.path;
  render_session(s, test::memory_stems({in}, kRate), o);
  for (size_t v = 0; v < delays.size(); ++v) {
    const AudioData alone =
        render_master("{ type = \"utility\", delay_ms = " + ms_of(delays[v]) + " }", in);
    const AudioData variant =
        read_audio(dir / "variants" / (variant_id((int)v, (int)delays.size()) + ".wav"));
    EXPECT_EQ(variant.channels, alone.channels) << delays[v];
  }
}

}  // namespace
}  // namespace td
