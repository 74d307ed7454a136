// The EQ through whole renders (issue #4): an impulse rendered through each band type
// against the RBJ cookbook's analog prototypes, linear phase, the flat null, minimum
// phase, latency compensation across paths with different latencies, sweeps, and
// results that do not depend on the segment length.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>

#include "io/audio_file.h"
#include "kernels/eq.h"
#include "kernels/fir_design.h"
#include "render/render.h"
#include "test_util.h"

namespace td {
namespace {

using test::Planar;
constexpr double kPi = 3.14159265358979323846;
constexpr int kRate = 48000;
// The impulse sits this far into the song, with as much after it: the longest FIR
// (131071 taps at 48 kHz) fits whole on both sides.
constexpr long long kAt = 70000;
constexpr long long kFrames = 2 * kAt;

const char* kHeader = R"([session]
sample_rate = 48000
[delivery]
bit_depth = 32
)";

Planar impulse(long long at, long long frames) {
  Planar p(2, std::vector<float>(frames, 0.0f));
  p[0][at] = p[1][at] = 1.0f;
  return p;
}

Planar noise(long long frames, float amplitude, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-amplitude, amplitude);
  Planar p(2, std::vector<float>(frames));
  for (auto& ch : p)
    for (float& v : ch) v = u(gen);
  return p;
}

// Renders one stereo track through `master_chain` (a TOML array body); returns the
// delivered file.
AudioData render_master(const std::string& master_chain, const Planar& stem,
                        const std::string& extra = "", long long segment = 0,
                        RenderResult* result = nullptr) {
  return test::render_text(test::chain_session(master_chain, "", extra), {stem}, segment, result);
}

double db(double x) {
  return 20.0 * std::log10(x);
}

// |sum_n y[n] e^(-j w n)|: the response of the rendered impulse at f.
double measured(const std::vector<float>& y, double f) {
  const double w = 2.0 * kPi * f / kRate;
  std::complex<double> sum = 0.0;
  for (size_t n = 0; n < y.size(); ++n)
    if (y[n] != 0.0f) sum += (double)y[n] * std::polar(1.0, -w * (double)n);
  return std::abs(sum);
}

struct Band {
  std::string toml;  // the band table as the session writes it
  EqBand prototype;  // the same band for the analog formulas
};

// The worst deviation from the prototype at 1/12-octave points from 20 Hz to 20 kHz where
// the prototype is above -40 dB: separately at and above 30 Hz, and below.
struct Deviation {
  double from_30_hz = 0, below_30_hz = 0;
};

Deviation deviation(const std::vector<float>& y, const std::vector<EqBand>& bands) {
  Deviation d;
  for (int k = 0; k <= 120; ++k) {
    const double f = 20.0 * std::pow(2.0, k / 12.0);
    if (f > 20000.0) break;
    const double p = db(eq_magnitude(bands, f));
    if (p < -40.0) continue;
    const double e = std::fabs(db(measured(y, f)) - p);
    (f >= 30.0 ? d.from_30_hz : d.below_30_hz) =
        std::max(f >= 30.0 ? d.from_30_hz : d.below_30_hz, e);
  }
  return d;
}

std::vector<Band> every_band_type() {
  using T = EqBandType;
  return {
      {"{ type = \"highpass\", freq = 25, slope = 24 }", {T::kHighpass, 25, 0, 0, 24}},
      {"{ type = \"highpass\", freq = 80, slope = 48 }", {T::kHighpass, 80, 0, 0, 48}},
      {"{ type = \"highpass\", freq = 100, slope = 6 }", {T::kHighpass, 100, 0, 0, 6}},
      {"{ type = \"highpass\", freq = 30, slope = 96 }", {T::kHighpass, 30, 0, 0, 96}},
      {"{ type = \"highpass\", freq = 200, slope = 18 }", {T::kHighpass, 200, 0, 0, 18}},
      {"{ type = \"lowpass\", freq = 10000, slope = 96 }", {T::kLowpass, 10000, 0, 0, 96}},
      {"{ type = \"lowpass\", freq = 200, slope = 12 }", {T::kLowpass, 200, 0, 0, 12}},
      {"{ type = \"lowpass\", freq = 5000, slope = 36 }", {T::kLowpass, 5000, 0, 0, 36}},
      {"{ type = \"lowshelf\", freq = 100, gain_db = 6, q = 0.7071 }",
       {T::kLowShelf, 100, 6, 0.7071, 0}},
      {"{ type = \"lowshelf\", freq = 50, gain_db = -12, slope = 1 }",
       {T::kLowShelf, 50, -12, 0, 1}},
      {"{ type = \"highshelf\", freq = 10000, gain_db = 3, q = 0.7071 }",
       {T::kHighShelf, 10000, 3, 0.7071, 0}},
      {"{ type = \"highshelf\", freq = 3000, gain_db = -6, slope = 0.5 }",
       {T::kHighShelf, 3000, -6, 0, 0.5}},
      {"{ type = \"bell\", freq = 400, gain_db = -2, q = 1.2 }", {T::kBell, 400, -2, 1.2, 0}},
      {"{ type = \"bell\", freq = 10000, gain_db = 1, q = 0.7 }", {T::kBell, 10000, 1, 0.7, 0}},
      {"{ type = \"bell\", freq = 60, gain_db = 12, q = 4 }", {T::kBell, 60, 12, 4, 0}},
      {"{ type = \"bell\", freq = 3000, gain_db = -9, q = 6 }", {T::kBell, 3000, -9, 6, 0}},
      {"{ type = \"notch\", freq = 1000, q = 4 }", {T::kNotch, 1000, 0, 4, 0}},
      {"{ type = \"notch\", freq = 1030, q = 4 }", {T::kNotch, 1030, 0, 4, 0}},
      {"{ type = \"bandpass\", freq = 2000, q = 2 }", {T::kBandpass, 2000, 0, 2, 0}},
      {"{ type = \"bandpass\", freq = 100, q = 5 }", {T::kBandpass, 100, 0, 5, 0}},
      {"{ type = \"tilt\", freq = 1000, gain_db = 6 }", {T::kTilt, 1000, 6, 0, 0}},
      {"{ type = \"tilt\", freq = 300, gain_db = -4 }", {T::kTilt, 300, -4, 0, 0}},
  };
}

void expect_matches_prototype(const std::string& mode) {
  for (const Band& b : every_band_type()) {
    const AudioData out =
        render_master("{ type = \"eq\", mode = \"" + mode + "\", bands = [ " + b.toml + " ] }",
                      impulse(kAt, kFrames));
    ASSERT_EQ((long long)out.channels[0].size(), kFrames) << "the file keeps the song's length";
    const Deviation d = deviation(out.channels[0], {b.prototype});
    EXPECT_LT(d.from_30_hz, 0.1) << mode << " " << b.toml;
    // Below 30 Hz a FIR of at most 2.7 s cannot follow the steepest slopes' curvature
    // exactly (its resolution is about 1 / 2.7 s = 0.4 Hz, and a 96 dB/octave slope at
    // 25 Hz changes 5 dB per Hz); measured up to 0.21 dB there, so held to 0.3 dB.
    EXPECT_LT(d.below_30_hz, 0.3) << mode << " " << b.toml;
  }
}

TEST(EqRender, EveryBandTypeMatchesTheAnalogPrototypeLinearPhase) {
  expect_matches_prototype("linear");
}

TEST(EqRender, EveryBandTypeMatchesTheAnalogPrototypeMinimumPhase) {
  expect_matches_prototype("minimum");
}

TEST(EqRender, TheSeedMixBusEqMatchesTheProductOfItsBands) {
  const AudioData out = render_master(
      "{ type = \"eq\", bands = [ { id = \"hp\", type = \"highpass\", freq = 25, slope = 24 }, "
      "{ id = \"air\", type = \"bell\", freq = 10000, gain_db = 1.0, q = 0.7 }, "
      "{ id = \"mud\", type = \"bell\", freq = 300, gain_db = -1.5, q = 1.4 }, "
      "{ id = \"off\", type = \"bell\", freq = 2000, gain_db = 12, q = 1, enabled = false } ] }",
      impulse(kAt, kFrames));
  const Deviation d = deviation(out.channels[1], {{EqBandType::kHighpass, 25, 0, 0, 24},
                                                  {EqBandType::kBell, 10000, 1.0, 0.7, 0},
                                                  {EqBandType::kBell, 300, -1.5, 1.4, 0}});
  EXPECT_LT(d.from_30_hz, 0.1);
  EXPECT_LT(d.below_30_hz, 0.3);
}

TEST(EqRender, LinearPhaseIsSymmetricAboutTheInputSample) {
  // Latency compensated: the response is centred on the impulse's own sample, and
  // symmetric about it to -120 dB of its peak (float FFT convolution rounding is ~-140 dB).
  for (const char* band : {"{ type = \"bell\", freq = 400, gain_db = -2, q = 1.2 }",
                           "{ type = \"highpass\", freq = 80, slope = 48 }",
                           "{ type = \"tilt\", freq = 1000, gain_db = 6 }"}) {
    const AudioData out = render_master(std::string("{ type = \"eq\", bands = [ ") + band + " ] }",
                                        impulse(kAt, kFrames));
    const std::vector<float>& y = out.channels[0];
    float peak = 0;
    long long at = 0;
    for (long long n = 0; n < kFrames; ++n)
      if (std::fabs(y[n]) > peak) peak = std::fabs(y[n]), at = n;
    EXPECT_EQ(at, kAt) << band;
    double worst = 0;
    for (long long k = 1; k < kAt; ++k)
      worst = std::max(worst, (double)std::fabs(y[kAt + k] - y[kAt - k]));
    EXPECT_LT(db(worst / peak), -120.0) << band;
  }
}

TEST(EqRender, AFlatEqNullsAgainstItsInput) {
  // All gains 0 dB: the response is a unit impulse at the centre tap; full-scale noise
  // comes back to below -120 dBFS.
  const Planar in = noise(100000, 0.99f, 7);
  const AudioData out = render_master(
      "{ type = \"eq\", bands = [ { type = \"bell\", freq = 300, gain_db = 0, q = 2 }, "
      "{ type = \"lowshelf\", freq = 80, gain_db = 0 }, { type = \"tilt\", freq = 1000, gain_db = "
      "0 } ] }",
      in);
  double worst = 0;
  for (int c = 0; c < 2; ++c)
    for (size_t n = 0; n < in[c].size(); ++n)
      worst = std::max(worst, (double)std::fabs(out.channels[c][n] - in[c][n]));
  EXPECT_LT(db(worst), -120.0);
}

TEST(EqRender, MinimumPhaseHasNoPreRinging) {
  // Nothing before the input sample (causal), and the energy before the main peak below
  // -60 dB of the total. (Bands whose main peak is the direct sound: a low-pass's own
  // response rises over its first samples and peaks later, a rise that is not ringing; it
  // is held to causality alone, below.)
  for (const char* band : {"{ type = \"highpass\", freq = 80, slope = 48 }",
                           "{ type = \"bell\", freq = 200, gain_db = 9, q = 3 }",
                           "{ type = \"highshelf\", freq = 4000, gain_db = -6 }",
                           "{ type = \"notch\", freq = 60, q = 8 }"}) {
    const AudioData out = render_master(
        std::string("{ type = \"eq\", mode = \"minimum\", bands = [ ") + band + " ] }",
        impulse(kAt, kFrames));
    const std::vector<float>& y = out.channels[0];
    double total = 0, before_input = 0;
    long long peak_at = 0;
    for (long long n = 0; n < kFrames; ++n) {
      total += (double)y[n] * y[n];
      if (n < kAt) before_input += (double)y[n] * y[n];
      if (std::fabs(y[n]) > std::fabs(y[peak_at])) peak_at = n;
    }
    double before_peak = 0;
    for (long long n = 0; n < peak_at; ++n) before_peak += (double)y[n] * y[n];
    EXPECT_GE(peak_at, kAt) << band;
    EXPECT_LT(10 * std::log10(before_input / total + 1e-30), -120.0) << band;
    EXPECT_LT(10 * std::log10(before_peak / total + 1e-30), -60.0) << band;
  }
  // Low-pass: causal in minimum phase; the linear-phase version rings before its peak.
  for (const char* mode : {"minimum", "linear"}) {
    const AudioData out =
        render_master(std::string("{ type = \"eq\", mode = \"") + mode +
                          "\", bands = [ { type = \"lowpass\", freq = 2000, slope = 48 } ] }",
                      impulse(kAt, kFrames));
    double total = 0, before_input = 0;
    for (long long n = 0; n < kFrames; ++n) {
      const double e = (double)out.channels[0][n] * out.channels[0][n];
      total += e;
      if (n < kAt) before_input += e;
    }
    if (std::string(mode) == "minimum")
      EXPECT_LT(10 * std::log10(before_input / total + 1e-30), -120.0);
    else
      EXPECT_GT(10 * std::log10(before_input / total), -40.0);
  }
}

TEST(EqRender, PathsWithDifferentLatenciesSumAligned) {
  // The same noise on two tracks: one through a flat linear-phase EQ on its own bus (one
  // FIR's latency), one polarity-inverted with none. Aligned to the sample, they cancel;
  // one sample off, they would not. The file has the stems' length plus the tail.
  test::TempDir dir;
  const std::string toml = std::string(kHeader) + R"(tail_s = 0.5
[[bus]]
name = "eqd"
chain = [ { type = "eq", bands = [ { type = "bell", freq = 100, gain_db = 0, q = 1 } ] } ]
[[track]]
name = "a"
file = "a.wav"
bus = "eqd"
chain = [ { type = "eq", mode = "minimum", bands = [ { type = "tilt", freq = 500, gain_db = 0 } ] } ]
[[track]]
name = "b"
file = "b.wav"
chain = [ { type = "gain", gain_db = 0, invert = true } ]
)";
  // tail_s goes in [session]: move it there.
  std::string fixed = toml;
  fixed.erase(fixed.find("tail_s = 0.5\n"), 13);
  fixed.insert(fixed.find("sample_rate"), "tail_s = 0.5\n");
  const Session s = parse_session_text(fixed, dir / "song.toml");
  const Planar in = noise(48000, 0.5f, 3);
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = dir.path;
  const RenderResult r = render_session(s, test::memory_stems({in, in}, kRate), o);
  EXPECT_GT(r.latency_samples, 0);
  const AudioData out = read_audio(dir / "master.wav");
  ASSERT_EQ((long long)out.channels[0].size(), 48000 + 24000);
  double worst = 0;
  for (int c = 0; c < 2; ++c)
    for (float v : out.channels[c]) worst = std::max(worst, (double)std::fabs(v));
  EXPECT_LT(db(worst), -120.0);
}

TEST(EqRender, SweptBandsRenderEachSettingAsItsOwnSessionWould) {
  // A variant is byte-identical to a plain render of its setting: the FIR's length is
  // chosen from every swept value, so the variant that needs the longest sets it for all
  // and the plain render of that setting must be given the same sweep to compare.
  const std::string eq =
      "{ type = \"eq\", id = \"eq\", bands = [ { id = \"lo\", type = \"highpass\", freq = 40, "
      "slope = 24 }, { id = \"air\", type = \"bell\", freq = 10000, gain_db = 0.5, q = 0.7 } ] }";
  const Planar in = noise(60000, 0.25f, 11);
  test::TempDir dir;
  const std::string toml = std::string(kHeader) + "[master]\nchain = [ " + eq +
                           " ]\n[[track]]\nname = \"t\"\nfile = \"t.wav\"\n"
                           "[variants.sweep]\n\"master.eq.air.gain_db\" = [0.5, 1.0]\n"
                           "\"master.eq.lo.slope\" = [12, 24]\n";
  const Session s = parse_session_text(toml, dir / "song.toml");
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = dir.path;
  const RenderResult r = render_session(s, test::memory_stems({in}, kRate), o);
  ASSERT_EQ(r.variants.size(), 4u);
  // The subset {v0003} alone gives the same bytes (the FIR length does not depend on it).
  test::TempDir one;
  o.out_dir = one.path;
  o.only_variants = {2};
  render_session(s, test::memory_stems({in}, kRate), o);
  EXPECT_EQ(test::read_bytes(dir / "variants" / "v0003.wav"),
            test::read_bytes(one / "variants" / "v0003.wav"));
  // And the settings differ audibly: +0.5 dB more air in v0003 than v0001 at 10 kHz.
  const AudioData a = read_audio(dir / "variants" / "v0001.wav"),
                  b = read_audio(dir / "variants" / "v0003.wav");
  EXPECT_NE(a.channels[0], b.channels[0]);
}

TEST(EqRender, TheResultDoesNotDependOnTheSegmentLength) {
  // Blocks sit at fixed stream positions, so any split gives the same bytes (odd sizes,
  // shorter and longer than the FIR's hop).
  const Planar in = noise(150000, 0.3f, 5);
  const std::string eq =
      "{ type = \"eq\", bands = [ { type = \"highpass\", freq = 60, slope = 36 }, "
      "{ type = \"bell\", freq = 2500, gain_db = -3, q = 2 } ] }, "
      "{ type = \"eq\", id = \"eq2\", mode = \"minimum\", bands = [ { type = \"tilt\", freq = "
      "800, gain_db = 2 } ] }";
  std::vector<std::vector<float>> outs;
  for (long long segment : {0LL, 1000LL, 77777LL, 4097LL})
    outs.push_back(render_master(eq, in, "", segment).channels[1]);
  for (size_t i = 1; i < outs.size(); ++i) EXPECT_EQ(outs[0], outs[i]) << i;
}

TEST(EqRender, ReportsEachNodesLatency) {
  RenderResult r;
  render_master("{ type = \"eq\", bands = [ { type = \"bell\", freq = 1000, gain_db = 3 } ] }",
                noise(1000, 0.1f, 1), "", 0, &r);
  // The FIR's delay (the centre tap) plus one hop (fir.h).
  const EqBand bell{EqBandType::kBell, 1000, 3, 0, 0};
  const FirShape shape =
      fir_shape(fir_taps_for(eq_band_fir_duration_s(bell), kRate), FirPhase::kLinear);
  EXPECT_EQ(shape.latency(), (shape.taps - 1) / 2 + shape.hop);
  EXPECT_EQ(r.latency_samples, shape.latency());
  EXPECT_EQ(r.nodes.back().latency_samples, shape.latency());
}

TEST(EqSession, BandKeysAreCheckedPerType) {
  auto error_of = [](const std::string& bands) {
    try {
      parse_session_text(std::string(kHeader) + "[master]\nchain = [ { type = \"eq\", bands = [ " +
                             bands + " ] } ]\n[[track]]\nname = \"t\"\nfile = \"t.wav\"\n",
                         "/s/song.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("{ type = \"highpass\", freq = 30, slope = 20 }").find("one of 6, 12, 18"),
            std::string::npos);
  EXPECT_NE(error_of("{ type = \"highpass\", freq = 30, q = 2 }").find("does not apply"),
            std::string::npos);
  EXPECT_NE(error_of("{ type = \"lowshelf\", freq = 30, slope = 2 }").find("0.1 .. 1"),
            std::string::npos);
  EXPECT_NE(error_of("{ type = \"bell\", gain_db = 2 }").find("freq"), std::string::npos);
  EXPECT_NE(error_of("{ type = \"bell\", freq = 5, gain_db = 2 }").find("10 .. 24000"),
            std::string::npos);
  EXPECT_EQ(error_of("{ type = \"lowshelf\", freq = 80, gain_db = 3, slope = 0.8 }"), "");
}

}  // namespace
}  // namespace td
