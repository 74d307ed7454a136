// Whole renders: summing through the bus tree, gains, automation, mute and solo, the
// delivery to a loudness target (checked against libebur128 on the written file),
// variants, and byte-identical repeats.
#include "render/render.h"

#include <gtest/gtest.h>
#include <omp.h>
#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

#include "demo/demo.h"
#include "io/audio_file.h"
#include "report/player_excerpt.h"
#include "test_util.h"

namespace td {
namespace {

using test::Planar;

Planar constant(float value, long long frames, int channels) {
  return Planar(channels, std::vector<float>(frames, value));
}

// Renders `toml` on the CPU with in-memory stems into dir; returns the result.
RenderResult render(const std::string& toml, const std::vector<Planar>& stems,
                    const std::filesystem::path& dir,
                    const std::string& backend = test::backend()) {
  const Session s = parse_session_text(toml, dir / "song.toml");
  RenderOptions o;
  o.backend = backend;
  o.out_dir = dir;
  return render_session(s, test::memory_stems(stems, 48000), o);
}

const char* kFloatDelivery = "[delivery]\nbit_depth = 32\n";  // no dither, no target: exact

TEST(Render, SumsTracksThroughBusesWithPanGainAndFader) {
  test::TempDir dir;
  const std::string toml = std::string(kFloatDelivery) + R"(
[[bus]]
name = "drums"
fader_db = -6.0206
[[track]]
name = "a"
file = "a.wav"
bus = "drums"
pan = -1.0
[[track]]
name = "b"
file = "b.wav"
gain_db = 6.0206
pan = 0.0
[[track]]
name = "c"
file = "c.wav"
pan = 0.5
)";
  // a: mono 0.5 hard left through a bus at -6.02 dB (x0.5); b: mono 0.1 centred at +6.02
  // dB (x2) with the -3 dB law; c: stereo (0.2, 0.4) with balance 0.5 (left x0.5).
  const Planar c = {std::vector<float>(4800, 0.2f), std::vector<float>(4800, 0.4f)};
  render(toml, {constant(0.5f, 4800, 1), constant(0.1f, 4800, 1), c}, dir.path);
  const AudioData out = read_audio(dir / "master.wav");
  const double b = 0.2 * std::sqrt(0.5);
  EXPECT_NEAR(out.channels[0][100], 0.5 * 0.5 + b + 0.1, 1e-6);
  EXPECT_NEAR(out.channels[1][100], 0.0 + b + 0.4, 1e-6);
}

TEST(Render, StemsOfDifferentLengthsArePaddedWithSilence) {
  test::TempDir dir;
  const std::string toml = std::string(kFloatDelivery) +
                           "[[track]]\nname = \"a\"\nfile = \"a.wav\"\npan_law_db = 0\n"
                           "[[track]]\nname = \"b\"\nfile = \"b.wav\"\npan_law_db = 0\n";
  const RenderResult r =
      render(toml, {constant(0.25f, 1000, 1), constant(0.5f, 3000, 1)}, dir.path);
  EXPECT_EQ(r.frames, 3000);
  const AudioData out = read_audio(dir / "master.wav");
  ASSERT_EQ(out.channels[0].size(), 3000u);
  EXPECT_FLOAT_EQ(out.channels[0][999], 0.75f);
  EXPECT_FLOAT_EQ(out.channels[0][1000], 0.5f);
}

TEST(Render, GainAutomationIsSampleAccurate) {
  test::TempDir dir;
  // -6 dB at 0 s rising linearly (in dB) to 0 dB at 0.1 s = 4800 samples.
  const std::string toml =
      std::string(kFloatDelivery) +
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\npan_law_db = 0\n"
      "automation = [ { param = \"gain_db\", points = [[0.0, -6.0], [0.1, 0.0]] } ]\n";
  render(toml, {constant(1.0f, 9600, 1)}, dir.path);
  const AudioData out = read_audio(dir / "master.wav");
  for (int n : {0, 1, 2400, 4799, 4800, 9000}) {
    const double db = n >= 4800 ? 0.0 : -6.0 + 6.0 * n / 4800.0;
    EXPECT_NEAR(out.channels[0][n], std::pow(10.0, db / 20.0), 2e-6) << "sample " << n;
  }
}

TEST(Render, MuteSilencesAndSoloIsolates) {
  test::TempDir dir;
  const std::string base =
      std::string(kFloatDelivery) + "[[track]]\nname = \"a\"\nfile = \"a.wav\"\npan_law_db = 0\n";
  render(base + "mute = true\n[[track]]\nname = \"b\"\nfile = \"b.wav\"\npan_law_db = 0\n",
         {constant(0.25f, 480, 1), constant(0.5f, 480, 1)}, dir.path);
  EXPECT_FLOAT_EQ(read_audio(dir / "master.wav").channels[0][10], 0.5f);
  render(base + "[[track]]\nname = \"b\"\nfile = \"b.wav\"\npan_law_db = 0\nsolo = true\n",
         {constant(0.25f, 480, 1), constant(0.125f, 480, 1)}, dir.path);
  EXPECT_FLOAT_EQ(read_audio(dir / "master.wav").channels[0][10], 0.125f);
}

TEST(Render, GainProcessorInTheChain) {
  test::TempDir dir;
  const std::string toml =
      std::string(kFloatDelivery) +
      "[master]\nchain = [ { type = \"gain\", gain_db = -6.0206, invert = true } ]\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\npan_law_db = 0\n";
  render(toml, {constant(0.5f, 480, 1)}, dir.path);
  EXPECT_NEAR(read_audio(dir / "master.wav").channels[1][10], -0.25, 1e-6);
}

// A small song with a loudness target, delivered in each fixed-point format.
std::string demo_toml_with(const DemoSong& song, const std::string& delivery) {
  std::string toml = song.session_toml;
  const size_t at = toml.find("[delivery]");
  const size_t end = toml.find("\n\n", at);
  return toml.substr(0, at) + delivery + toml.substr(end);
}

std::vector<Planar> stems_of(const DemoSong& song) {
  std::vector<Planar> out;
  for (const auto& st : song.stems) out.push_back(st.audio);
  return out;
}

TEST(Delivery, MasterLoudnessIsWithinATenthOfALUOfTheTargetByLibebur128) {
  DemoOptions o;
  o.seconds = 8.0;
  const DemoSong song = make_demo_song(o);
  // -10 LUFS at 0 dBTP is as loud as the demo's 8 s go within the maximizer's default
  // 6 dB of limiting (its kick has two mics); past that the render warns instead.
  for (const auto& [target, bits] :
       {std::pair{-14.0, 24}, std::pair{-23.0, 16}, std::pair{-10.0, 32}}) {
    test::TempDir dir;
    const std::string delivery = "[delivery]\nbit_depth = " + std::to_string(bits) +
                                 "\ntarget_lufs = " + std::to_string(target) +
                                 "\nceiling_dbtp = 0.0";
    const RenderResult r = render(demo_toml_with(song, delivery), stems_of(song), dir.path);
    const test::Ebur128Reading m = test::ebur128_measure(dir / "master.wav");
    // The delivery requirement (issue #2, and what streaming services check): 0.1 LU.
    EXPECT_NEAR(m.integrated_lufs, target, 0.1) << bits << "-bit";
    // Our report agrees with the reference reading of the written file.
    EXPECT_NEAR(r.variants[0].delivered_lufs, m.integrated_lufs, 0.02);
    // True peak: libebur128 oversamples with another filter; issue #3's bound is 0.2 dB.
    EXPECT_NEAR(r.variants[0].true_peak_dbtp, m.true_peak_dbtp, 0.2);
  }
}

// The report's excerpt starts where the short-term loudness over the excerpt (its points
// 3 s or more into it) is highest, on whole seconds: the same start and the same sums as a
// scan of the whole series for every start, in time order or not, with silent points.
TEST(Delivery, TheLoudestExcerptIsTheWholeScansChoice) {
  auto scan = [](const Readings& r, double length_s, double duration_s) {
    double best = 0.0, best_mean = -1e300;
    for (double start = 0.0; start + length_s <= duration_s; start += 1.0) {
      double sum = 0;
      int n = 0;
      for (const auto& [t, lufs] : r.short_term_series)
        if (t - 3.0 >= start && t <= start + length_s && std::isfinite(lufs)) sum += lufs, ++n;
      if (n > 0 && sum / n > best_mean) best_mean = sum / n, best = start;
    }
    return best;
  };
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> level(-30.0, -8.0);
  for (int trial = 0; trial < 20; ++trial) {
    Readings r;
    const double duration_s = 25.0 + trial * 7.3;
    for (double t = 3.0; t <= duration_s; t += 0.1)
      r.short_term_series.push_back({t, trial % 4 == 1 && t < 20.0 ? -INFINITY : level(rng)});
    if (trial % 5 == 4) std::shuffle(r.short_term_series.begin(), r.short_term_series.end(), rng);
    SCOPED_TRACE(testing::Message() << "trial " << trial);
    EXPECT_EQ(loudest_start(r, kExcerptSeconds, duration_s), scan(r, kExcerptSeconds, duration_s));
  }
}

// A one-variant render encodes the report page's excerpt while it writes the file, from the
// written pass's own samples (deliver.cpp): it must be the excerpt the page would make
// from the file itself, byte for byte, in every format and bit depth the delivery writes,
// limited and not. The song is longer than the excerpt, so it starts past the first
// sample (the dither is indexed by song position).
TEST(Delivery, TheExcerptMadeDuringTheWriteIsTheFilesOwn) {
  DemoOptions o;
  o.seconds = 26.0;
  const DemoSong song = make_demo_song(o);
  struct Case {
    std::string delivery;
    bool limited;
  };
  const std::string target = "target_lufs = -16.0\nceiling_dbtp = -1.0\n";
  std::vector<Case> cases = {Case{"format = \"wav\"\nbit_depth = 24\n" + target, true},
                             Case{"format = \"wav\"\nbit_depth = 16\n", false},
                             Case{"format = \"wav\"\nbit_depth = 16\n" + target, true},
                             Case{"format = \"flac\"\nbit_depth = 24\n" + target, true},
                             Case{"format = \"wav\"\nbit_depth = 32\n" + target, true}};
  // On the emulated device (a render there is slow) the one path that differs by backend:
  // the kept master read back from the device at the delivery gain.
  if (test::backend() != "cpu") cases = {cases[1]};
  for (const Case& c : cases) {
    test::TempDir dir;
    std::string toml = demo_toml_with(song, "[delivery]\n" + c.delivery);
    if (!c.limited) {  // no delivery limiter: the kept master at the delivery gain
      const size_t at = toml.find("{ type = \"limiter\"");
      ASSERT_NE(at, std::string::npos);
      toml.replace(at, toml.find('}', at) + 1 - at, "{ type = \"gain\" }");
    }
    const RenderResult r = render(toml, stems_of(song), dir.path);
    const VariantResult& v = r.variants[0];
    EXPECT_EQ(v.limited, c.limited) << c.delivery;
    ASSERT_TRUE(v.excerpt_opus.valid()) << c.delivery;
    EXPECT_GT(v.excerpt_start_s, 0.0) << c.delivery;
    const std::string from_file = excerpt_of_file(v.file, v.excerpt_start_s, kExcerptSeconds);
    ASSERT_FALSE(from_file.empty());
    EXPECT_TRUE(v.excerpt_opus.get() == from_file) << c.delivery;
  }
}

TEST(Delivery, TruePeakAboveTheCeilingIsAWarningUntilALimiterExists) {
  test::TempDir dir;
  // A stereo 1 kHz sine reads as loud in LUFS as its per-channel peak in dBFS, so -0.5 LUFS
  // puts the true peak at -0.5 dBTP: above a -1 dBTP ceiling.
  const std::string toml =
      "[delivery]\ntarget_lufs = -0.5\nceiling_dbtp = -1.0\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\n";
  const RenderResult r = render(toml, {test::sine(1000, 0.1, 3.0, 48000, 1)}, dir.path);
  ASSERT_FALSE(r.variants[0].warnings.empty());
  EXPECT_NE(r.variants[0].warnings[0].find("above the ceiling of -1.00 dBTP"), std::string::npos);
}

TEST(Delivery, UnnormalisedWithoutATarget) {
  test::TempDir dir;
  const RenderResult r = render("[[track]]\nname = \"a\"\nfile = \"a.wav\"\n",
                                {test::sine(1000, 0.25, 3.0, 48000, 1)}, dir.path);
  EXPECT_EQ(r.variants[0].delivery_gain_db, 0.0);
}

TEST(Variants, EachVariantIsWrittenAndMeasured) {
  test::TempDir dir;
  const std::string toml =
      "[master]\nchain = [ { type = \"gain\", id = \"trim\" } ]\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\n"
      "[variants.sweep]\n\"master.trim.gain_db\" = [-6, 0]\n\"a.pan\" = [-0.5, 0.5]\n";
  const RenderResult r = render(toml, {test::sine(1000, 0.25, 3.0, 48000, 1)}, dir.path);
  ASSERT_EQ(r.variants.size(), 4u);
  EXPECT_EQ(r.variants[0].id, "v0001");
  EXPECT_TRUE(std::filesystem::exists(dir / "variants" / "v0004.wav"));
  EXPECT_FALSE(std::filesystem::exists(dir / "master.wav"));
  // 6 dB of trim is 6 LU; the pan moves level between channels but keeps the power.
  EXPECT_NEAR(r.variants[2].rendered_lufs - r.variants[0].rendered_lufs, 6.0, 0.01);
  EXPECT_NEAR(r.variants[1].rendered_lufs, r.variants[0].rendered_lufs, 0.01);
  EXPECT_EQ(r.total_renders, 2 + 4);  // the track twice (pan), the master four times
}

TEST(GainStaging, EveryBusIsMeteredWithItsPreChainPeak) {
  test::TempDir dir;
  const std::string toml =
      std::string(kFloatDelivery) +
      "[session]\nheadroom_dbfs = -12\n"
      "[[bus]]\nname = \"drums\"\ngain_db = -6.0206\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\nbus = \"drums\"\npan_law_db = 0\n";
  const RenderResult r = render(toml, {test::sine(1000, 0.5, 2.0, 48000, 1)}, dir.path);
  ASSERT_EQ(r.meters.size(), 2u);  // drums and master
  EXPECT_EQ(r.meters[0].node, "drums");
  // Pre-chain: after the bus's input trim (-6.02 dB), so 0.25 = -12.04 dBFS: under -12.
  EXPECT_NEAR(r.meters[0].pre_chain_peak_dbfs, -12.04, 0.01);
  EXPECT_FALSE(r.meters[0].exceeds_headroom);
  EXPECT_NEAR(r.meters[0].readings.sample_peak_dbfs, -12.04, 0.01);
  EXPECT_NEAR(r.meters[1].readings.integrated_lufs, r.variants[0].rendered_lufs, 1e-9);
}

TEST(GainStaging, AutoGainStagingKeepsEveryBusUnderTheHeadroomAndTheBalanceWithinIt) {
  test::TempDir dir;
  // Two tracks on a hot drum bus (peaks add up to about -1 dBFS), one quiet track elsewhere.
  const std::string toml =
      std::string(kFloatDelivery) +
      "[session]\nheadroom_dbfs = -12\n"
      "[[bus]]\nname = \"drums\"\n[[bus]]\nname = \"keys\"\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\nbus = \"drums\"\n"
      "[[track]]\nname = \"b\"\nfile = \"b.wav\"\nbus = \"drums\"\ngain_db = -3\n"
      "[[track]]\nname = \"c\"\nfile = \"c.wav\"\nbus = \"keys\"\n";
  const Session s = parse_session_text(toml, dir / "song.toml");
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = dir.path;
  o.auto_gain_stage = true;
  const RenderResult r = render_session(
      s,
      test::memory_stems({test::sine(100, 0.5, 2.0, 48000, 1), test::sine(150, 0.5, 2.0, 48000, 1),
                          test::sine(300, 0.01, 2.0, 48000, 1)},
                         48000),
      o);
  for (const auto& m : r.meters)
    EXPECT_FALSE(m.exceeds_headroom) << m.node << " " << m.pre_chain_peak_dbfs;
  ASSERT_EQ(r.auto_gain_db.size(), 3u);
  EXPECT_LT(r.auto_gain_db[0].second, 0.0);
  EXPECT_DOUBLE_EQ(r.auto_gain_db[0].second, r.auto_gain_db[1].second);  // same cut: balance kept
  // The quiet track is cut only as much as the master needs, never more than the drums.
  EXPECT_GE(r.auto_gain_db[2].second, r.auto_gain_db[0].second);
  // The hot bus lands just under the headroom, not far below it.
  EXPECT_NEAR(r.meters[0].pre_chain_peak_dbfs, -12.0, 0.1);
}

TEST(BusMeters, OffMetersOnlyTheMasterAndMixesTheSame) {
  DemoOptions o;
  o.seconds = 4.0;
  const DemoSong song = make_demo_song(o);
  std::string toml = song.session_toml;
  toml.replace(toml.find("bit_depth = 24"), 14, "bit_depth = 32");
  toml.replace(toml.find("target_lufs = -14.0\n"), 20, "");
  const Session s = parse_session_text(toml, "demo.toml");
  test::TempDir a, b;
  RenderOptions oa, ob;
  oa.backend = ob.backend = test::backend();
  oa.out_dir = a.path;
  ob.out_dir = b.path;
  ob.bus_meters = false;
  const RenderResult ra = render_session(s, test::memory_stems(stems_of(song), 48000), oa);
  const RenderResult rb = render_session(s, test::memory_stems(stems_of(song), 48000), ob);
  EXPECT_EQ(ra.meters.size(), 6u);  // five buses and the master
  ASSERT_EQ(rb.meters.size(), 1u);
  EXPECT_EQ(rb.meters[0].kind, "master");
  // Folding the buses changes only the order of float additions: -120 dBFS.
  const AudioData x = read_audio(a / "master.wav"), y = read_audio(b / "master.wav");
  double worst = 0.0;
  for (int c = 0; c < 2; ++c)
    for (size_t i = 0; i < x.channels[c].size(); ++i)
      worst = std::max(worst, (double)std::fabs(x.channels[c][i] - y.channels[c][i]));
  EXPECT_LT(worst, 1e-6);
  EXPECT_NEAR(ra.variants[0].rendered_lufs, rb.variants[0].rendered_lufs, 1e-4);
}

TEST(Variants, ASubsetRendersTheSameBytesAsTheWhole) {
  // A shard of a session's variants: each variant's file must not depend on which other
  // variants were rendered with it.
  test::TempDir all, part;
  const std::string toml =
      "[master]\nchain = [ { type = \"gain\", id = \"trim\" } ]\n"
      "[[bus]]\nname = \"b\"\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\nbus = \"b\"\n"
      "[[track]]\nname = \"c\"\nfile = \"c.wav\"\n"
      "[variants.sweep]\n\"master.trim.gain_db\" = [-6, -3, 0]\n\"b.fader_db\" = [-1, 0]\n";
  const std::vector<Planar> stems = {test::sine(440, 0.3, 2.0, 48000, 1),
                                     test::sine(220, 0.2, 2.0, 48000, 2)};
  render(toml, stems, all.path);
  const Session s = parse_session_text(toml, part / "song.toml");
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = part.path;
  o.only_variants = {1, 4};
  const RenderResult r = render_session(s, test::memory_stems(stems, 48000), o);
  ASSERT_EQ(r.variants.size(), 2u);
  EXPECT_EQ(r.variants[0].id, "v0002");
  EXPECT_EQ(r.variants[1].id, "v0005");
  EXPECT_EQ(r.variant_total, 6);
  for (const char* id : {"v0002", "v0005"})
    EXPECT_EQ(test::read_bytes(all / "variants" / (std::string(id) + ".wav")),
              test::read_bytes(part / "variants" / (std::string(id) + ".wav")))
        << id;
  EXPECT_FALSE(std::filesystem::exists(part / "variants" / "v0001.wav"));
}

TEST(Variants, MastersInAFileDeliverTheSameBytesWhetherTheWrittenPassIsKeptOrRunAgain) {
  // The delivery limiter's measured pass is written from memory when the deliveries' copies
  // fit the budget, and run again when not; with the kept masters in memory or in a file.
  const std::string toml =
      "[master]\nchain = [ { type = \"gain\", id = \"trim\" }, { type = \"limiter\" } ]\n"
      "[delivery]\ntarget_lufs = -10.0\nceiling_dbtp = -1.0\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\n"
      "[variants.sweep]\n\"master.trim.gain_db\" = [-3, -2, -1, 0, 1, 2, 3, 4]\n";
  const long long frames = 96000;
  const std::vector<Planar> stems = {test::sine(440, 0.5, 2.0, 48000, 2)};
  const double keep_bytes = 8 * 2 * 4.0 * frames;  // 8 stereo masters of floats
  std::vector<std::vector<std::string>> files;
  for (double budget : {4e9, keep_bytes - 1, 500e3}) {
    SCOPED_TRACE(testing::Message() << "budget " << budget);
    test::TempDir dir;
    const Session s = parse_session_text(toml, dir / "song.toml");
    RenderOptions o;
    o.backend = "cpu";
    o.out_dir = dir.path;
    o.memory_budget_bytes = budget;
    const RenderResult r = render_session(s, test::memory_stems(stems, 48000), o);
    ASSERT_EQ(r.variants.size(), 8u);
    EXPECT_EQ(r.masters_on_disk, budget < keep_bytes);
    EXPECT_TRUE(r.variants[0].limited);
    std::vector<std::string> bytes;
    for (const auto& v : r.variants) bytes.push_back(test::read_bytes(v.file));
    files.push_back(bytes);
  }
  EXPECT_EQ(files[0], files[1]) << "in a file, the passes kept";
  EXPECT_EQ(files[0], files[2]) << "in a file, the passes run again";
}

TEST(Variants, AChainPrefixTheyAgreeOnIsComputedOnceAndChangesNoBit) {
  // Swept: the bus EQ's gain (2 values) and the compressor after it (2 thresholds). The EQ
  // runs once per EQ setting (2 of the 4 variants copy it); each variant's file is the
  // same bytes as the session rendered alone with that variant's values.
  const std::string chain =
      "[[bus]]\nname = \"b\"\nchain = [ { type = \"eq\", bands = [ { type = \"bell\", "
      "id = \"mid\", freq = 900, gain_db = GAIN, q = 1 } ] }, { type = \"compressor\", "
      "threshold_db = THRESHOLD, ratio = 4, attack_ms = 2, release_ms = 40 } ]\n"
      "[[track]]\nname = \"a\"\nfile = \"a.wav\"\nbus = \"b\"\n";
  auto with = [&](const std::string& gain, const std::string& threshold) {
    std::string t = std::string(kFloatDelivery) + chain;
    t.replace(t.find("GAIN"), 4, gain);
    t.replace(t.find("THRESHOLD"), 9, threshold);
    return t;
  };
  const std::vector<Planar> stems = {test::sine(700, 0.5, 2.0, 48000, 2)};
  test::TempDir all;
  const RenderResult r = render(with("3", "-20") +
                                    "[variants.sweep]\n\"b.eq.mid.gain_db\" = [-3, 3]\n"
                                    "\"b.compressor.threshold_db\" = [-20, -10]\n",
                                stems, all.path);
  ASSERT_EQ(r.variants.size(), 4u);
  EXPECT_EQ(r.shared_stages, 2);  // the EQ of two of the four bus instances
  int v = 1;
  for (const char* gain : {"-3", "3"})
    for (const char* threshold : {"-20", "-10"}) {
      test::TempDir one;
      const RenderResult single = render(with(gain, threshold), stems, one.path);
      EXPECT_EQ(single.shared_stages, 0);
      EXPECT_EQ(test::read_bytes(one / "master.wav"),
                test::read_bytes(all / "variants" / ("v000" + std::to_string(v) + ".wav")))
          << gain << " dB, " << threshold << " dB";
      ++v;
    }
}

TEST(Determinism, TheSameSessionRendersByteIdenticallyTwice) {
  DemoOptions o;
  o.seconds = 6.0;
  const DemoSong song = make_demo_song(o);
  test::TempDir a, b;
  render(song.session_toml, stems_of(song), a.path);
  render(song.session_toml, stems_of(song), b.path);
  EXPECT_EQ(test::read_bytes(a / "master.wav"), test::read_bytes(b / "master.wav"));
  EXPECT_EQ(test::read_bytes(a / "report.json"), test::read_bytes(b / "report.json"));
}

TEST(Determinism, FloatFilesDoNotDependOnTheWallClock) {
  // libsndfile stamps a float WAV's PEAK chunk with the time of writing (seconds); the
  // delivered file has no PEAK chunk, so a render a second later is the same bytes.
  test::TempDir a, b;
  const std::string toml =
      std::string(kFloatDelivery) + "[[track]]\nname = \"t\"\nfile = \"t.wav\"\n";
  const Planar in = constant(0.25f, 4800, 2);
  render(toml, {in}, a.path);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  render(toml, {in}, b.path);
  const std::string x = test::read_bytes(a / "master.wav");
  EXPECT_EQ(x, test::read_bytes(b / "master.wav"));
  EXPECT_EQ(x.find("PEAK"), std::string::npos);
}

TEST(Determinism, TheResultDoesNotDependOnTheSegmentLength) {
  // The work arena holds one segment at a time; automation, sums and the kept master must
  // come out the same whatever the split (odd sizes on purpose, as in JUCE's FIR test).
  DemoOptions o;
  o.seconds = 5.0;
  const DemoSong song = make_demo_song(o);
  const std::string toml = song.session_toml + "[variants.sweep]\n\"vocals.fader_db\" = [0, 2]\n";
  const Session s = parse_session_text(toml, "demo.toml");
  std::vector<std::string> files;
  for (long long segment : {0LL, 1000LL, 77777LL}) {
    test::TempDir dir;
    RenderOptions ro;
    ro.backend = test::backend();
    ro.out_dir = dir.path;
    ro.segment_frames = segment;
    render_session(s, test::memory_stems(stems_of(song), 48000), ro);
    files.push_back(test::read_bytes(dir / "variants" / "v0002.wav"));
  }
  EXPECT_EQ(files[0], files[1]);
  EXPECT_EQ(files[0], files[2]);
}

TEST(Determinism, MetersDoNotDependOnTheThreadCount) {
  // With more threads than metered channels, each channel's hop sums are cut into chunks
  // at the K-weighting's restarts (kernels/meter_chunks.h): at 1 thread the master and the
  // buses run whole, at 16 the master runs in chunks. The report must be the same bytes.
  DemoOptions o;
  o.seconds = 8.0;
  const DemoSong song = make_demo_song(o);
  const Session s = parse_session_text(song.session_toml, "demo.toml");
  std::vector<std::string> reports;
  std::vector<RenderResult> results;
  const int threads = omp_get_max_threads();
  for (int n : {1, 16}) {
    omp_set_num_threads(n);
    test::TempDir dir;
    RenderOptions ro;
    ro.backend = test::backend();
    ro.out_dir = dir.path;
    ro.segment_frames = 200000;  // segments that start mid-hop
    results.push_back(render_session(s, test::memory_stems(stems_of(song), 48000), ro));
    reports.push_back(test::read_bytes(dir / "report.json"));
  }
  omp_set_num_threads(threads);
  EXPECT_EQ(reports[0], reports[1]);
  // The figures themselves, unrounded.
  const VariantResult &a = results[0].variants[0], &b = results[1].variants[0];
  EXPECT_EQ(a.rendered_lufs, b.rendered_lufs);
  EXPECT_EQ(a.readings.short_term_series, b.readings.short_term_series);
  ASSERT_EQ(results[0].meters.size(), results[1].meters.size());
  for (size_t i = 0; i < results[0].meters.size(); ++i) {
    // Every hop sum: K-weighted (loudness), squares (RMS), rectified (VU), the cross
    // product (correlation) and the peaks, unrounded.
    const Readings &x = results[0].meters[i].readings, &y = results[1].meters[i].readings;
    EXPECT_EQ(x.momentary_series, y.momentary_series);
    EXPECT_EQ(x.rms_dbfs, y.rms_dbfs);
    EXPECT_EQ(x.vu_series, y.vu_series);
    EXPECT_EQ(x.correlation, y.correlation);
    EXPECT_EQ(x.sample_peak_dbfs, y.sample_peak_dbfs);
    EXPECT_EQ(x.true_peak_dbtp, y.true_peak_dbtp);
  }
}

TEST(Determinism, VariantsDeliveredInParallelAreTheSameAsOneAtATime) {
  // The delivery (limiter driven to the target, measurements, files) runs for several
  // variants at once on the CPU: the files and figures must not depend on the thread count.
  DemoOptions o;
  o.seconds = 4.0;
  const DemoSong song = make_demo_song(o);
  std::string toml = song.session_toml;
  toml = test::with_master_chain(toml,
                                 "{ type = \"gain\", id = \"trim\", gain_db = -2.0 }, "
                                 "{ type = \"limiter\", id = \"max\" }");
  toml += "[variants.sweep]\n\"master.trim.gain_db\" = [-4, 0, 3]\n\"drums.fader_db\" = [-2, 2]\n";
  const Session s = parse_session_text(toml, "demo.toml");
  std::vector<RenderResult> results;
  std::vector<test::TempDir> dirs(2);
  const int threads = omp_get_max_threads();
  for (int i = 0; i < 2; ++i) {
    omp_set_num_threads(i == 0 ? 1 : 4);
    RenderOptions ro;
    ro.backend = test::backend();
    ro.out_dir = dirs[i].path;
    results.push_back(render_session(s, test::memory_stems(stems_of(song), 48000), ro));
  }
  omp_set_num_threads(threads);
  ASSERT_EQ(results[0].variants.size(), 6u);
  for (size_t v = 0; v < 6; ++v) {
    const VariantResult &a = results[0].variants[v], &b = results[1].variants[v];
    EXPECT_TRUE(a.limited) << a.id;
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.limiter_drive_db, b.limiter_drive_db) << a.id;
    EXPECT_EQ(a.delivered_lufs, b.delivered_lufs) << a.id;
    EXPECT_EQ(test::read_bytes(a.file), test::read_bytes(b.file)) << a.id;
  }
}

TEST(Files, RenderFromStemFilesResamplesAndReportsThem) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "stems");
  test::write_file(dir / "stems/a.flac", test::sine(440, 0.3, 2.0, 44100, 2), 44100,
                   SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
  test::write_file(dir / "stems/b.aiff", test::sine(220, 0.3, 1.0, 48000, 1), 48000,
                   SF_FORMAT_AIFF | SF_FORMAT_PCM_16);
  test::write_text(dir / "song.toml",
                   "[[track]]\nname = \"a\"\nfile = \"stems/a.flac\"\n"
                   "[[track]]\nname = \"b\"\nfile = \"stems/b.aiff\"\n");
  const Session s = parse_session_file(dir / "song.toml");
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = dir.path;
  const RenderResult r = render_session(s, stems_from_files(s), o);
  EXPECT_EQ(r.frames, 96000);
  EXPECT_EQ(r.stems[0].sample_rate, 44100);
  EXPECT_TRUE(std::filesystem::exists(dir / "master.wav"));
}

TEST(Files, AnOutputThatWouldOverwriteAStemIsRefused) {
  test::TempDir dir;
  test::write_file(dir / "master.wav", test::sine(440, 0.3, 1.0, 48000, 1), 48000,
                   SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const std::string before = test::read_bytes(dir / "master.wav");
  test::write_text(dir / "song.toml", "[[track]]\nname = \"a\"\nfile = \"master.wav\"\n");
  const Session s = parse_session_file(dir / "song.toml");
  RenderOptions o;
  o.backend = test::backend();
  o.out_dir = dir.path;  // master.wav would land on the stem
  try {
    render_session(s, stems_from_files(s), o);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("would overwrite an input"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(test::read_bytes(dir / "master.wav"), before);
}

TEST(Files, AFailedRenderLeavesThePreviousOutputUntouched) {
  test::TempDir dir;
  test::write_text(dir / "master.wav", "previous render");
  test::write_text(dir / "song.toml", "[[track]]\nname = \"a\"\nfile = \"missing.wav\"\n");
  const Session s = parse_session_file(dir / "song.toml");
  EXPECT_THROW(stems_from_files(s), InputError);
  EXPECT_EQ(test::read_bytes(dir / "master.wav"), "previous render");
}

}  // namespace
}  // namespace td
