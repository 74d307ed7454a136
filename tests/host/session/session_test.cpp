// The session parser: the format of docs/session-format.md parses into plain structs, and every
// kind of bad input is one error naming the file, the line, the key and what is allowed.
#include "session/session.h"

#include <gtest/gtest.h>

#include "render/render.h"
#include "session/schema.h"
#include "test_util.h"

namespace td {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_session_text(text, "/sessions/song.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kMinimal = R"(
[[track]]
name = "kick"
file = "stems/kick.wav"
)";

TEST(Session, DesignExampleParses) {
  const Session s = parse_session_text(R"(
[session]
sample_rate = 48000
headroom_dbfs = -12

[delivery]
format = "wav"
bit_depth = 24
target_lufs = -14.0
ceiling_dbtp = -1.0

[master]
chain = [
  { type = "eq", id = "eq", bands = [
      { id = "hp",  type = "highpass", freq = 25,    slope = 24 },
      { id = "air", type = "bell",     freq = 10000, gain_db = 1.0, q = 0.7 } ] },
  { type = "compressor", id = "comp", ratio = 2.0, attack_ms = 10, release = "auto",
    threshold_db = -18 },
  { type = "saturation", model = "tape", drive_db = 3 },
  { type = "limiter", id = "max" },
]

[[bus]]
name = "drums"
chain = [ { type = "compressor", ratio = 3, attack_ms = 10, release_ms = 100 },
          { type = "eq", bands = [ { type = "bell", freq = 400, gain_db = -2, q = 1.2 } ] },
          { type = "saturation", model = "tape" } ]

[[track]]
name = "kick"
file = "stems/kick.wav"
bus = "drums"
gain_db = -3.0
pan = 0.0
automation = [ { param = "gain_db", points = [[0.0, -6.0], [8.0, 0.0]] } ]

[[track]]
name = "bass"
file = "stems/bass.wav"
chain = [ { type = "compressor", ratio = 4, sidechain = "kick" } ]

[variants]
mode = "grid"
[variants.sweep]
"master.comp.ratio"        = [1.5, 2.0, 3.0]
"master.eq.air.gain_db"    = [0.5, 1.0]

[[reference]]
file = "refs/reference.wav"
)",
                                       "/sessions/song.toml");
  ASSERT_EQ(s.nodes.size(), 4u);  // kick, bass, drums, master
  EXPECT_EQ(s.nodes[0].name, "kick");
  EXPECT_EQ(s.nodes[0].file, "/sessions/stems/kick.wav");  // relative to the session file
  EXPECT_EQ(s.nodes[0].output, "drums");
  EXPECT_EQ(s.nodes[1].output, "master");
  EXPECT_DOUBLE_EQ(s.nodes[0].gain_db, -3.0);
  ASSERT_EQ(s.nodes[0].automation.size(), 1u);
  EXPECT_DOUBLE_EQ(s.nodes[0].automation[0].points[1].time_s, 8.0);
  EXPECT_EQ(s.master().chain.size(), 4u);
  EXPECT_EQ(s.master().chain[0].bands[1].id, "air");
  EXPECT_EQ(s.nodes[2].chain[0].id, "compressor");  // the id defaults to the type
  EXPECT_EQ(s.variants.sweep.size(), 2u);
  EXPECT_EQ(s.references[0].file, "/sessions/refs/reference.wav");
  EXPECT_TRUE(s.delivery.target_lufs.has_value());
}

TEST(SessionErrors, UnknownKeyNamesFileLineKeyAndTheAllowedKeys) {
  const std::string e = error_of("[[track]]\nname = \"kick\"\nfile = \"k.wav\"\nvolume = 3\n");
  EXPECT_NE(e.find("song.toml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("volume"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed here: name, file, bus"), std::string::npos) << e;
}

TEST(SessionErrors, TextThatIsNotUtf8OrHasControlCharactersNeverReachesTheTomlParser) {
  // Found by fuzzing: toml++ 3.3 reaches TOML_UNREACHABLE (undefined behaviour) on some
  // non-ASCII characters where it asks whether a character is whitespace ("64 c2 bb 1c 1c",
  // "ef b5 bf", more in tests/fuzz/corpus/session) and asserts on "5b 00". All are refused
  // before it sees them, with the line.
  const std::string first("\x64\xc2\xbb\x1c\x1c", 5), second("\xef\xb5\xbf", 3), nul("\x5b\x00", 2);
  EXPECT_NE(error_of(first).find("song.toml:1: a control character (byte 0x1c"), std::string::npos)
      << error_of(first);
  EXPECT_NE(error_of(second).find("song.toml:1: TOML syntax error"), std::string::npos)
      << error_of(second);
  EXPECT_NE(error_of(second).find("non-ASCII characters, shown here as '?', are allowed only in "
                                  "strings and comments"),
            std::string::npos);
  EXPECT_NE(error_of(nul).find("song.toml:1: a control character (byte 0x00"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMinimal) + "# \xed\xa0\x80\n").find("not UTF-8"),
            std::string::npos);  // a surrogate
  EXPECT_NE(error_of(std::string(kMinimal) + "# \xc0\xaf\n").find("not UTF-8"),
            std::string::npos);  // an overlong '/'
  EXPECT_NE(error_of(std::string(kMinimal) + "# \xe2\x82").find("not UTF-8"),
            std::string::npos);  // cut short
  // Other scripts in comments and in every kind of string are fine, escapes and quotes
  // inside strings included.
  EXPECT_EQ(error_of(std::string(kMinimal) + "# café, ü, 日本\n"), "(no error)");
  EXPECT_EQ(error_of("[[track]]\nname = \"kick\"\nfile = \"stems/k\\\"ick é.wav\"\n"),
            "(no error)");
  EXPECT_EQ(error_of("[[track]]\nname = \"kick\"\nfile = 'stems/kíck.wav'\n"), "(no error)");
  EXPECT_EQ(error_of("[[track]]\nname = \"kick\"\nfile = \"\"\"stems/k\"é\".wav\"\"\"\" # ü\n"),
            "(no error)");
  EXPECT_EQ(error_of("[[track]]\nname = \"kick\"\nfile = \'\'\'stems/ké.wav\'\'\'\n"),
            "(no error)");
  // A multi-line string's line-ending backslash makes toml++ skip whitespace up to the next
  // character with the same tables: that character must be ASCII (found by fuzzing).
  EXPECT_NE(error_of("a = \"\"\"x\\\n\n  \xc3\xa9\"\"\"\n")
                .find("song.toml:3: a non-ASCII character right after a backslash and whitespace"),
            std::string::npos)
      << error_of("a = \"\"\"x\\\n\n  \xc3\xa9\"\"\"\n");
  // Outside a string, a non-ASCII character is refused even where TOML would reject it.
  EXPECT_NE(error_of("[[track]]\nname = kïck\n").find("song.toml:2: TOML syntax error"),
            std::string::npos);
  EXPECT_NE(error_of("[[track]]\nnäme = \"kick\"\n").find("song.toml:2: TOML syntax error"),
            std::string::npos);  // a bare key
}

TEST(SessionErrors, EveryFrequencyIsBelowTheSessionsNyquistFrequency) {
  // At 8 kHz, bands and crossovers above 4 kHz were accepted and rendered as nonsense.
  const std::string head = "[session]\nsample_rate = 8000\n";
  const std::string track = "[[track]]\nname = \"a\"\nfile = \"a.wav\"\n";
  auto e = [&](const std::string& master, const std::string& tail = "") {
    return error_of(head + "[master]\nchain = [ " + master + " ]\n" + track + tail);
  };
  const std::string band =
      e("{ type = \"eq\", bands = [ { type = \"bell\", freq = 5000, gain_db = 1 } ] }");
  EXPECT_NE(band.find("song.toml:4: [master].chain[0].bands[0].freq: 5000 Hz is not below the "
                      "Nyquist frequency of the session's 8000 Hz rate (allowed: below 4000 Hz"),
            std::string::npos)
      << band;
  EXPECT_NE(e("{ type = \"multiband\", crossovers_hz = [200, 4500], bands = [ {}, {}, {} ] }")
                .find("crossovers_hz: 4500 Hz"),
            std::string::npos);
  // A de-esser's default band (5-9 kHz) is checked too; disabled, it is not.
  EXPECT_NE(e("{ type = \"deesser\" }").find("low_hz (its default): 5000 Hz"), std::string::npos);
  EXPECT_EQ(e("{ type = \"deesser\", enabled = false }"), "(no error)");
  EXPECT_EQ(e("{ type = \"deesser\", low_hz = 2500, high_hz = 3500 }"), "(no error)");
  // Swept values as well.
  const std::string swept = e(
      "{ type = \"eq\", id = \"eq\", bands = [ { id = \"air\", type = \"bell\", freq = 3000 } ] }",
      "[variants.sweep]\n\"master.eq.air.freq\" = [2000, 4000]\n");
  EXPECT_NE(swept.find("[variants.sweep] \"master.eq.air.freq\": 4000 Hz is not below"),
            std::string::npos)
      << swept;
}

TEST(SessionErrors, UnknownTopLevelTable) {
  const std::string e = error_of(std::string(kMinimal) + "[mastering]\nx = 1\n");
  EXPECT_NE(e.find("mastering"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(SessionErrors, AnUnknownBandKeyListsEachAllowedKeyOnce) {
  const std::string e = error_of(std::string(kMinimal) +
                                 "[master]\nchain = [ { type = \"eq\", bands = [ { type = "
                                 "\"bell\", freq_hz = 900 } ] } ]\n");
  EXPECT_NE(e.find("bands[0].freq_hz: unknown key for eq-band (allowed: type, id, enabled, freq, "
                   "gain_db, q, slope)"),
            std::string::npos)
      << e;
}

TEST(SessionErrors, WrongType) {
  const std::string e =
      error_of("[[track]]\nname = \"kick\"\nfile = \"k.wav\"\ngain_db = \"loud\"\n");
  EXPECT_NE(e.find("song.toml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("gain_db"), std::string::npos) << e;
  EXPECT_NE(e.find("must be a number"), std::string::npos) << e;
}

TEST(SessionErrors, OutOfRangeGivesTheAllowedRange) {
  const std::string e = error_of("[[track]]\nname = \"kick\"\nfile = \"k.wav\"\npan = 1.5\n");
  EXPECT_NE(e.find("song.toml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("pan"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: -1 .. 1"), std::string::npos) << e;
}

TEST(SessionErrors, OutOfRangeProcessorParameter) {
  const std::string e = error_of(std::string(kMinimal) +
                                 "[master]\nchain = [ { type = \"compressor\", ratio = 0.5 } ]\n");
  EXPECT_NE(e.find("ratio"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: 1 .. inf"), std::string::npos) << e;
}

TEST(Session, RankingWeightsDefaultAndCanBeSet) {
  const Session d = parse_session_text(kMinimal, "/sessions/song.toml");
  EXPECT_EQ(d.ranking.spectral, 1.0);
  EXPECT_EQ(d.ranking.translation, 0.5);
  const Session s = parse_session_text(
      std::string(kMinimal) + "[ranking]\nspectral = 2\nwidth = 0\ntranslation = 1.5\n",
      "/sessions/song.toml");
  EXPECT_EQ(s.ranking.spectral, 2.0);
  EXPECT_EQ(s.ranking.width, 0.0);
  EXPECT_EQ(s.ranking.translation, 1.5);
  EXPECT_EQ(s.ranking.dynamics, 0.5);  // not given: the default
}

TEST(SessionErrors, RankingWeightOutOfRangeOrUnknown) {
  std::string e = error_of(std::string(kMinimal) + "[ranking]\nstereo = -1\n");
  EXPECT_NE(e.find("stereo"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: 0 .. 100"), std::string::npos) << e;
  e = error_of(std::string(kMinimal) + "[ranking]\nloudness = 1\n");
  EXPECT_NE(e.find("loudness"), std::string::npos) << e;
  EXPECT_NE(e.find("translation"), std::string::npos) << e;  // the allowed keys are listed
}

TEST(SessionErrors, BadChoiceListsTheChoices) {
  const std::string e = error_of(std::string(kMinimal) + "[delivery]\nformat = \"mp3\"\n");
  EXPECT_NE(e.find("[delivery].format"), std::string::npos) << e;
  EXPECT_NE(e.find("one of wav, flac"), std::string::npos) << e;
}

TEST(SessionErrors, UnknownBus) {
  const std::string e = error_of("[[track]]\nname = \"kick\"\nfile = \"k.wav\"\nbus = \"drums\"\n");
  EXPECT_NE(e.find("song.toml:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("\"drums\" is not a bus"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: master"), std::string::npos) << e;
}

TEST(SessionErrors, UnknownSidechainSource) {
  const std::string e =
      error_of(std::string(kMinimal) +
               "[master]\nchain = [ { type = \"compressor\", sidechain = \"snare\" } ]\n");
  EXPECT_NE(e.find("sidechain"), std::string::npos) << e;
  EXPECT_NE(e.find("\"snare\" is not a track or bus"), std::string::npos) << e;
}

TEST(SessionErrors, DuplicateName) {
  const std::string e = error_of(std::string(kMinimal) + kMinimal);
  EXPECT_NE(e.find("duplicate name"), std::string::npos) << e;
  EXPECT_NE(e.find("song.toml:6:"), std::string::npos) << e;
}

TEST(SessionErrors, RoutingCycleBetweenBuses) {
  const std::string e =
      error_of(std::string(kMinimal) +
               "[[bus]]\nname = \"a\"\noutput = \"b\"\n[[bus]]\nname = \"b\"\noutput = \"a\"\n");
  EXPECT_NE(e.find("routing cycle"), std::string::npos) << e;
  EXPECT_NE(e.find("a <- b <- a"), std::string::npos) << e;
}

TEST(SessionErrors, SidechainCycle) {
  // A track keyed by the bus it feeds: the bus waits for the track, the track for the bus.
  const std::string e = error_of(R"(
[[bus]]
name = "drums"
[[track]]
name = "kick"
file = "k.wav"
bus = "drums"
chain = [ { type = "compressor", sidechain = "drums" } ]
)");
  EXPECT_NE(e.find("routing cycle"), std::string::npos) << e;
}

TEST(SessionErrors, TomlSyntaxError) {
  const std::string e = error_of("[[track]]\nname = \"kick\nfile = 1\n");
  EXPECT_NE(e.find("song.toml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("TOML syntax error"), std::string::npos) << e;
}

TEST(SessionErrors, MissingStemPath) {
  const std::string e = error_of("[[track]]\nname = \"kick\"\n");
  EXPECT_NE(e.find("kick\".file"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
}

TEST(SessionErrors, UnknownProcessorType) {
  const std::string e =
      error_of(std::string(kMinimal) + "[master]\nchain = [ { type = \"reverb\" } ]\n");
  EXPECT_NE(e.find("unknown processor \"reverb\""), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: one of gain, eq"), std::string::npos) << e;
}

TEST(SessionErrors, UnknownProcessorKeyListsItsKeys) {
  const std::string e =
      error_of(std::string(kMinimal) + "[master]\nchain = [ { type = \"gain\", db = 3 } ]\n");
  EXPECT_NE(e.find("[master].chain[0].db"), std::string::npos) << e;
  EXPECT_NE(e.find("gain_db"), std::string::npos) << e;
}

TEST(SessionErrors, SweepOfAnUnknownParameter) {
  const std::string e =
      error_of(std::string(kMinimal) + "[variants.sweep]\n\"kick.volume\" = [1, 2]\n");
  EXPECT_NE(e.find("kick.volume"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: gain_db, pan, fader_db"), std::string::npos) << e;
}

TEST(SessionErrors, SweepValueOutOfRange) {
  const std::string e =
      error_of(std::string(kMinimal) + "[variants.sweep]\n\"kick.pan\" = [0, 2]\n");
  EXPECT_NE(e.find("allowed: -1 .. 1"), std::string::npos) << e;
}

TEST(SessionErrors, AutomationTimesMustNotDecrease) {
  const std::string e =
      error_of(std::string(kMinimal) +
               "automation = [ { param = \"pan\", points = [[2.0, 0.5], [1.0, 0.0]] } ]\n");
  EXPECT_NE(e.find("times must not decrease"), std::string::npos) << e;
}

TEST(SessionErrors, FlacCannotCarryFloat) {
  const std::string e =
      error_of(std::string(kMinimal) + "[delivery]\nformat = \"flac\"\nbit_depth = 32\n");
  EXPECT_NE(e.find("allowed with flac: 16, 24"), std::string::npos) << e;
}

TEST(SessionSchema, EveryProcessorTheFormatDefinesRenders) {
  // The format's whole processor set is implemented: a session never stops with "not
  // supported yet" (the guard stays for processors added to the format before their DSP).
  for (const auto& spec : processor_specs()) EXPECT_TRUE(spec.implemented) << spec.type;
}

}  // namespace
}  // namespace td

namespace td {
namespace {

// `console` is a bus's summing mixer: the first step of a bus or master chain; its inputs'
// channel steps are the parser's, never the file's, and follow the bus's console.
TEST(SessionErrors, AConsoleIsTheFirstStepOfABusChainAndItsChannelsFollowIt) {
  const std::string track = "[[track]]\nname = \"kick\"\nfile = \"k.wav\"\n";
  const std::string on_track = error_of(
      "[[track]]\nname = \"kick\"\nfile = \"k.wav\"\nchain = [ { type = \"console\" } ]\n");
  EXPECT_NE(on_track.find("song.toml:4: track \"kick\".chain[0]"), std::string::npos) << on_track;
  EXPECT_NE(on_track.find("only as the first step of a [[bus]] or [master] chain"),
            std::string::npos)
      << on_track;
  const std::string second =
      error_of("[master]\nchain = [ { type = \"eq\" }, { type = \"console\" } ]\n" + track);
  EXPECT_NE(second.find("[master].chain[1]"), std::string::npos) << second;
  const std::string internal =
      error_of("[master]\nchain = [ { type = \"console-channel\" } ]\n" + track);
  EXPECT_NE(internal.find("unknown processor \"console-channel\""), std::string::npos) << internal;
  const std::string swept =
      error_of("[master]\nchain = [ { type = \"console\" } ]\n" + track +
               "[variants]\nsweep = { \"kick.console-channel.drive_db\" = [0, 6] }\n");
  EXPECT_NE(swept.find("follows the console of its bus"), std::string::npos) << swept;
  // Parsed: the track ends with its channel step, a copy of the master's console.
  const Session s = parse_session_text(
      "[master]\nchain = [ { type = \"console\", model = \"modern_vca\", drive_db = 6 } ]\n" +
          track,
      "/sessions/song.toml");
  const Node& kick = s.nodes[s.find("kick")];
  ASSERT_EQ(kick.chain.size(), 1u);
  EXPECT_EQ(kick.chain[0].type, "console-channel");
  EXPECT_EQ(kick.chain[0].text("model", ""), "modern_vca");
  EXPECT_EQ(kick.chain[0].number("drive_db", 0), 6.0);
}

}  // namespace
}  // namespace td
