// `pitch` (issue #20, part 2): Rubber Band's R3 engine behind a stem reader. A harmonic tone
// shifted by +3 and -5 semitones lands on the expected fundamental within 1 cent; a
// synthetic vowel with its formants shifted by +3 semitones keeps its fundamental within
// 1 cent while its spectral envelope's peak moves by 2^(3/12) within 3 %; the output is
// time-aligned with the input (mix blends it with the dry signal without comb filtering),
// and the session allows it only where the stem is read.
#include "processors/pitch.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <complex>

#include "base/input_error.h"
#include "kernels/fft.h"
#include "render/render.h"
#include "report/report.h"
#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

constexpr int kRate = 48000;

std::vector<float> shifted(const std::vector<float>& x, PitchSettings p) {
  const std::vector<std::vector<float>> in = {x};
  auto r = pitch_reader(open_memory_stem(in), 1, kRate, p);
  std::vector<float> out(x.size());
  float* o[1] = {out.data()};
  r->read(o, (long long)out.size());
  return out;
}

// The magnitude spectrum of 2^17 samples from `at`, Hann-windowed.
std::vector<double> magnitude(const std::vector<float>& x, long long at, int n = 1 << 17) {
  RealFft f(n);
  for (int i = 0; i < n; ++i)
    f.input()[i] = x[(size_t)(at + i)] * (float)(0.5 - 0.5 * std::cos(2 * M_PI * i / n));
  f.execute();
  std::vector<double> m(n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) m[k] = std::abs(std::complex<double>(f.output()[k]));
  return m;
}

// The estimator: the largest spectral peak between lo and hi Hz, refined by a parabola
// through the log magnitudes of its bin and its neighbours (a Hann window's main lobe is
// close to a Gaussian there: the error is under 1 % of a bin, 0.004 Hz, 0.03 cent here).
double peak_hz(const std::vector<double>& m, double lo, double hi, int n = 1 << 17) {
  const int a = (int)(lo * n / kRate), b = (int)(hi * n / kRate);
  int at = a;
  for (int k = a; k <= b; ++k)
    if (m[k] > m[at]) at = k;
  const double l = std::log(m[at - 1]), c = std::log(m[at]), r = std::log(m[at + 1]);
  return (at + 0.5 * (l - r) / (l - 2 * c + r)) * kRate / n;
}

double cents(double f, double ref) {
  return 1200.0 * std::log2(f / ref);
}

std::vector<float> harmonic_tone(double f0, double seconds) {
  std::vector<float> x((size_t)(seconds * kRate));
  for (size_t i = 0; i < x.size(); ++i)
    for (int h = 1; h <= 8; ++h)
      x[i] += (float)(0.2 / h * std::sin(2 * M_PI * f0 * h * (double)i / kRate));
  return x;
}

TEST(Pitch, AHarmonicToneLandsOnTheShiftedFundamental) {
  const double f0 = 220.0;
  const std::vector<float> x = harmonic_tone(f0, 4.0);
  for (double st : {3.0, -5.0}) {
    PitchSettings p;
    p.semitones = st;
    const std::vector<float> y = shifted(x, p);
    const double want = f0 * std::pow(2.0, st / 12.0);
    const double got = peak_hz(magnitude(y, kRate / 2), want * 0.9, want * 1.1);
    std::printf("%+.0f semitones: %.3f Hz for %.3f Hz (%+.3f cent)\n", st, got, want,
                cents(got, want));
    EXPECT_NEAR(cents(got, want), 0.0, 1.0);
  }
}

// A vowel: a 110 Hz pulse train through one resonance at 1000 Hz (a two-pole formant
// filter, bandwidth 300 Hz). Its envelope's peak: envelope_peak_hz below.
std::vector<float> vowel(double seconds) {
  const double f0 = 110.0, fc = 1000.0, bw = 300.0;
  const double r = std::exp(-M_PI * bw / kRate), th = 2 * M_PI * fc / kRate;
  const double a1 = -2 * r * std::cos(th), a2 = r * r;
  std::vector<float> x((size_t)(seconds * kRate));
  double y1 = 0, y2 = 0, phase = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    phase += f0 / kRate;
    const double pulse = phase >= 1.0 ? (phase -= 1.0, 1.0) : 0.0;
    const double y = pulse - a1 * y1 - a2 * y2;
    y2 = y1, y1 = y;
    x[i] = (float)(0.05 * y);
  }
  return x;
}

double envelope_peak_hz(const std::vector<double>& m, double f0, int n = 1 << 17) {
  std::vector<std::pair<double, double>> h;  // (hz, log power)
  for (double f = f0; f < 4000.0; f += f0) {
    const int k = (int)std::lround(f * n / kRate);
    double best = 0;
    for (int j = k - 3; j <= k + 3; ++j) best = std::max(best, m[j]);
    h.emplace_back(f, 2.0 * std::log(best));
  }
  size_t loud = 0;
  for (size_t i = 0; i < h.size(); ++i)
    if (h[i].second > h[loud].second) loud = i;
  // The vertex of the least-squares parabola through the log powers of the harmonics
  // within 400 Hz of the loudest: a resonance's log magnitude is parabolic near its peak.
  double s[5] = {0, 0, 0, 0, 0}, t[3] = {0, 0, 0};
  for (const auto& [f, lp] : h) {
    if (std::abs(f - h[loud].first) > 400.0) continue;
    const double u = (f - h[loud].first) / 100.0;
    for (int k = 0; k < 5; ++k) s[k] += std::pow(u, k);
    for (int k = 0; k < 3; ++k) t[k] += lp * std::pow(u, k);
  }
  // Normal equations for lp = c0 + c1 u + c2 u^2 (Cramer's rule).
  const double A[3][3] = {{s[0], s[1], s[2]}, {s[1], s[2], s[3]}, {s[2], s[3], s[4]}};
  auto det = [](const double M[3][3]) {
    return M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
           M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
           M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
  };
  double c[3];
  for (int col = 0; col < 3; ++col) {
    double B[3][3];
    for (int r = 0; r < 3; ++r)
      for (int q = 0; q < 3; ++q) B[r][q] = q == col ? t[r] : A[r][q];
    c[col] = det(B) / det(A);
  }
  return h[loud].first - 100.0 * c[1] / (2.0 * c[2]);
}

TEST(Pitch, AFormantShiftMovesTheEnvelopeAndKeepsThePitch) {
  const std::vector<float> x = vowel(4.0);
  PitchSettings p;
  p.formant_semitones = 3.0;
  const std::vector<float> y = shifted(x, p);
  const auto mx = magnitude(x, kRate / 2), my = magnitude(y, kRate / 2);
  const double f0 = peak_hz(mx, 100, 120), g0 = peak_hz(my, 100, 120);
  const double ex = envelope_peak_hz(mx, f0), ey = envelope_peak_hz(my, g0);
  std::printf(
      "formant +3: f0 %.3f -> %.3f Hz (%+.3f cent), envelope peak %.1f -> %.1f Hz "
      "(ratio %.4f for %.4f)\n",
      f0, g0, cents(g0, f0), ex, ey, ey / ex, std::pow(2.0, 3.0 / 12.0));
  EXPECT_NEAR(cents(g0, f0), 0.0, 1.0);
  EXPECT_NEAR(ey / ex / std::pow(2.0, 3.0 / 12.0), 1.0, 0.03);
}

// Aligned with the input: at 0 / 0 the processed signal's correlation with the dry one
// peaks at lag 0 and the two null to a depth this test measures and states; mix = 0 is
// the dry input, bit for bit.
TEST(Pitch, TheOutputIsTimeAlignedAndMixBlendsWithTheDrySignal) {
  const std::vector<float> x = harmonic_tone(180.0, 3.0);
  const std::vector<float> y = shifted(x, PitchSettings{});
  double best = -1;
  int at = 0;
  for (int lag = -200; lag <= 200; ++lag) {
    double c = 0;
    for (size_t i = 24000; i < 120000; ++i) c += (double)x[i] * y[(size_t)((long long)i + lag)];
    if (c > best) best = c, at = lag;
  }
  EXPECT_EQ(at, 0) << "Rubber Band's start delay is trimmed";
  double e = 0, d = 0;
  for (size_t i = 24000; i < 120000; ++i) e += (double)x[i] * x[i], d += std::pow(x[i] - y[i], 2);
  const double null_db = 10 * std::log10(d / e);
  std::printf("0 / 0 semitones against the dry tone: null %.1f dB\n", null_db);
  // The phase vocoder resynthesises even at unit ratios (windowed overlap-add of
  // re-estimated phases), so the null is finite; -20 dB says the output is the input in
  // time and level, not an exact copy.
  EXPECT_LT(null_db, -20.0);
  PitchSettings dry;
  dry.semitones = 5.0;
  dry.mix = 0.0;
  EXPECT_EQ(shifted(x, dry), x);
}

// In a render: the track's stem arrives shifted (its fundamental moves), and report.json's
// plan says where the step ran.
TEST(Pitch, ARenderShiftsTheTrackAndThePlanSaysWhere) {
  test::TempDir dir;
  test::write_file(dir / "v.wav", test::Planar{harmonic_tone(220.0, 4.0)}, kRate,
                   SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const Session s = parse_session_text(
      "[delivery]\nbit_depth = 32\n[[track]]\nname = \"vox\"\nfile = \"v.wav\"\n"
      "chain = [ { type = \"pitch\", semitones = 3 } ]\n",
      dir / "s.toml");
  RenderOptions ro;
  ro.backend = "cpu";
  ro.out_dir = dir / "out";
  std::filesystem::create_directories(ro.out_dir);
  const RenderResult r = render_session(s, stems_from_files(s), ro);
  const AudioData out = read_audio(dir / "out" / "master.wav");
  const double want = 220.0 * std::pow(2.0, 3.0 / 12.0);
  const double got = peak_hz(magnitude(out.channels[0], kRate / 2), want * 0.9, want * 1.1);
  EXPECT_NEAR(cents(got, want), 0.0, 1.0);
  const nlohmann::json report = make_report(s, r);
  bool said = false;
  for (const auto& n : report["plan"]["nodes"])
    said |= n["name"] == "vox" && n.contains("stem_reader");
  EXPECT_TRUE(said);
}

TEST(Pitch, OnlyATracksFirstStepAndNeverSwept) {
  auto error = [](const std::string& text) {
    try {
      parse_session_text(text, "s.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string track = "[[track]]\nname = \"vox\"\nfile = \"v.wav\"\n";
  EXPECT_EQ(error(track + "chain = [ { type = \"pitch\", semitones = 2 } ]\n"), "");
  EXPECT_NE(error(track + "chain = [ { type = \"gain\" }, { type = \"pitch\" } ]\n")
                .find("only as the first step of a [[track]] chain"),
            std::string::npos);
  EXPECT_NE(
      error("[master]\nchain = [ { type = \"pitch\" } ]\n" + track).find("only as the first step"),
      std::string::npos);
  EXPECT_NE(error(track + "chain = [ { type = \"pitch\", id = \"p\" } ]\n"
                          "[variants.sweep]\n\"vox.p.semitones\" = [0, 2]\n")
                .find("cannot be swept"),
            std::string::npos);
  EXPECT_NE(
      error(track + "chain = [ { type = \"pitch\", semitones = 30 } ]\n").find("out of range"),
      std::string::npos);
}

}  // namespace
}  // namespace td
