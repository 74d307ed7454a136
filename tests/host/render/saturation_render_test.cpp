// Saturation through whole renders (issue #6): unity small-signal gain, the harmonics the
// curves' Taylor series predict, odd-only harmonics from the symmetric curve and even ones
// from bias, and the aliasing of a 5 kHz sine driven 12 dB into each curve, measured for
// every anti-aliasing setting.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdio>

#include "io/audio_file.h"
#include "kernels/fft.h"
#include "render/render.h"
#include "test_util.h"

namespace td {
namespace {

using test::Planar;
constexpr int kRate = 48000;
constexpr double kPi = 3.14159265358979323846;

AudioData render_sat(const std::string& sat, const Planar& stem, long long segment = 0) {
  return test::render_text(test::chain_session(sat), {stem}, segment);
}

Planar sine(double amplitude, double hz, long long frames) {
  Planar p(2, std::vector<float>(frames));
  for (long long n = 0; n < frames; ++n)
    p[0][n] = p[1][n] = (float)(amplitude * std::sin(2 * kPi * hz * n / kRate));
  return p;
}

using test::aliasing_db;
using test::tone_db;
std::vector<double> spectrum(const std::vector<float>& x, long long from) {
  return test::power_spectrum(x, from);
}

TEST(Saturation, SmallSignalsPassAtUnityGain) {
  for (const char* model : {"soft", "hard", "tube", "tape"}) {
    const Planar in = sine(0.001, 1000, 2 * kRate);  // -60 dBFS
    const AudioData out = render_sat(
        std::string("{ type = \"saturation\", model = \"") + model + "\", drive_db = 0 }", in);
    const std::vector<double> a = spectrum(out.channels[0], 8000), b = spectrum(in[0], 8000);
    EXPECT_NEAR(tone_db(a, 1000), tone_db(b, 1000), 0.1) << model;
  }
}

TEST(Saturation, TheSymmetricCurveMakesOnlyOddHarmonicsAndBiasAddsEven) {
  const Planar in = sine(0.5, 1000, 2 * kRate);
  const auto odd = spectrum(
      render_sat("{ type = \"saturation\", model = \"soft\", drive_db = 6 }", in).channels[0],
      8000);
  const double fundamental = tone_db(odd, 1000);
  EXPECT_GT(tone_db(odd, 3000) - fundamental, -40.0);   // a real third harmonic
  EXPECT_LT(tone_db(odd, 2000) - fundamental, -110.0);  // and no second
  EXPECT_LT(tone_db(odd, 4000) - fundamental, -110.0);
  const auto even = spectrum(
      render_sat("{ type = \"saturation\", model = \"soft\", drive_db = 6, bias = 0.3 }", in)
          .channels[0],
      8000);
  EXPECT_GT(tone_db(even, 2000) - tone_db(even, 1000), -40.0);
}

TEST(Saturation, SmallDriveHarmonicsMatchTheTaylorCoefficients) {
  // soft: f(u) = u (27 + u^2) / (27 + 9 u^2) = u - (8/27) u^3 + ...; with the output
  // normalised by the drive g, y = x - (8/27) g^2 x^3: for x = A sin, the third harmonic
  // is (8/27) g^2 A^3 / 4. With bias b: y = x + f''(b) / (2 f'(b)) g x^2 + ...: the
  // second harmonic is |f''(b) / (2 f'(b))| g A^2 / 2.
  const double a = 0.1, g = std::pow(10.0, 6.0 / 20);
  const auto p = spectrum(render_sat("{ type = \"saturation\", model = \"soft\", drive_db = 6 }",
                                     sine(a, 1000, 2 * kRate))
                              .channels[0],
                          8000);
  const double h3 = 20 * std::log10((8.0 / 27) * g * g * a * a * a / 4 / a);
  EXPECT_NEAR(tone_db(p, 3000) - tone_db(p, 1000), h3, 0.5);
  const double b = 0.2;
  auto f = [](double u) { return u * (27 + u * u) / (27 + 9 * u * u); };
  const double e = 1e-3, f1 = (f(b + e) - f(b - e)) / (2 * e),
               f2 = (f(b + e) - 2 * f(b) + f(b - e)) / (e * e);
  const auto q =
      spectrum(render_sat("{ type = \"saturation\", model = \"soft\", drive_db = 6, bias = 0.2 }",
                          sine(a, 1000, 2 * kRate))
                   .channels[0],
               8000);
  const double h2 = 20 * std::log10(std::fabs(f2 / (2 * f1)) * g * a * a / 2 / a);
  EXPECT_NEAR(tone_db(q, 2000) - tone_db(q, 1000), h2, 0.5);
}

TEST(Saturation, AliasingOfA5kHzSineDriven12dB) {
  // The energy below 20 kHz that is not a harmonic of 5 kHz, against the fundamental, for a
  // 0 dBFS 5 kHz sine driven 12 dB into each curve. Measured here (2 cores, 48 kHz):
  //                 1x      2x      4x      8x    ADAA 1x  ADAA 4x  ADAA 8x
  //   soft/tape  -24.9   -61.7   -88.6   -88.6    -29.9    -56.8    -67.3
  //   hard       -20.2   -34.2   -50.6   -62.8    -32.7    -74.6    -87.5
  //   tube       -23.9   -48.9   -87.6   -88.5    -35.0    -88.5    -88.5
  // (-88 dB is the measurement's floor: the FIR stages' stop band and the window.) The
  // defaults, the lowest factor under -80 dB (4x for the smooth curves, 8x with ADAA for
  // the hard clip), are held to -80 dB; every setting's figure is printed.
  const Planar in = sine(1.0, 5000, 2 * kRate);
  for (const char* model : {"soft", "hard", "tube", "tape"}) {
    const AudioData out = render_sat(
        std::string("{ type = \"saturation\", model = \"") + model + "\", drive_db = 12 }", in);
    EXPECT_LT(aliasing_db(spectrum(out.channels[0], kRate / 2), 5000), -80.0) << model;
  }
  for (const char* model : {"soft", "hard", "tube", "tape"}) {
    for (const char* aa :
         {"oversampling = 1, antialias = \"none\"", "oversampling = 2, antialias = \"none\"",
          "oversampling = 4, antialias = \"none\"", "oversampling = 8, antialias = \"none\"",
          "oversampling = 1, antialias = \"adaa\"", "oversampling = 4, antialias = \"adaa\"",
          "oversampling = 8, antialias = \"adaa\""}) {
      const AudioData out = render_sat(std::string("{ type = \"saturation\", model = \"") + model +
                                           "\", drive_db = 12, " + aa + " }",
                                       in);
      const double alias = aliasing_db(spectrum(out.channels[0], kRate / 2), 5000);
      std::printf("aliasing %-5s %-40s %7.1f dB\n", model, aa, alias);
    }
  }
}

TEST(Saturation, TheResultDoesNotDependOnTheSegmentLength) {
  const Planar in = sine(0.8, 440, kRate);
  const std::string sat =
      "{ type = \"saturation\", model = \"tape\", drive_db = 9, tone = 0.5, mix_pct = 70 }";
  EXPECT_EQ(render_sat(sat, in, 0).channels[0], render_sat(sat, in, 3001).channels[0]);
}

}  // namespace
}  // namespace td
