// Mastering a stereo mix (issue #18): `topdown master` and `init` on a folder that holds a
// finished mix build a one-track session whose chain is a mastering template, with the
// compressors set by measurement, delivered at the target under the ceiling (measured by
// libebur128, the reference implementation; ±0.1 LU as the delivery promises).
#include "init/mastering.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include "base/input_error.h"
#include "demo/demo.h"
#include "init/init.h"
#include "render/render.h"
#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

namespace fs = std::filesystem;
constexpr int kRate = 48000;

// A finished mix: the demo song's master, written as a client would send it.
fs::path write_mix(const test::TempDir& dir, const std::string& name) {
  DemoOptions d;
  d.seconds = 12;
  d.tracks = 10;
  const DemoSong song = make_demo_song(d);
  test::Planar mix(2, std::vector<float>(song.stems[0].audio[0].size(), 0.0f));
  for (const auto& st : song.stems)
    for (size_t n = 0; n < mix[0].size(); ++n)
      for (int c = 0; c < 2; ++c) mix[c][n] += 0.3f * st.audio[st.audio.size() > 1 ? c : 0][n];
  fs::create_directories(dir / "client");
  const fs::path file = dir / "client" / name;
  test::write_file(file, mix, kRate, SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  return file;
}

TEST(Mastering, AFolderHoldsAMixWhenItHasOneFileOrOnlyMixNames) {
  EXPECT_TRUE(mix_in_folder({"x/song.wav"}));
  EXPECT_TRUE(mix_in_folder({"x/Final Mix v3.wav", "x/final_mix_instrumental.wav"}));
  EXPECT_TRUE(mix_in_folder({"x/song_premaster.wav", "x/song-bounce.wav"}));
  EXPECT_FALSE(mix_in_folder({"x/kick.wav", "x/final_mix.wav"}));  // a stem among them
  EXPECT_FALSE(mix_in_folder({"x/remix_vox.wav", "x/bass.wav"}));  // "remix" is not "mix"
  EXPECT_EQ(*mix_in_folder({"x/a_mix.wav", "x/b_master.wav"}), fs::path("x/a_mix.wav"));
}

TEST(Mastering, EachTemplateDeliversItsTargetUnderItsCeiling) {
  test::TempDir dir;
  const fs::path mix = write_mix(dir, "final_mix.wav");
  for (const std::string name : mastering_templates()) {
    SCOPED_TRACE(name);
    MasteringOptions o;
    o.template_name = name;
    o.backend = "cpu";
    const fs::path session_file = dir / (name + ".toml");
    const MasteringResult m = mastering_session(mix, session_file, o);
    test::write_text(session_file, m.toml);
    const Session s = parse_session_file(session_file);
    ASSERT_EQ(s.nodes.size(), 2u) << "one track, the master";
    EXPECT_EQ(s.nodes[0].name, "mix");
    EXPECT_EQ(s.nodes[0].output, "master");
    EXPECT_EQ(s.master().chain.back().type, "limiter");
    const double target = name == "loud" ? -9.0 : -14.0;
    const double ceiling = name == "loud" ? -0.5 : -1.0;
    RenderOptions ro;
    ro.backend = "cpu";
    ro.out_dir = dir / ("out-" + name);
    fs::create_directories(ro.out_dir);
    const RenderResult r = render_session(s, stems_from_files(s), ro);
    const test::Ebur128Reading e = test::ebur128_measure(r.variants[0].file);
    EXPECT_NEAR(e.integrated_lufs, target, 0.1);
    EXPECT_LE(e.true_peak_dbtp, ceiling + 0.02);  // libebur128's 4x interpolation vs ours
    // The calibrated compressors reduce by their targets (1.5 dB, within the calibration's
    // 0.15 dB steps where it converged, 1 dB otherwise).
    for (const auto& [key, db] : m.reductions) EXPECT_NEAR(db, 1.5, 0.5) << key;
    if (name == "transparent") EXPECT_TRUE(m.reductions.empty());
    if (name == "loud") EXPECT_EQ(m.reductions.size(), 4u);
  }
}

TEST(Mastering, InitOnAOneFileFolderMakesAMasteringSession) {
  test::TempDir dir;
  write_mix(dir, "song.wav");
  InitOptions o;
  o.backend = "cpu";
  const InitResult r = init_session(dir / "client", dir / "song.toml", o);
  EXPECT_EQ(r.mastering_template, "glue");
  ASSERT_EQ(r.tracks.size(), 1u);
  EXPECT_EQ(r.tracks[0].bus, "master");
  test::write_text(dir / "song.toml", r.toml);
  const Session s = parse_session_file(dir / "song.toml");
  EXPECT_EQ(s.nodes.size(), 2u);
  bool glue = false;
  for (const auto& p : s.master().chain) glue |= p.id == "glue";
  EXPECT_TRUE(glue) << "the glue template's compressor, not a drum bus";
  // A stems template named for a mix folder is the mix default; a mastering template is
  // taken as asked.
  o.template_name = "transparent";
  EXPECT_EQ(init_session(dir / "client", dir / "t.toml", o).mastering_template, "transparent");
}

TEST(Mastering, BadTemplatesAndTargetsSayWhatIsAllowed) {
  test::TempDir dir;
  const fs::path mix = write_mix(dir, "m.wav");
  MasteringOptions o;
  o.template_name = "shiny";
  EXPECT_THROW(mastering_session(mix, dir / "s.toml", o), InputError);
  o.template_name = "glue";
  o.target_lufs = 3.0;
  try {
    mastering_session(mix, dir / "s.toml", o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--target-lufs"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("-60 .. 0"), std::string::npos);
  }
}

}  // namespace
}  // namespace td
