#include "graph/plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "kernels/dither.h"  // mix64: the same portable generator everywhere
#include "processors/console.h"
#include "processors/processor.h"

namespace td {

int Plan::instance_count() const {
  int n = 0;
  for (const auto& i : instances) n += (int)i.size();
  return n;
}

std::string variant_id(int index, int count) {
  int digits = 4;
  while (count >= 1 && std::to_string(count).size() > (size_t)digits) ++digits;
  char buf[32];
  std::snprintf(buf, sizeof buf, "v%0*d", digits, index + 1);
  return buf;
}

std::vector<std::vector<int>> expand_variants(const Variants& v) {
  std::vector<std::vector<int>> out;
  if (v.sweep.empty()) return {{}};
  const size_t axes = v.sweep.size();
  size_t total = 1;
  for (const auto& a : v.sweep) total *= a.values.size();
  auto grid_point = [&](size_t index) {
    std::vector<int> c(axes);
    for (size_t a = axes; a-- > 0;) {  // last axis fastest
      c[a] = (int)(index % v.sweep[a].values.size());
      index /= v.sweep[a].values.size();
    }
    return c;
  };
  if (v.mode == "list") {  // variant i: value i of every axis (the parser made them equal)
    for (size_t i = 0; i < v.sweep[0].values.size(); ++i)
      out.push_back(std::vector<int>(axes, (int)i));
    return out;
  }
  if (v.mode == "grid" || (size_t)v.count >= total) {
    for (size_t i = 0; i < total; ++i) out.push_back(grid_point(i));
    return out;
  }
  // Random: distinct grid points drawn with a counter-based generator, so the same seed
  // gives the same variants on every platform (std::uniform_int_distribution does not).
  std::set<std::vector<int>> taken;
  for (uint64_t draw = 0; (int)out.size() < v.count; ++draw) {
    std::vector<int> c(axes);
    for (size_t a = 0; a < axes; ++a)
      c[a] =
          (int)(mix64(v.seed * 0x9E3779B97F4A7C15ull + draw * axes + a) % v.sweep[a].values.size());
    if (taken.insert(c).second) out.push_back(c);
  }
  return out;
}

Plan make_plan(const Session& s, const std::vector<int>& channels, bool fold_buses,
               const std::vector<int>* only) {
  Plan p;
  const int n = (int)s.nodes.size();
  p.node_count = n;
  p.inputs.assign(n, {});
  for (int i = 0; i < n; ++i)
    if (s.nodes[i].kind != NodeKind::kMaster) p.inputs[s.find(s.nodes[i].output)].push_back(i);
  const std::vector<std::vector<int>> deps = node_dependencies(s);
  // Levels: longest path from a leaf. The parser has rejected cycles.
  p.level_of.assign(n, -1);
  bool changed = true;
  while (changed) {
    changed = false;
    for (int i = 0; i < n; ++i) {
      int lvl = 0;
      bool ready = true;
      for (int d : deps[i]) {
        if (p.level_of[d] < 0) ready = false;
        lvl = std::max(lvl, p.level_of[d] + 1);
      }
      if (ready && p.level_of[i] != lvl) {
        p.level_of[i] = lvl;
        changed = true;
      }
    }
  }
  int max_level = 0;
  for (int l : p.level_of) max_level = std::max(max_level, l);
  p.levels.assign(max_level + 1, {});
  for (int i = 0; i < n; ++i) p.levels[p.level_of[i]].push_back(i);

  // Mute and solo: with any solo, a node is audible if it, an ancestor bus or a
  // descendant is soloed (soloing a bus plays everything routed into it).
  p.audible.assign(n, true);
  bool any_solo = false;
  for (const auto& node : s.nodes) any_solo |= node.solo;
  std::vector<bool> soloed(n, false);
  if (any_solo) {
    for (int i = 0; i < n; ++i) {
      for (int a = i; a >= 0;
           a = s.nodes[a].kind == NodeKind::kMaster ? -1 : s.find(s.nodes[a].output))
        if (s.nodes[a].solo) soloed[i] = true;
    }
    for (int i = 0; i < n; ++i)
      if (soloed[i] && s.nodes[i].kind == NodeKind::kTrack)
        for (int a = i; a >= 0;
             a = s.nodes[a].kind == NodeKind::kMaster ? -1 : s.find(s.nodes[a].output))
          soloed[a] = true;
  }
  for (int i = 0; i < n; ++i) p.audible[i] = !s.nodes[i].mute && (!any_solo || soloed[i]);

  // Axes and what they reach: own, upstream and sidechain sources, in level order.
  p.variants = expand_variants(s.variants);
  p.variant_total = (int)p.variants.size();
  if (only) {
    std::vector<std::vector<int>> kept;
    for (int v : *only)
      if (v >= 0 && v < p.variant_total) {
        kept.push_back(p.variants[v]);
        p.variant_ids.push_back(v);
      }
    p.variants = std::move(kept);
  } else {
    for (int v = 0; v < p.variant_total; ++v) p.variant_ids.push_back(v);
  }
  p.reaching_axes.assign(n, {});
  for (const auto& level : p.levels)
    for (int i : level) {
      std::set<int> r;
      // An input's console channel (console.h) copies the console of its bus: that
      // console's axes reach it.
      for (size_t a = 0; a < s.variants.sweep.size(); ++a) {
        SweepTarget t = s.variants.sweep[a].target;
        if (t.node == i || console_channel_target(s, i, t)) r.insert((int)a);
      }
      for (int d : deps[i]) r.insert(p.reaching_axes[d].begin(), p.reaching_axes[d].end());
      p.reaching_axes[i].assign(r.begin(), r.end());
    }

  // Instances: one per distinct setting of the reaching axes, in order of first use.
  p.instances.assign(n, {});
  p.variant_instance.assign(p.variants.size(), std::vector<int>(n, -1));
  std::vector<std::map<std::vector<int>, int>> index(n);
  for (const auto& level : p.levels)
    for (int i : level)
      for (size_t v = 0; v < p.variants.size(); ++v) {
        std::vector<int> key;
        for (int a : p.reaching_axes[i]) key.push_back(p.variants[v][a]);
        auto [it, fresh] = index[i].emplace(key, (int)p.instances[i].size());
        if (fresh) {
          NodeInstance inst;
          inst.node = i;
          inst.choice = key;
          for (int in : p.inputs[i]) {
            inst.input_nodes.push_back(in);
            inst.inputs.push_back(p.variant_instance[v][in]);
          }
          p.instances[i].push_back(std::move(inst));
        }
        p.variant_instance[v][i] = it->second;
      }

  // Folding (see plan.h). A node keys a sidechain when it is a dependency that is not
  // routed into the node depending on it.
  std::vector<bool> keys_sidechain(n, false);
  for (int i = 0; i < n; ++i)
    for (int d : deps[i])
      if (std::find(p.inputs[i].begin(), p.inputs[i].end(), d) == p.inputs[i].end())
        keys_sidechain[d] = true;
  p.folded.assign(n, false);
  for (int i = 0; i < n; ++i) {
    const Node& node = s.nodes[i];
    // Buses are metered (report.json), so they exist, unless bus metering is off.
    const bool may_fold =
        node.kind == NodeKind::kTrack || (fold_buses && node.kind == NodeKind::kBus);
    if (!may_fold || !node.automation.empty() || keys_sidechain[i]) continue;
    bool linear = true;
    for (const auto& proc : node.chain)
      if (enabled(proc) && !find_processor(proc.type)->constant_gain) linear = false;
    const int out = s.find(node.output);
    p.folded[i] = linear && p.instances[i].size() == p.instances[out].size();
  }
  // The node that reads a node's output: its bus, or the first bus up the tree that is
  // not folded.
  auto reader_of = [&](int i) {
    int r = s.find(s.nodes[i].output);
    while (p.folded[r]) r = s.find(s.nodes[r].output);
    return r;
  };

  // Stream slots with liveness: sources live until the level that reads them (the track's
  // own, or its reader's when folded); an instance's output lives until the last level
  // that reads it (its reader, sidechain users); the master's outputs live to the end.
  std::vector<int> last_use(n, max_level), source_last_use(n, 0);
  for (int i = 0; i < n; ++i) {
    if (s.nodes[i].kind == NodeKind::kMaster) continue;
    int last = p.level_of[reader_of(i)];
    for (int j = 0; j < n; ++j)
      for (int d : deps[j])
        if (d == i) last = std::max(last, p.level_of[j]);
    last_use[i] = last;
    source_last_use[i] = p.folded[i] ? last : p.level_of[i];
  }
  std::vector<int> free_slots;
  int next = 0;
  auto take = [&]() {
    if (!free_slots.empty()) {
      const int slot = free_slots.back();
      free_slots.pop_back();
      return slot;
    }
    return next++;
  };
  p.sources.assign(n, {});
  for (int i = 0; i < n; ++i)
    if (s.nodes[i].kind == NodeKind::kTrack)
      for (int c = 0; c < std::max(1, channels[i]); ++c) p.sources[i].push_back(take());
  p.free_after_level.assign(p.levels.size(), {});
  for (size_t l = 0; l < p.levels.size(); ++l) {
    for (int i : p.levels[l])
      if (!p.folded[i])
        for (auto& inst : p.instances[i]) {
          inst.out[0] = take();
          inst.out[1] = take();
        }
    for (int i = 0; i < n; ++i)
      if (source_last_use[i] == (int)l)
        for (int slot : p.sources[i]) p.free_after_level[l].push_back(slot);
    for (int i = 0; i < n; ++i)
      if (last_use[i] == (int)l && s.nodes[i].kind != NodeKind::kMaster && !p.folded[i])
        for (const auto& inst : p.instances[i]) {
          p.free_after_level[l].push_back(inst.out[0]);
          p.free_after_level[l].push_back(inst.out[1]);
        }
    // Released slots become reusable by later levels only (sorted: deterministic reuse).
    std::vector<int> released = p.free_after_level[l];
    std::sort(released.begin(), released.end(), std::greater<int>());
    free_slots.insert(free_slots.end(), released.begin(), released.end());
  }
  p.slot_count = next;
  return p;
}

}  // namespace td
