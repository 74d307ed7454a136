// [[deliverable]] files (issue #18): each at its own rate, format and loudness, verified on
// the decoded file, measured here by libebur128 (the reference implementation) within the
// ±0.1 LU the delivery promises and at or under each ceiling; and the metadata a receiving
// tool reads: WAVE_FORMAT_EXTENSIBLE with a stereo mask, a bext chunk whose loudness fields
// are the project's own measurement of the file (0.01 units, the field's precision), tags.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <taglib/flacfile.h>
#include <taglib/id3v2tag.h>
#include <taglib/mpegfile.h>
#include <taglib/xiphcomment.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "analysis/analyze.h"
#include "base/input_error.h"
#include "render/render.h"
#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

constexpr int kRate = 48000;

// A dense, bright mix with peaks (a limiter and a resampler have work to do): noise and
// tones under a pumping envelope with transients.
test::Planar mix(double seconds) {
  const long long n = (long long)(seconds * kRate);
  test::Planar p(2, std::vector<float>((size_t)n));
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.0f, 0.12f);
  for (long long i = 0; i < n; ++i) {
    const double t = (double)i / kRate;
    const double env = 0.6 + 0.4 * std::sin(2 * M_PI * 2.0 * t);
    const double hit = std::fmod(t, 0.5) < 0.01 ? 2.0 : 1.0;
    const double tone = 0.25 * std::sin(2 * M_PI * 110 * t) + 0.1 * std::sin(2 * M_PI * 7300 * t);
    for (int c = 0; c < 2; ++c) p[c][(size_t)i] = (float)(env * hit * (tone + noise(rng)));
  }
  return p;
}

const char* kSession = R"toml([session]
sample_rate = 48000

[delivery]
target_lufs = -14.0
ceiling_dbtp = -1.0

[metadata]
title = "Proof"
artist = "The Testers"
album = "Deliverables"
isrc = "USABC2600001"
originator = "topdown tests"
description = "streaming master"

[[deliverable]]
name = "streaming"
format = "wav"
sample_rate = 48000
bit_depth = 24
target_lufs = -14.0
ceiling_dbtp = -1.0

[[deliverable]]
name = "cd"
format = "flac"
sample_rate = 44100
bit_depth = 16
target_lufs = -9.0
ceiling_dbtp = -0.5

[[deliverable]]
name = "reference"
format = "mp3"
bitrate_kbps = 320
target_lufs = -14.0
ceiling_dbtp = -1.0
metadata = { title = "Proof (reference)" }

[master]
chain = [ { type = "limiter", id = "max", max_reduction_db = 12 } ]

[[track]]
name = "mix"
file = "mix.wav"
)toml";

TEST(Deliverables, EachFileMeetsItsOwnTargetAndCeilingWhenDecoded) {
  test::TempDir dir;
  const Session s = parse_session_text(kSession, dir / "song.toml");
  RenderOptions ro;
  ro.backend = "cpu";
  ro.out_dir = dir / "out";
  std::filesystem::create_directories(ro.out_dir);
  const RenderResult r = render_session(s, test::memory_stems({mix(20.0)}, kRate), ro);
  ASSERT_EQ(r.variants[0].deliverables.size(), 3u);
  struct Want {
    const char* file;
    int rate;
    double lufs, ceiling;
  };
  const Want want[] = {{"streaming.wav", 48000, -14.0, -1.0},
                       {"cd.flac", 44100, -9.0, -0.5},
                       {"reference.mp3", 48000, -14.0, -1.0}};
  for (const Want& w : want) {
    SCOPED_TRACE(w.file);
    const std::filesystem::path file = ro.out_dir / w.file;
    ASSERT_TRUE(std::filesystem::exists(file));
    const test::Ebur128Reading e = test::ebur128_measure(file);
    EXPECT_NEAR(e.integrated_lufs, w.lufs, 0.1);
    EXPECT_LE(e.true_peak_dbtp, w.ceiling);
    EXPECT_EQ(read_audio(file).sample_rate, w.rate);
  }
  for (const auto& d : r.variants[0].deliverables)
    EXPECT_TRUE(d.warnings.empty()) << d.name << ": " << (d.warnings.empty() ? "" : d.warnings[0]);
  // The render's own [delivery] master is still there (what the report ranks and plays).
  EXPECT_TRUE(std::filesystem::exists(ro.out_dir / "master.wav"));
}

TEST(Deliverables, WavCarriesAStereoMaskAndABextChunkWithItsOwnLoudness) {
  test::TempDir dir;
  const Session s = parse_session_text(kSession, dir / "song.toml");
  RenderOptions ro;
  ro.backend = "cpu";
  ro.out_dir = dir / "out";
  std::filesystem::create_directories(ro.out_dir);
  render_session(s, test::memory_stems({mix(8.0)}, kRate), ro);
  for (const char* name : {"streaming.wav", "master.wav"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path file = ro.out_dir / name;
    SF_INFO info{};
    SNDFILE* f = sf_open(file.string().c_str(), SFM_READ, &info);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(info.format & SF_FORMAT_TYPEMASK, SF_FORMAT_WAVEX);
    int map[2] = {0, 0};
    ASSERT_EQ(sf_command(f, SFC_GET_CHANNEL_MAP_INFO, map, sizeof map), SF_TRUE);
    EXPECT_EQ(map[0], SF_CHANNEL_MAP_LEFT);
    EXPECT_EQ(map[1], SF_CHANNEL_MAP_RIGHT);
    SF_BROADCAST_INFO b{};
    ASSERT_EQ(sf_command(f, SFC_GET_BROADCAST_INFO, &b, sizeof b), SF_TRUE);
    EXPECT_EQ(std::string(sf_get_string(f, SF_STR_TITLE)), "Proof");
    sf_close(f);
    EXPECT_EQ(std::string(b.description), "streaming master");
    EXPECT_EQ(std::string(b.originator), "topdown tests");
    EXPECT_EQ(b.version, 2);
    EXPECT_NE(std::string(b.coding_history).find("ISRC=USABC2600001"), std::string::npos);
    // The project's own measurement of the file, to the field's 0.01 precision.
    const FileAnalysis a = analyze_file(file, "cpu", MeterOptions{});
    EXPECT_NEAR(b.loudness_value / 100.0, a.readings.integrated_lufs, 0.0051);
    EXPECT_NEAR(b.loudness_range / 100.0, a.readings.lra_lu, 0.0051);
    EXPECT_NEAR(b.max_true_peak_level / 100.0, a.readings.true_peak_dbtp, 0.0051);
    EXPECT_NEAR(b.max_momentary_loudness / 100.0, a.readings.momentary_max_lufs, 0.0051);
    EXPECT_NEAR(b.max_shortterm_loudness / 100.0, a.readings.short_term_max_lufs, 0.0051);
    // ffprobe, where installed, calls the layout stereo.
    if (std::system("command -v ffprobe >/dev/null 2>&1") == 0) {
      const std::string cmd = "ffprobe -v error -show_entries stream=channel_layout -of csv=p=0 '" +
                              file.string() + "'";
      FILE* p = popen(cmd.c_str(), "r");
      ASSERT_NE(p, nullptr);
      char line[64] = {0};
      const bool got = std::fgets(line, sizeof line, p) != nullptr;
      pclose(p);
      EXPECT_TRUE(got);
      EXPECT_EQ(std::string(line).substr(0, 6), "stereo");
    }
  }
  // FLAC: the ISRC and ReplayGain 2.0 (to -18 LUFS) from the file's own loudness; MP3: the
  // ISRC as TSRC.
  {
    TagLib::FLAC::File f((ro.out_dir / "cd.flac").c_str());
    ASSERT_TRUE(f.isValid());
    const auto& fields = f.xiphComment()->fieldListMap();
    ASSERT_TRUE(fields.contains("ISRC"));
    EXPECT_EQ(fields["ISRC"].front().to8Bit(), "USABC2600001");
    const FileAnalysis a = analyze_file(ro.out_dir / "cd.flac", "cpu", MeterOptions{});
    char gain[32];
    std::snprintf(gain, sizeof gain, "%+.2f dB", -18.0 - a.readings.integrated_lufs);
    ASSERT_TRUE(fields.contains("REPLAYGAIN_TRACK_GAIN"));
    // The field's 0.01 dB: the figure from the verification pass, equal to this one within it.
    EXPECT_NEAR(std::stod(fields["REPLAYGAIN_TRACK_GAIN"].front().to8Bit()),
                -18.0 - a.readings.integrated_lufs, 0.0051)
        << gain;
  }
  {
    TagLib::MPEG::File f((ro.out_dir / "reference.mp3").c_str());
    ASSERT_TRUE(f.isValid() && f.ID3v2Tag());
    const auto& frames = f.ID3v2Tag()->frameListMap();
    ASSERT_TRUE(frames.contains("TSRC"));
    EXPECT_EQ(frames["TSRC"].front()->toString().to8Bit(), "USABC2600001");
    EXPECT_EQ(f.ID3v2Tag()->title().to8Bit(true), "Proof (reference)");
  }
  // FLAC and MP3 carry the tags (the MP3 its override).
  for (auto [name, title] : {std::pair<const char*, const char*>{"cd.flac", "Proof"},
                             {"reference.mp3", "Proof (reference)"}}) {
    SF_INFO info{};
    SNDFILE* f = sf_open((ro.out_dir / name).string().c_str(), SFM_READ, &info);
    ASSERT_NE(f, nullptr) << name;
    const char* t = sf_get_string(f, SF_STR_TITLE);
    EXPECT_EQ(std::string(t ? t : ""), title) << name;
    const char* a = sf_get_string(f, SF_STR_ARTIST);
    EXPECT_EQ(std::string(a ? a : ""), "The Testers") << name;
    sf_close(f);
  }
}

TEST(Deliverables, BadEntriesNameTheKeyAndWhatIsAllowed) {
  auto error = [](const std::string& extra) {
    try {
      parse_session_text("[delivery]\ntarget_lufs = -14\n" + extra, "s.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("[[deliverable]]\nname = \"a\"\nformat = \"aac\"\n")
                .find("allowed: one of wav, "
                      "flac, mp3, opus"),
            std::string::npos);
  EXPECT_NE(error("[[deliverable]]\nname = \"a\"\nformat = \"opus\"\nsample_rate = 44100\n")
                .find("cannot be Opus"),
            std::string::npos);
  EXPECT_NE(error("[[deliverable]]\nname = \"a\"\nformat = \"mp3\"\nbit_depth = 16\n")
                .find("deliverable \"a\".bit_depth"),
            std::string::npos);
  EXPECT_NE(error("[[deliverable]]\nname = \"a\"\n[[deliverable]]\nname = \"a\"\n")
                .find("used by another deliverable"),
            std::string::npos);
  EXPECT_NE(error("[[deliverable]]\nname = \"../x\"\n").find("not allowed"), std::string::npos);
  EXPECT_NE(error("[metadata]\nisrc = \"US-ABC-26-00001\"\n").find("is not an ISRC"),
            std::string::npos);
  EXPECT_THROW(parse_session_text("[[deliverable]]\nname = \"a\"\n", "s.toml"), InputError)
      << "no target_lufs here or in [delivery]";
}

}  // namespace
}  // namespace td
