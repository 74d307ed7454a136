// The planner: levels, which sweep axes reach which node, and how many times each node is
// rendered ("render only what differs").
#include "graph/plan.h"

#include <gtest/gtest.h>

#include <set>

namespace td {
namespace {

// Four tracks on two buses; the bass is keyed by the kick.
const char* kSession = R"(
[master]
chain = [ { type = "gain", id = "trim", gain_db = -1 } ]
[[bus]]
name = "drums"
[[bus]]
name = "music"
[[track]]
name = "kick"
file = "k.wav"
bus = "drums"
[[track]]
name = "snare"
file = "s.wav"
bus = "drums"
[[track]]
name = "bass"
file = "b.wav"
bus = "music"
chain = [ { type = "compressor", sidechain = "kick" } ]
[[track]]
name = "keys"
file = "p.wav"
bus = "music"
)";

struct Counts {
  Session s;
  Plan p;
  explicit Counts(const std::string& sweep)
      : s(parse_session_text(std::string(kSession) + sweep, "/s/song.toml")),
        p(make_plan(s, std::vector<int>(s.nodes.size(), 1))) {}
  int operator[](const std::string& name) const { return (int)p.instances[s.find(name)].size(); }
};

TEST(Plan, LevelsPutSourcesBeforeWhatTheyFeedAndKey) {
  const Counts c("");
  const auto& lvl = c.p.level_of;
  EXPECT_EQ(lvl[c.s.find("kick")], 0);
  EXPECT_GT(lvl[c.s.find("bass")], lvl[c.s.find("kick")]);  // sidechain dependency
  EXPECT_GT(lvl[c.s.find("music")], lvl[c.s.find("bass")]);
  EXPECT_GT(lvl[c.s.find("master")], lvl[c.s.find("music")]);
}

TEST(Plan, WithoutVariantsEveryNodeRendersOnce) {
  const Counts c("");
  EXPECT_EQ(c.p.variant_count(), 1);
  EXPECT_EQ(c.p.instance_count(), 7);
}

TEST(Plan, ASweepOnTheMasterRendersEveryTrackAndBusOnce) {
  const Counts c("[variants.sweep]\n\"master.trim.gain_db\" = [-3, -2, -1]\n");
  EXPECT_EQ(c.p.variant_count(), 3);
  for (const char* n : {"kick", "snare", "bass", "keys", "drums", "music"}) EXPECT_EQ(c[n], 1) << n;
  EXPECT_EQ(c["master"], 3);
  EXPECT_EQ(c.p.instance_count(), 6 + 3);
}

TEST(Plan, ABusSweepFansOutOnlyBelowIt) {
  const Counts c(
      "[variants.sweep]\n\"drums.fader_db\" = [0, 2]\n\"master.trim.gain_db\" = [-3, -2, -1]\n");
  EXPECT_EQ(c.p.variant_count(), 6);
  EXPECT_EQ(c["kick"], 1);
  EXPECT_EQ(c["drums"], 2);
  EXPECT_EQ(c["music"], 1);
  EXPECT_EQ(c["master"], 6);
}

TEST(Plan, SidechainSourcesCarryTheirSweepsToTheKeyedNode) {
  const Counts c("[variants.sweep]\n\"kick.gain_db\" = [-6, 0]\n");
  EXPECT_EQ(c["kick"], 2);
  EXPECT_EQ(c["snare"], 1);
  EXPECT_EQ(c["bass"], 2);  // keyed by the kick
  EXPECT_EQ(c["keys"], 1);
  EXPECT_EQ(c["drums"], 2);
  EXPECT_EQ(c["music"], 2);
  EXPECT_EQ(c["master"], 2);
}

TEST(Plan, EachVariantMapsToTheInstanceWithItsSettings) {
  const Counts c("[variants.sweep]\n\"drums.fader_db\" = [0, 2]\n\"keys.pan\" = [-0.5, 0.5]\n");
  const int drums = c.s.find("drums"), keys = c.s.find("keys");
  for (int v = 0; v < c.p.variant_count(); ++v) {
    const auto& d = c.p.instances[drums][c.p.variant_instance[v][drums]];
    const auto& k = c.p.instances[keys][c.p.variant_instance[v][keys]];
    EXPECT_EQ(d.choice[0], c.p.variants[v][0]);
    EXPECT_EQ(k.choice[0], c.p.variants[v][1]);
  }
}

TEST(Plan, GridOrderIsFirstAxisSlowest) {
  Variants v;
  v.sweep = {{"a", {1, 2}, 0}, {"b", {1, 2, 3}, 0}};
  const auto g = expand_variants(v);
  ASSERT_EQ(g.size(), 6u);
  EXPECT_EQ(g[1], (std::vector<int>{0, 1}));
  EXPECT_EQ(g[3], (std::vector<int>{1, 0}));
}

TEST(Plan, RandomVariantsAreDistinctAndRepeatForASeed) {
  Variants v;
  v.mode = "random";
  v.count = 10;
  v.seed = 42;
  v.sweep = {{"a", {1, 2, 3, 4, 5}, 0}, {"b", {1, 2, 3, 4, 5}, 0}};
  const auto a = expand_variants(v), b = expand_variants(v);
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(a, b);
  std::set<std::vector<int>> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 10u);
  v.seed = 43;
  EXPECT_NE(expand_variants(v), a);
}

TEST(Plan, StreamSlotsAreReusedOnceTheirReadersAreDone) {
  const Counts c("");
  // 4 mono sources + 7 stereo outputs would be 18 slots without reuse.
  EXPECT_LT(c.p.slot_count, 18);
  // No two live streams share a slot: every output differs from every source of its level.
  std::set<int> master_out = {c.p.instances[c.s.find("master")][0].out[0],
                              c.p.instances[c.s.find("master")][0].out[1]};
  for (const char* n : {"drums", "music"}) {
    const auto& i = c.p.instances[c.s.find(n)][0];
    EXPECT_EQ(master_out.count(i.out[0]) + master_out.count(i.out[1]), 0u) << n;
  }
}

TEST(Plan, SoloPlaysTheSoloedTrackAndItsBuses) {
  const Session s = parse_session_text(std::string(kSession) + "", "/s/song.toml");
  Session solo = s;
  solo.nodes[solo.find("snare")].solo = true;
  const Plan p = make_plan(solo, std::vector<int>(solo.nodes.size(), 1));
  EXPECT_TRUE(p.audible[solo.find("snare")]);
  EXPECT_TRUE(p.audible[solo.find("drums")]);
  EXPECT_TRUE(p.audible[solo.find("master")]);
  EXPECT_FALSE(p.audible[solo.find("kick")]);
  EXPECT_FALSE(p.audible[solo.find("keys")]);
}

}  // namespace
}  // namespace td
