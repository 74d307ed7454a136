// The score's scale (issue #19, "score sanity"): differences an engineer hears against a
// reference (a 1 dB tilt, 2 dB in one octave, about 2 dB more gain reduction) must score
// visibly apart from ones nobody hears (a tenth of that tilt, 0.2 dB in one octave, a
// compressor that barely touches the peaks). The table this test prints is the one in
// docs/references.md ("What a score difference means").
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <random>

#include "render/render.h"
#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

constexpr int kRate = 48000;

// A busy mix with dynamics for a compressor to act on: noise, a bass line, hi-hat ticks and
// a louder chorus half.
test::Planar mix(double seconds) {
  const long long n = (long long)(seconds * kRate);
  test::Planar p(2, std::vector<float>((size_t)n));
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (long long i = 0; i < n; ++i) {
    const double t = (double)i / kRate;
    const double bass = 0.3 * std::sin(2 * M_PI * 55 * t) * (std::fmod(t, 0.5) < 0.35);
    const double tick = std::fmod(t, 0.125) < 0.004 ? noise(rng) * 6.0 : 0.0;
    const double chorus = std::fmod(t, 4.0) < 2.0 ? 1.0 : 0.5;
    for (int c = 0; c < 2; ++c) p[c][(size_t)i] = (float)(chorus * (bass + tick + noise(rng)));
  }
  return p;
}

struct Case {
  const char* what;
  double tilt_db, bell_db, threshold_db;
  bool audible;
};

TEST(ScoreScale, AudibleDifferencesScoreApartFromInaudibleOnes) {
  test::TempDir dir;
  test::write_file(dir / "mix.wav", mix(12.0), kRate, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const std::string chain =
      "[session]\nsample_rate = 48000\nheadroom_dbfs = 0\n"
      "[delivery]\ntarget_lufs = -16.0\nbit_depth = 32\n"
      "[master]\nchain = [ { type = \"eq\", id = \"eq\", bands = [\n"
      "  { id = \"tilt\", type = \"tilt\", freq = 1000, gain_db = 0 },\n"
      "  { id = \"octave\", type = \"bell\", freq = 1000, q = 1.41, gain_db = 0 } ] },\n"
      "  { type = \"compressor\", id = \"comp\", threshold_db = 0, ratio = 3, attack_ms = 5,\n"
      "    release_ms = 80 } ]\n"
      "[[track]]\nname = \"mix\"\nfile = \"mix.wav\"\n";
  {  // The reference: the mix through the neutral chain.
    const Session ref = parse_session_text(chain, dir / "ref.toml");
    RenderOptions ro;
    ro.backend = "cpu";
    ro.out_dir = dir / "ref";
    std::filesystem::create_directories(ro.out_dir);
    render_session(ref, stems_from_files(ref), ro);
  }
  const std::vector<Case> cases = {
      {"identical", 0, 0, 0, false},
      {"tilt +1 dB (end to end)", 1, 0, 0, true},
      {"tilt -1 dB", -1, 0, 0, true},
      {"+2 dB in the 1 kHz octave", 0, 2, 0, true},
      {"-2 dB in the 1 kHz octave", 0, -2, 0, true},
      {"compressor at -16 dBFS (3:1)", 0, 0, -16, true},
      {"tilt +0.1 dB", 0.1, 0, 0, false},
      {"+0.2 dB in the 1 kHz octave", 0, 0.2, 0, false},
      {"compressor at -4 dBFS (3:1)", 0, 0, -4, false},
  };
  std::string list_tilt, list_bell, list_thr;
  for (const Case& c : cases) {
    const char* sep = list_tilt.empty() ? "" : ", ";
    list_tilt += sep + std::to_string(c.tilt_db);
    list_bell += sep + std::to_string(c.bell_db);
    list_thr += sep + std::to_string(c.threshold_db);
  }
  const Session s = parse_session_text(
      chain +
          "[[reference]]\nfile = \"ref/master.wav\"\n[variants]\nmode = \"list\"\n"
          "[variants.sweep]\n\"master.eq.tilt.gain_db\" = [" +
          list_tilt + "]\n\"master.eq.octave.gain_db\" = [" + list_bell +
          "]\n\"master.comp.threshold_db\" = [" + list_thr + "]\n",
      dir / "song.toml");
  RenderOptions ro;
  ro.backend = "cpu";
  ro.write_audio = false;
  const RenderResult r = render_session(s, stems_from_files(s), ro);
  ASSERT_EQ(r.variants.size(), cases.size());
  // The mean gain reduction of each compressor instance, by its threshold.
  auto reduction_at = [&](double threshold) {
    for (const auto& d : r.dynamics)
      for (const auto& [path, v] : d.params)
        if (path == "master.comp.threshold_db" && v == threshold) return d.mean_db;
    return 0.0;
  };
  double audible_min = INFINITY, inaudible_max = 0;
  std::printf("| difference | mean gain reduction (dB) | score | spectral RMS (dB) |\n");
  for (size_t i = 0; i < cases.size(); ++i) {
    const VariantResult& v = r.variants[i];
    ASSERT_FALSE(v.comparisons.empty());
    std::printf("| %s | %.2f | %.3f | %.3f |\n", cases[i].what, reduction_at(cases[i].threshold_db),
                v.score, v.comparisons[0].spectral_rms_db);
    if (i == 0) continue;
    if (cases[i].audible)
      audible_min = std::min(audible_min, v.score);
    else
      inaudible_max = std::max(inaudible_max, v.score);
  }
  EXPECT_LT(r.variants[0].score, 0.01) << "the reference's own chain scores 0";
  // The compression case is about 2 dB of mean gain reduction, the inaudible one under 0.3.
  EXPECT_NEAR(reduction_at(-16), 2.0, 1.0);
  EXPECT_LT(reduction_at(-4), 0.3);
  // Separation: the smallest audible score is at least three times the largest inaudible.
  EXPECT_GT(audible_min, 3.0 * inaudible_max)
      << "audible from " << audible_min << ", inaudible up to " << inaudible_max;
}

}  // namespace
}  // namespace td
