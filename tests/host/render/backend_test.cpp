// One test body over every backend: the CUDA backend must render what the CPU renders.
// Without a GPU (or without the toolkit) the CUDA cases skip and say why.
#include "backend/backend.h"

#include <gtest/gtest.h>

#include <cmath>

#include "demo/demo.h"
#include "io/audio_file.h"
#include "render/render.h"
#include "test_util.h"

namespace td {
namespace {

class Backends : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    if (GetParam() == "cuda" && !test::device_available(&why))
      GTEST_SKIP() << "no CUDA device: " << why;
  }

  // The demo song's session with float delivery (no dither: files comparable sample by
  // sample).
  static std::string float_session(const DemoSong& song) {
    std::string toml = song.session_toml;
    toml.replace(toml.find("bit_depth = 24"), 14, "bit_depth = 32");
    return toml;
  }

  // Renders `toml` with the song's stems on the CPU and on the backend under test.
  std::pair<RenderResult, RenderResult> render_both(const std::string& toml, const DemoSong& song) {
    std::vector<test::Planar> stems;
    for (const auto& st : song.stems) stems.push_back(st.audio);
    const Session s = parse_session_text(toml, "demo.toml");
    RenderOptions o1, o2;
    o1.backend = "cpu";
    o1.out_dir = cpu_dir_.path;
    o2.backend = GetParam();
    o2.out_dir = dev_dir_.path;
    return {render_session(s, test::memory_stems(stems, 48000), o1),
            render_session(s, test::memory_stems(stems, 48000), o2)};
  }

  // The largest sample difference between two renders of a variant.
  static double worst_difference(const VariantResult& a, const VariantResult& b) {
    const AudioData x = read_audio(a.file), y = read_audio(b.file);
    EXPECT_EQ(x.channels[0].size(), y.channels[0].size());
    double worst = 0.0;
    for (int c = 0; c < 2; ++c)
      for (size_t i = 0; i < x.channels[c].size() && i < y.channels[c].size(); ++i)
        worst = std::max(worst, (double)std::fabs(x.channels[c][i] - y.channels[c][i]));
    return worst;
  }

  test::TempDir cpu_dir_, dev_dir_;
};

TEST_P(Backends, RenderMatchesTheCpuRender) {
  DemoOptions o;
  o.seconds = 6.0;
  const DemoSong song = make_demo_song(o);
  const std::string toml = float_session(song) +
                           "[variants.sweep]\n\"master.trim.gain_db\" = [-3, -1]\n"
                           "\"drums.fader_db\" = [-2, 0]\n";
  const auto [a, b] = render_both(toml, song);
  ASSERT_EQ(a.variants.size(), b.variants.size());
  for (size_t v = 0; v < a.variants.size(); ++v) {
    // Loudness from double-precision K-weighting on both: equal to 0.001 LU.
    EXPECT_NEAR(a.variants[v].rendered_lufs, b.variants[v].rendered_lufs, 1e-3);
    // Same math in float; powf/cosf differ by an ulp or two between libm and CUDA: -120 dBFS.
    EXPECT_LT(worst_difference(a.variants[v], b.variants[v]), 1e-6) << a.variants[v].id;
  }
  // The long-term spectra (the spectrum stage: FFTW frames on the CPU, cuFFT batches on the
  // device, powers summed in frame order on both): FFTs of 32768 points round differently,
  // about 1e-6 relative per bin, so bands with signal agree to 0.001 dB.
  ASSERT_EQ(a.meters.size(), b.meters.size());
  for (size_t m = 0; m < a.meters.size(); ++m)
    for (size_t k = 0; k < a.meters[m].spectrum.size(); ++k)
      if (a.meters[m].spectrum[k].db > -100.0)
        EXPECT_NEAR(a.meters[m].spectrum[k].db, b.meters[m].spectrum[k].db, 1e-3)
            << a.meters[m].node << " " << a.meters[m].spectrum[k].hz << " Hz";
  for (size_t v = 0; v < a.variants.size(); ++v)
    for (size_t k = 0; k < a.variants[v].spectra.side.size(); ++k)
      if (a.variants[v].spectra.side[k].db > -100.0)
        EXPECT_NEAR(a.variants[v].spectra.side[k].db, b.variants[v].spectra.side[k].db, 1e-3);
}

TEST_P(Backends, EqMatchesTheCpuEq) {
  // Linear- and minimum-phase EQs on a track, a bus and the master, swept: every FIR size
  // of the level batched together. cuFFT and FFTW round differently (float transforms,
  // about 1e-7 of full scale per pass); three chained FIRs stay below -100 dBFS.
  DemoOptions o;
  o.seconds = 4.0;
  const DemoSong song = make_demo_song(o);
  std::string toml = float_session(song);
  toml += R"([variants.sweep]
"drums.lows.hp.freq" = [40, 80]
"master.tone.air.gain_db" = [0.5, 1.5]
)";
  // The EQs go into the chains the demo already has.
  auto add_chain = [&](const std::string& node_header, const std::string& entry) {
    const size_t at = toml.find(node_header);
    ASSERT_NE(at, std::string::npos) << node_header;
    const size_t chain = toml.find("chain = [", at);
    const size_t next = toml.find("\n[", at + 1);
    if (chain != std::string::npos && chain < next)
      toml.insert(chain + 9, " " + entry + ",");
    else
      toml.insert(toml.find('\n', at) + 1, "chain = [ " + entry + " ]\n");
  };
  add_chain("[master]",
            "{ type = \"eq\", id = \"tone\", bands = [ { type = \"highpass\", freq = 25, slope "
            "= 24 }, { id = \"air\", type = \"bell\", freq = 10000, gain_db = 1, q = 0.7 } ] }");
  add_chain("name = \"drums\"",
            "{ type = \"eq\", id = \"lows\", mode = \"minimum\", bands = [ { id = \"hp\", type = "
            "\"highpass\", freq = 60, slope = 18 } ] }");
  const auto [a, b] = render_both(toml, song);
  ASSERT_EQ(a.variants.size(), 4u);
  ASSERT_EQ(a.variants.size(), b.variants.size());
  EXPECT_GT(a.latency_samples, 0);
  EXPECT_EQ(a.latency_samples, b.latency_samples);
  for (size_t v = 0; v < a.variants.size(); ++v) {
    EXPECT_NEAR(a.variants[v].rendered_lufs, b.variants[v].rendered_lufs, 1e-3);
    EXPECT_LT(worst_difference(a.variants[v], b.variants[v]), 1e-5) << a.variants[v].id;
  }
}

TEST_P(Backends, DynamicsMatchTheCpuDynamics) {
  // Compressors (one keyed by the kick, one opto with auto release and look-ahead) and a
  // streaming limiter, swept (a 5 ms release: short enough that the device cuts each
  // limiter's segment into chunks, limiter_chunks.h). log2f/exp2f differ by an ulp or two between
  // glibc and CUDA and the recurrences carry it, smoothed: held to -80 dBFS, 0.01 dB of reduction.
  DemoOptions o;
  o.seconds = 4.0;
  const DemoSong song = make_demo_song(o);
  std::string toml = float_session(song);
  toml += R"([variants.sweep]
"master.glue.ratio" = [2, 4]
"master.max.ceiling_dbtp" = [-3, -1]
)";
  toml = test::with_master_chain(
      toml,
      "{ type = \"compressor\", id = \"glue\", threshold_db = -24, style = "
      "\"opto\", release = \"auto\", lookahead_ms = 2 }, { type = \"limiter\", id = "
      "\"max\", ceiling_dbtp = -1, release_ms = 5 }");
  const size_t bass = toml.find("name = \"bass\"");
  ASSERT_NE(bass, std::string::npos);
  toml.insert(toml.find('\n', bass) + 1,
              "chain = [ { type = \"compressor\", threshold_db = -30, ratio = 4, sidechain = "
              "\"kick_in\" } ]\n");
  const auto [a, b] = render_both(toml, song);
  ASSERT_EQ(a.variants.size(), 4u);
  ASSERT_EQ(a.dynamics.size(), b.dynamics.size());
  for (size_t d = 0; d < a.dynamics.size(); ++d)
    EXPECT_NEAR(a.dynamics[d].max_db, b.dynamics[d].max_db, 0.01);
  for (size_t v = 0; v < a.variants.size(); ++v) {
    EXPECT_LT(worst_difference(a.variants[v], b.variants[v]), 1e-4) << a.variants[v].id;
  }
}

TEST_P(Backends, SaturationAndImagerMatchTheCpu) {
  // A console (its channel paths on the demo's five buses, crosstalk, noise), tape
  // saturation at 8x with tone, hard clip with ADAA, an imager with mono lows and a
  // utility with a fractional delay (4.8 samples), swept. tanh-free curves and float FIR stages:
  // the same arithmetic; -100 dBFS.
  DemoOptions o;
  o.seconds = 3.0;
  const DemoSong song = make_demo_song(o);
  std::string toml = float_session(song);
  toml += "[variants.sweep]\n\"master.tape.drive_db\" = [3, 9]\n";
  toml = test::with_master_chain(
      toml,
      "{ type = \"console\", model = \"american_bus\", drive_db = 6 }, "
      "{ type = \"saturation\", id = \"tape\", model = \"tape\", tone = 0.5 }, "
      "{ type = \"saturation\", id = \"clip\", model = \"hard\", drive_db = 3 }, "
      "{ type = \"imager\", width_pct = 120, mono_below_hz = 150 }, "
      "{ type = \"utility\", invert_right = true, delay_ms = 0.1 }");
  const auto [a, b] = render_both(toml, song);
  ASSERT_EQ(a.variants.size(), 2u);
  for (size_t v = 0; v < a.variants.size(); ++v) {
    EXPECT_LT(worst_difference(a.variants[v], b.variants[v]), 1e-5) << a.variants[v].id;
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, Backends, ::testing::Values("cpu", "cuda"));

TEST(BackendChoice, AutoFallsBackToTheCpuWithANotice) {
  std::string notice, why;
  auto b = make_backend("auto", &notice);
  if (cuda_available(&why)) {
    EXPECT_EQ(b->name(), "cuda");
  } else {
    EXPECT_EQ(b->name(), "cpu");
    EXPECT_NE(notice.find("rendering on the CPU"), std::string::npos) << notice;
  }
}

TEST(BackendChoice, AskingForCudaWithoutADeviceIsAnErrorThatSaysWhy) {
  std::string why;
  if (test::device_available(&why))
    GTEST_SKIP() << "a CUDA device (or the emulated one) is present";
  try {
    make_backend("cuda", nullptr);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--backend cuda"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace td
