// `topdown match` (issue #19), first part: a parameter-recovery test. A "reference" is
// rendered from the session with hidden settings inside the search space; the search,
// started from the session's own (neutral) settings, must recover each spectral parameter
// within ±0.5 dB (a third of the smallest step an engineer would hear on a shelf), bring
// the score near zero, and never let the best-so-far rise between generations.
#include "match/match.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <random>

#include "base/input_error.h"
#include "render/render.h"
#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

constexpr int kRate = 48000;

// A bright, busy mix: noise, a bass line and a hi-hat-like tick.
test::Planar mix(double seconds) {
  const long long n = (long long)(seconds * kRate);
  test::Planar p(2, std::vector<float>((size_t)n));
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (long long i = 0; i < n; ++i) {
    const double t = (double)i / kRate;
    const double bass = 0.3 * std::sin(2 * M_PI * 55 * t) * (std::fmod(t, 0.5) < 0.35);
    const double tick = std::fmod(t, 0.125) < 0.004 ? noise(rng) * 6.0 : 0.0;
    for (int c = 0; c < 2; ++c) p[c][(size_t)i] = (float)(bass + tick + noise(rng));
  }
  return p;
}

std::string session(double air_db, double low_db) {
  return "[session]\nsample_rate = 48000\nheadroom_dbfs = 0\n"
         "[delivery]\ntarget_lufs = -16.0\n"
         "[master]\nchain = [ { type = \"eq\", id = \"eq\", bands = [\n"
         "  { id = \"low\", type = \"lowshelf\", freq = 120, gain_db = " +
         std::to_string(low_db) +
         " },\n  { id = \"air\", type = \"highshelf\", freq = 8000, gain_db = " +
         std::to_string(air_db) + " } ] } ]\n[[track]]\nname = \"mix\"\nfile = \"mix.wav\"\n";
}

TEST(Match, RecoversHiddenSpectralSettingsFromTheirRender) {
  test::TempDir dir;
  test::write_file(dir / "mix.wav", mix(6.0), kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  // The reference: the same mix with the hidden settings (air +2 dB, low shelf -1.5 dB).
  {
    const Session hidden = parse_session_text(session(2.0, -1.5), dir / "hidden.toml");
    RenderOptions ro;
    ro.backend = "cpu";
    ro.out_dir = dir / "ref";
    std::filesystem::create_directories(ro.out_dir);
    render_session(hidden, stems_from_files(hidden), ro);
  }
  test::write_text(dir / "song.toml",
                   session(0.0, 0.0) +
                       "[search]\n\"master.eq.air.gain_db\" = { min = -4.0, max = 4.0 }\n"
                       "\"master.eq.low.gain_db\" = { min = -4.0, max = 4.0 }\n");
  const Session s = parse_session_file(dir / "song.toml");
  MatchOptions o;
  o.backend = "cpu";
  o.budget = 200;
  o.references = {dir / "ref" / "master.wav"};
  const MatchResult m = match_session(s, o);
  std::printf("match: %lld evaluations, score %.4f -> %.4f, air %.3f dB, low %.3f dB\n",
              m.evaluations, m.start_score, m.score, m.values[0], m.values[1]);
  EXPECT_NEAR(m.values[0], 2.0, 0.5);
  EXPECT_NEAR(m.values[1], -1.5, 0.5);
  EXPECT_LT(m.score, 0.1 * m.start_score) << "the score falls by more than ten times";
  EXPECT_LE(m.evaluations, 200);
  for (size_t g = 1; g < m.history.size(); ++g)
    EXPECT_LE(m.history[g].best_score, m.history[g - 1].best_score) << "generation " << g;
  // The matched session text carries the values and no [search].
  const std::string text = matched_toml(s, m.values, dir / "out");
  EXPECT_EQ(text.find("\n[search]"), std::string::npos);
  const Session back = parse_session_text(text, dir / "out" / "matched.toml");
  EXPECT_NEAR(back.master().chain[0].bands[1].number("gain_db", 0), m.values[0], 0.001);
}

TEST(Match, SearchBoundsAreCheckedLikeSweepPaths) {
  auto error = [](const std::string& search) {
    try {
      parse_session_text(session(0, 0) + "[search]\n" + search, "s.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(
      error("\"master.eq.air.gain_db\" = { min = 2.0, max = 1.0 }\n").find("min must be below"),
      std::string::npos);
  EXPECT_NE(error("\"master.eq.air.gain_db\" = { min = -40.0, max = 1.0 }\n").find("out of range"),
            std::string::npos);
  EXPECT_NE(error("\"master.nothing.gain_db\" = { min = -1.0, max = 1.0 }\n").find("no processor"),
            std::string::npos);
  EXPECT_NE(error("\"master.eq.air.gain_db\" = { min = -1.0 }\n").find("needs min and max"),
            std::string::npos);
}

}  // namespace
}  // namespace td
