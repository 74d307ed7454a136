// BS.1770-4 integrated loudness against EBU Tech 3341 (minimum requirements, cases 1-5)
// and against libebur128, the reference implementation.
#include "loudness.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/loudness.h"
#include "demo/demo.h"
#include "test_util.h"

namespace td {
namespace {

using test::Planar;

// Tech 3341 allows +-0.1 LU for integrated loudness.
constexpr double kTech3341Tolerance = 0.1;

Planar concat(std::initializer_list<std::pair<double, double>> segments /* dBFS, s */) {
  Planar out(2);
  for (auto [dbfs, seconds] : segments) {
    const Planar s = test::sine(1000.0, std::pow(10.0, dbfs / 20.0), seconds, 48000, 2);
    for (int c = 0; c < 2; ++c) out[c].insert(out[c].end(), s[c].begin(), s[c].end());
  }
  return out;
}

TEST(IntegratedLoudness, StereoSineAtMinus23dBFSIsMinus23LUFS) {
  // Tech 3341 case 1: 1 kHz, -23 dBFS per channel, 20 s.
  const Planar x = test::sine(1000.0, std::pow(10.0, -23.0 / 20.0), 20.0, 48000, 2);
  EXPECT_NEAR(integrated_loudness(x, 48000), -23.0, kTech3341Tolerance);
}

TEST(IntegratedLoudness, EbuTech3341Case2) {
  const Planar x = test::sine(1000.0, std::pow(10.0, -33.0 / 20.0), 20.0, 48000, 2);
  EXPECT_NEAR(integrated_loudness(x, 48000), -33.0, kTech3341Tolerance);
}

TEST(IntegratedLoudness, EbuTech3341Cases3To5ExerciseTheGates) {
  EXPECT_NEAR(integrated_loudness(concat({{-36, 10}, {-23, 60}, {-36, 10}}), 48000), -23.0,
              kTech3341Tolerance);
  EXPECT_NEAR(
      integrated_loudness(concat({{-72, 10}, {-36, 10}, {-23, 60}, {-36, 10}, {-72, 10}}), 48000),
      -23.0, kTech3341Tolerance);
  EXPECT_NEAR(integrated_loudness(concat({{-26, 20}, {-20, 20.1}, {-26, 20}}), 48000), -23.0,
              kTech3341Tolerance);
}

TEST(IntegratedLoudness, OtherSampleRatesUseTheSameAnalogPrototype) {
  for (int rate : {44100, 96000}) {
    const Planar x = test::sine(1000.0, std::pow(10.0, -23.0 / 20.0), 20.0, rate, 2);
    EXPECT_NEAR(integrated_loudness(x, rate), -23.0, kTech3341Tolerance) << rate;
  }
}

TEST(IntegratedLoudness, AgreesWithLibebur128OnMusic) {
  // The demo's stems summed: program material with gaps, transients and a wide spectrum.
  DemoOptions o;
  o.seconds = 12.0;
  const DemoSong song = make_demo_song(o);
  Planar mix(2, std::vector<float>(song.stems[0].audio[0].size(), 0.0f));
  for (const auto& st : song.stems)
    for (int c = 0; c < 2; ++c) {
      const auto& src = st.audio[std::min<size_t>(c, st.audio.size() - 1)];
      for (size_t i = 0; i < src.size(); ++i) mix[c][i] += src[i];
    }
  // Same algorithm, same gates; only block-boundary and float/double rounding differ:
  // 0.01 LU is ten times tighter than Tech 3341 asks.
  EXPECT_NEAR(integrated_loudness(mix, 48000), test::ebur128_integrated(mix, 48000), 0.01);
}

TEST(KWeighting, SimdLanesGiveTheScalarLoopsNumbersBitForBit) {
  const auto a = test::sine(997.0, 0.3, 1.0, 48000, 1)[0],
             b = test::sine(50.0, 0.7, 1.0, 48000, 1)[0];
  const auto c = test::sine(12000.0, 0.1, 1.0, 48000, 1)[0],
             d = test::sine(3.0, 0.9, 1.0, 48000, 1)[0];
  const KWeighting k = design_kweighting(48000);
  const long long n = (long long)a.size(), hop = 4800, hops = n / hop;
  std::vector<std::vector<double>> lanes(4, std::vector<double>(hops)), scalar = lanes;
  const float* x[4] = {a.data(), b.data(), c.data(), d.data()};
  double* e[4] = {lanes[0].data(), lanes[1].data(), lanes[2].data(), lanes[3].data()};
  kweight_hop_energies_lanes<4>(x, n, k, hop, e);
  for (int l = 0; l < 4; ++l) {
    kweight_hop_energies(x[l], n, k, hop, scalar[l].data());
    EXPECT_EQ(lanes[l], scalar[l]) << "lane " << l;
  }
}

TEST(IntegratedLoudness, SilenceAndTooShortAreMinusInfinity) {
  const Planar silent(2, std::vector<float>(48000 * 5, 0.0f));
  EXPECT_TRUE(std::isinf(integrated_loudness(silent, 48000)));
  const Planar short_sine = test::sine(1000.0, 0.5, 0.3, 48000, 2);  // under one 400 ms block
  EXPECT_TRUE(std::isinf(integrated_loudness(short_sine, 48000)));
}

}  // namespace
}  // namespace td
