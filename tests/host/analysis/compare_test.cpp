// Comparing mixes with references (issue #7, first part): level matching, per-band
// differences, the score and the ranking of variants.
#include "analysis/compare.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <random>

#include "analysis/analyze.h"
#include "io/audio_file.h"
#include "kernels/fft.h"
#include "render/render.h"
#include "test_util.h"

namespace td {
namespace {

constexpr int kRate = 48000;

std::vector<std::vector<float>> noise(long long frames, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> n(0.0f, 0.1f);
  std::vector<std::vector<float>> p(2, std::vector<float>(frames));
  for (auto& ch : p)
    for (float& v : ch) v = n(gen);
  return p;
}

Measured measure(const std::vector<std::vector<float>>& audio) {
  MeterOptions mo;
  mo.series = true;
  const FileAnalysis a = analyze_audio(audio, kRate, "cpu", mo);
  return {a.readings, a.spectra};
}

// x filtered circularly by a real gain per frequency: forward real FFT, gains, then the
// inverse as IDFT(X)[t] = DFT(X)[(n - t) mod n] / n, the DFT of the full Hermitian
// spectrum taken as two real transforms (of its real and imaginary parts).
std::vector<float> filtered(const std::vector<float>& x, double (*gain)(double hz)) {
  const int n = (int)x.size();
  RealFft fwd(n);
  std::copy(x.begin(), x.end(), fwd.input());
  fwd.execute();
  std::vector<std::complex<float>> bins(fwd.output(), fwd.output() + n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) {
    bins[k] *= (float)gain((double)k * kRate / n);
  }
  RealFft re(n), im(n);
  for (int k = 0; k < n; ++k) {
    const std::complex<float> c = k <= n / 2 ? bins[k] : std::conj(bins[n - k]);
    re.input()[k] = c.real();
    im.input()[k] = c.imag();
  }
  re.execute();
  im.execute();
  auto at = [n](const RealFft& f, int i) {
    return i <= n / 2 ? f.output()[i] : std::conj(f.output()[n - i]);
  };
  std::vector<float> out(n);
  for (int t = 0; t < n; ++t) {
    const int m = (n - t) % n;
    out[t] = (at(re, m).real() - at(im, m).imag()) / n;
  }
  return out;
}

// +3 dB per decade above 1 kHz.
double tilt_gain(double f) {
  return f > 1000.0 ? std::pow(10.0, 3.0 * std::log10(f / 1000.0) / 20.0) : 1.0;
}

std::vector<float> tilted(const std::vector<float>& x) {
  return filtered(x, tilt_gain);
}

TEST(Compare, AMixIdenticalToTheReferenceIsAPerfectMatch) {
  const auto x = noise(10 * kRate, 1);
  const Measured m = measure(x);
  const Comparison c = compare(m, m, ScoreWeights{});
  EXPECT_NEAR(c.score, 0.0, 1e-9);
  for (const auto& b : c.band_difference) EXPECT_NEAR(b.db, 0.0, 1e-9) << b.hz;
  EXPECT_NEAR(c.width_rms_difference, 0.0, 1e-12);
  ASSERT_EQ(c.translation.size(), 4u);
  for (const auto& t : c.translation) {
    EXPECT_NEAR(t.spectral_rms_db, 0.0, 1e-9) << t.system;
    EXPECT_NEAR(t.level_match_db, 0.0, 1e-9) << t.system;
  }
}

TEST(Compare, ALouderCopyIsStillAPerfectMatch) {
  auto x = noise(10 * kRate, 2), y = x;
  for (auto& ch : y)
    for (float& v : ch) v *= 2.0f;  // +6.02 dB
  const Comparison c = compare(measure(x), measure(y), ScoreWeights{});
  EXPECT_NEAR(c.level_match_db, -6.02, 0.01);
  for (const auto& b : c.band_difference) EXPECT_NEAR(b.db, 0.0, 1e-3) << b.hz;
  for (const auto& t : c.translation) EXPECT_NEAR(t.spectral_rms_db, 0.0, 1e-3) << t.system;
  EXPECT_NEAR(c.width_rms_difference, 0.0, 1e-4);
  EXPECT_NEAR(c.score, 0.0, 2e-3);
}

// Width per band is side / mid energy. A mix whose channels share a mid signal and carry an
// uncorrelated side signal at half its amplitude has a ratio of 0.25 in every band; its
// mono fold (side removed) has 0. Checked from 400 Hz, tolerance 0.02: a band's ratio of
// two noise powers from 10 s scatters by sqrt(2 / (bins x frames)), 3 % at 400 Hz (64
// bins of 1.46 Hz x 14 frames) and less above, so 0.02 is three standard deviations.
TEST(Compare, WidthPerBandIsTheSideToMidEnergyRatio) {
  const auto m = noise(10 * kRate, 5), side = noise(10 * kRate, 6);
  std::vector<std::vector<float>> wide(2, std::vector<float>(m[0].size())), mono = wide;
  for (size_t n = 0; n < m[0].size(); ++n) {
    const float s = 0.5f * side[0][n];
    wide[0][n] = m[0][n] + s, wide[1][n] = m[0][n] - s;
    mono[0][n] = mono[1][n] = m[0][n];
  }
  const Comparison c = compare(measure(wide), measure(mono), ScoreWeights{});
  ASSERT_GE(c.width.size(), 25u);
  for (const auto& b : c.width) {
    if (b.hz < 400) continue;
    EXPECT_NEAR(b.mix, 0.25, 0.02) << b.hz;
    EXPECT_NEAR(b.reference, 0.0, 1e-9) << b.hz;
  }
  EXPECT_NEAR(c.width_rms_difference, 0.25, 0.03);
  // The same energy: the stereo spectra hardly differ, the width term carries the score.
  EXPECT_GT(c.score, ScoreWeights{}.width * 0.2);
}

// +6 dB below 100 Hz (a bass-heavy variant) shows in the full-range comparison and on the
// car, and not on the phone, which reproduces nothing there.
double bass_gain(double f) {
  return f < 100.0 ? 2.0 : 1.0;
}

TEST(Compare, ABassBoostTranslatesToTheCarAndNotToThePhone) {
  const int n = 1 << 19;
  const auto x = noise(n, 7);
  const std::vector<std::vector<float>> y = {filtered(x[0], bass_gain), filtered(x[1], bass_gain)};
  const Comparison c = compare(measure(y), measure(x), ScoreWeights{});
  auto system = [&](const std::string& name) {
    for (const auto& t : c.translation)
      if (t.system == name) return t;
    ADD_FAILURE() << name;
    return Translation{};
  };
  EXPECT_GT(c.spectral_rms_db, 1.0);
  EXPECT_GT(system("car").spectral_rms_db, 1.0);
  EXPECT_LT(system("phone").spectral_rms_db, 0.1);
  for (const auto& b : system("phone").band_difference) EXPECT_GE(b.hz, 160.0);
}

TEST(Compare, ATiltShowsInTheBandDifference) {
  const int n = 1 << 19;  // about 11 s
  auto x = noise(n, 3);
  std::vector<std::vector<float>> y = {tilted(x[0]), tilted(x[1])};
  const Comparison c = compare(measure(y), measure(x), ScoreWeights{});
  // Level matching shifts all bands alike: the shape is the difference to the 500 Hz band.
  double ref = 0;
  for (const auto& b : c.band_difference)
    if (std::fabs(b.hz - 500) < 1) ref = b.db;
  for (const auto& b : c.band_difference) {
    if (b.hz < 2000 || b.hz > 16000) continue;
    EXPECT_NEAR(b.db - ref, 3.0 * std::log10(b.hz / 1000.0), 0.3) << b.hz;
  }
  EXPECT_GT(c.score, 0.5);
}

TEST(Compare, VariantsAreRankedByTheirDistanceToTheReference) {
  // The reference is the plain mix; variants tilt it by 0, 2 and 4 dB: closest first.
  test::TempDir dir;
  const auto x = noise(8 * kRate, 4);
  test::write_file(dir / "t.wav", x, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  test::write_file(dir / "ref.wav", x, kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const std::string toml =
      "[session]\nsample_rate = 48000\n[delivery]\nbit_depth = 32\n"
      "[master]\nchain = [ { type = \"eq\", bands = [ { id = \"t\", type = \"tilt\", freq = 1000, "
      "gain_db = 0 } ] } ]\n"
      "[[track]]\nname = \"t\"\nfile = \"t.wav\"\n"
      "[[reference]]\nfile = \"ref.wav\"\n"
      "[variants.sweep]\n\"master.eq.t.gain_db\" = [4, 0, 2]\n";
  const Session s = parse_session_text(toml, dir / "song.toml");
  RenderOptions o;
  o.backend = "cpu";
  o.out_dir = dir / "out";
  o.write_variants = "top:1";
  std::filesystem::create_directories(o.out_dir);
  const RenderResult r = render_session(s, stems_from_files(s), o);
  ASSERT_EQ(r.variants.size(), 3u);
  // v0002 (0 dB) first, v0003 (2 dB), v0001 (4 dB) last.
  EXPECT_EQ(r.variants[1].rank, 1);
  EXPECT_EQ(r.variants[2].rank, 2);
  EXPECT_EQ(r.variants[0].rank, 3);
  EXPECT_LT(r.variants[1].score, 0.05);
  // Only the best was written; all were measured.
  EXPECT_FALSE(r.variants[1].file.empty());
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "variants" / "v0002.wav"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "variants" / "v0001.wav"));
  EXPECT_TRUE(std::isfinite(r.variants[0].delivered_lufs));
}

}  // namespace
}  // namespace td
