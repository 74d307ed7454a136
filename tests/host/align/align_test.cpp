// Layer alignment (issue #20, part 1): delays and polarities recovered to within 0.05
// samples from synthetic layers and from a multi-mic drum layer made from the demo's kick;
// the groups a session implies; the corrections written as utility steps, and the sum's
// low end rising by what the measurement predicts when the corrected session renders.
#include "align/align.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <random>

#include "demo/demo.h"
#include "kernels/fft.h"
#include "render/render.h"
#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

constexpr int kRate = 48000;

// x delayed by d samples (fractions included) and shaped by a zero-phase gain per
// frequency, in the frequency domain: a band-limited delay, exact up to the circular wrap
// (which the signals' silent ends make harmless).
std::vector<float> delayed(const std::vector<float>& x, double d, double (*gain)(double hz)) {
  const int n = (int)x.size();
  RealFft f(n);
  std::copy(x.begin(), x.end(), f.input());
  f.execute();
  std::vector<std::complex<double>> bins(n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) {
    const double hz = (double)k * kRate / n;
    bins[k] =
        std::complex<double>(f.output()[k]) * gain(hz) * std::polar(1.0, -2.0 * M_PI * k * d / n);
  }
  bins[n / 2] = bins[n / 2].real();  // the Nyquist bin of a real signal
  // The inverse by direct synthesis through a second forward transform of the conjugate
  // (IDFT(X) = conj(DFT(conj(X))) / n, on the full Hermitian spectrum: real and imaginary
  // parts as two real transforms).
  RealFft re(n), im(n);
  for (int k = 0; k < n; ++k) {
    const std::complex<double> c = k <= n / 2 ? bins[k] : std::conj(bins[n - k]);
    re.input()[k] = (float)c.real();
    im.input()[k] = (float)c.imag();
  }
  re.execute();
  im.execute();
  auto at = [n](const RealFft& t, int i) {
    return i <= n / 2 ? std::complex<float>(t.output()[i]) : std::conj(t.output()[n - i]);
  };
  std::vector<float> out(n);
  for (int t = 0; t < n; ++t) {
    const int m = (n - t) % n;
    out[t] = (at(re, m).real() - at(im, m).imag()) / n;
  }
  return out;
}

double flat(double) {
  return 1.0;
}
// Another microphone's colour: darker above 2 kHz, thinner below 60 Hz (zero phase).
double other_mic(double hz) {
  return 1.0 / std::sqrt(1.0 + std::pow(hz / 2000.0, 2)) * (hz / std::sqrt(hz * hz + 3600.0));
}

std::vector<float> noise_burst(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 0.2f);
  std::vector<float> x(n, 0.0f);
  for (int i = n / 8; i < n - n / 8; ++i) x[i] = g(rng);  // silent ends: no wrap
  return x;
}

// The demo's kick (4 s), padded with silence to 2^18 samples.
std::vector<float> demo_kick() {
  DemoOptions d;
  d.seconds = 4.0;
  const DemoSong song = make_demo_song(d);
  std::vector<float> kick;
  for (const DemoStem& s : song.stems)
    if (s.track == "kick_in") kick = s.audio[0];
  if (!kick.empty()) kick.resize(1 << 18, 0.0f);
  return kick;
}

TEST(AlignMeasure, RecoversWholeAndFractionalDelaysOfEitherSignAndPolarity) {
  const std::vector<float> ref = noise_burst(1 << 16, 5);
  struct Case {
    double delay;
    int polarity;
  };
  for (const Case c : {Case{12, 1}, Case{-7, 1}, Case{3.3, 1}, Case{-5.75, 1}, Case{0.4, 1},
                       Case{2.6, -1}, Case{-0.15, -1}}) {
    std::vector<float> t = delayed(ref, c.delay, flat);
    for (float& v : t) v *= (float)c.polarity;
    const AlignMeasurement m = measure_alignment(ref, t, kRate);
    EXPECT_NEAR(m.delay_samples, c.delay, 0.05) << "delay " << c.delay;
    EXPECT_EQ(m.polarity, c.polarity) << "delay " << c.delay;
    EXPECT_GT(m.peak, 0.9);
    EXPECT_GT(m.coherence_after, 0.99);
  }
  // Unrelated signals share no source: the peak stays low.
  const AlignMeasurement none = measure_alignment(ref, noise_burst(1 << 16, 6), kRate);
  EXPECT_LT(none.peak, kAlignMinPeak);
}

// The demo's kick as the inside mic; the outside mic another colour, 17.3 samples later
// (about 12 cm further) and wired with the opposite polarity.
TEST(AlignMeasure, RecoversAMultiMicDrumLayer) {
  const std::vector<float> kick = demo_kick();
  ASSERT_FALSE(kick.empty());
  std::vector<float> out = delayed(kick, 17.3, other_mic);
  for (float& v : out) v = -v;
  const AlignMeasurement m = measure_alignment(kick, out, kRate);
  std::printf(
      "kick in/out: %.3f samples, polarity %d, peak %.2f, coherence %.2f -> %.2f, "
      "low end %+.1f dB\n",
      m.delay_samples, m.polarity, m.peak, m.coherence_before, m.coherence_after, m.lf_gain_db);
  EXPECT_NEAR(m.delay_samples, 17.3, 0.05);
  EXPECT_EQ(m.polarity, -1);
  EXPECT_LT(m.coherence_before, 0.0);
  EXPECT_GT(m.coherence_after, 0.5);
  EXPECT_GT(m.lf_gain_db, 3.0) << "an inverted kick cancels the sum's low end";
}

// The demo's own second mics (demo.cpp): kick_out is kick_in 0.9 ms later (43.2 samples)
// through a zero-phase low-pass; bass_amp is bass_di driven, band-passed (zero-phase),
// 1.6 ms later (76.8 samples) and inverted. The bench material is the demo's song, so
// these are the pairs `topdown init` aligns there.
TEST(AlignMeasure, RecoversTheDemosLayeredPairs) {
  DemoOptions d;
  d.seconds = 4.0;
  d.tracks = 10;
  const DemoSong song = make_demo_song(d);
  auto stem = [&](const char* name) {
    std::vector<float> x;
    for (const DemoStem& s : song.stems)
      if (s.track == name) x = s.audio[0];
    x.resize(1 << 18, 0.0f);
    return x;
  };
  const AlignMeasurement kick = measure_alignment(stem("kick_in"), stem("kick_out"), kRate);
  const AlignMeasurement bass = measure_alignment(stem("bass_di"), stem("bass_amp"), kRate);
  std::printf("demo kick_out: %.3f samples, polarity %d; bass_amp: %.3f samples, polarity %d\n",
              kick.delay_samples, kick.polarity, bass.delay_samples, bass.polarity);
  EXPECT_NEAR(kick.delay_samples, 43.2, 0.05);
  EXPECT_EQ(kick.polarity, 1);
  // 0.2 samples (4 us, under a degree at 3 kHz) for the amp: its drive adds harmonics the
  // DI does not have, and the phase transform weighs those bins as much as the shared ones.
  EXPECT_NEAR(bass.delay_samples, 76.8, 0.2);
  EXPECT_EQ(bass.polarity, -1);
  EXPECT_GT(bass.lf_gain_db, 3.0) << "the inverted amp cancels the bass's low end";
}

TEST(AlignGroups, NameStemsOnOneBusGroupAndSidesDoNot) {
  const Session s = parse_session_text(
      "[[bus]]\nname = \"drums\"\n[[bus]]\nname = \"bass\"\n[[bus]]\nname = \"guitars\"\n"
      "[[track]]\nname = \"kick_in\"\nfile = \"a.wav\"\nbus = \"drums\"\n"
      "[[track]]\nname = \"snare_top\"\nfile = \"a.wav\"\nbus = \"drums\"\n"
      "[[track]]\nname = \"kick_out\"\nfile = \"a.wav\"\nbus = \"drums\"\n"
      "[[track]]\nname = \"snare_bottom\"\nfile = \"a.wav\"\nbus = \"drums\"\n"
      "[[track]]\nname = \"oh\"\nfile = \"a.wav\"\nbus = \"drums\"\n"
      "[[track]]\nname = \"bass_di\"\nfile = \"a.wav\"\nbus = \"bass\"\n"
      "[[track]]\nname = \"bass_amp\"\nfile = \"a.wav\"\nbus = \"bass\"\n"
      "[[track]]\nname = \"gtr_l\"\nfile = \"a.wav\"\nbus = \"guitars\"\n"
      "[[track]]\nname = \"gtr_r\"\nfile = \"a.wav\"\nbus = \"guitars\"\n"
      "[[align]]\ntracks = [\"snare_top\", \"oh\"]\n",
      "s.toml");
  std::vector<std::string> names;
  const auto g = align_groups(s, &names);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0], (std::vector<std::string>{"snare_top", "oh"}));  // [[align]] first
  EXPECT_EQ(g[1], (std::vector<std::string>{"kick_in", "kick_out"}));
  EXPECT_EQ(g[2], (std::vector<std::string>{"bass_di", "bass_amp"}));
  EXPECT_EQ(names[1], "kick");
  // snare_bottom's partner is in [[align]]; gtr_l / gtr_r are two performances.
  auto error = [](const std::string& text) {
    try {
      parse_session_text("[[track]]\nname = \"a\"\nfile = \"a.wav\"\n" + text, "t.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("[[align]]\ntracks = [\"a\", \"b\"]\n").find("\"b\" is not a track"),
            std::string::npos);
  EXPECT_NE(error("[[align]]\ntracks = [\"a\"]\n").find("at least two tracks"), std::string::npos);
}

// End to end: two layers of the kick as files; the measured correction written into the
// session; rendered before and after (no loudness target: the master at its rendered
// level), the master's energy below 200 Hz rises by the predicted gain within 0.5 dB.
TEST(AlignApply, TheCorrectedSessionsLowEndRisesAsPredicted) {
  test::TempDir dir;
  const std::vector<float> kick = demo_kick();
  std::vector<float> out = delayed(kick, 9.6, other_mic);
  for (float& v : out) v = -v;
  test::write_file(dir / "kick_in.wav", test::Planar{kick}, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  test::write_file(dir / "kick_out.wav", test::Planar{out}, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  test::write_text(dir / "song.toml",
                   "[session]\nsample_rate = 48000\nheadroom_dbfs = 0\n[delivery]\nbit_depth = 32\n"
                   "[[bus]]\nname = \"drums\"\n"
                   "[[track]]\nname = \"kick_in\"\nfile = \"kick_in.wav\"\nbus = \"drums\"\n"
                   "[[track]]\nname = \"kick_out\"\nfile = \"kick_out.wav\"\nbus = \"drums\"\n");
  const Session before = parse_session_file(dir / "song.toml");
  const auto groups = measure_groups(before);
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_TRUE(groups[0].tracks[0].corrected);
  const AlignMeasurement& m = groups[0].tracks[0].m;
  EXPECT_NEAR(m.delay_samples, 9.6, 0.05);
  test::write_text(dir / "aligned.toml", apply_alignment(before, groups));
  const Session after = parse_session_file(dir / "aligned.toml");
  const Processor& step = after.nodes[1].chain.at(0);  // kick_out
  EXPECT_EQ(step.type, "utility");
  EXPECT_EQ(step.id, "align");
  EXPECT_NEAR(step.number("delay_ms", 0) * 1e-3 * kRate, -9.6, 0.05);
  auto low_end = [&](const Session& s) {
    RenderOptions ro;
    ro.backend = "cpu";
    ro.write_audio = false;
    const RenderResult r = render_session(s, stems_from_files(s), ro);
    double e = 0.0;
    for (const Band& b : r.variants[0].spectra.total)
      if (b.hz < 200.0) e += std::pow(10.0, b.db / 10.0);
    return 10.0 * std::log10(e);
  };
  const double gained = low_end(after) - low_end(before);
  std::printf("low end: predicted %+.2f dB, rendered %+.2f dB\n", m.lf_gain_db, gained);
  EXPECT_NEAR(gained, m.lf_gain_db, 0.5);
}

}  // namespace
}  // namespace td
