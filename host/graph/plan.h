// From a validated Session to a render plan: the dependency levels of the graph, the
// variants, which sweep axes reach which node, the distinct instances each node must be
// rendered as, and the stream slots each instance reads and writes.
#pragma once
#include <string>
#include <vector>

#include "session/session.h"

namespace td {

// One rendering of a node with one distinct setting of the axes that reach it.
struct NodeInstance {
  int node = -1;
  std::vector<int> choice;  // value index per entry of the node's reaching axes
  int out[2] = {-1, -1};    // output stream slots (left, right)
  std::vector<int> inputs;  // buses: instance indices of the nodes feeding it, session order
  std::vector<int> input_nodes;
};

struct Plan {
  int node_count = 0;
  std::vector<std::vector<int>> levels;  // node indices; a level depends only on earlier ones
  std::vector<int> level_of;             // per node
  std::vector<std::vector<int>> inputs;  // per node: nodes routed into it, session order
  std::vector<std::vector<int>> reaching_axes;  // per node: sweep axes that change its output
  std::vector<std::vector<int>> variants;       // [variant][axis] = value index
  std::vector<int> variant_ids;                 // each variant's index in the session's full list
  int variant_total = 1;                        // the full list's length
  std::vector<std::vector<NodeInstance>> instances;  // per node
  std::vector<std::vector<int>> variant_instance;    // [variant][node] = instance index
  std::vector<bool> audible;                         // per node: false if muted or not soloed
  // Per node: true when the node is mixed straight into its bus's sum instead of being
  // written out: it has no automation, no processing but constant gains, keys no
  // sidechain, and its bus is rendered exactly as often as it is. A folded node has no
  // output slots; its bus reads its inputs (ultimately stem channels) with the node's
  // gains multiplied in. Top-down sessions leave most tracks unprocessed, so most fold.
  // Buses fold only when the render does not meter them (fold_buses).
  std::vector<bool> folded;
  // Stream slots: sources[node] are a track's decoded stem channels (one or two slots).
  std::vector<std::vector<int>> sources;
  int slot_count = 0;                              // peak number of live streams
  std::vector<std::vector<int>> free_after_level;  // slots released when a level is done

  int variant_count() const { return (int)variants.size(); }
  int instance_count() const;
};

// channels[node] is the stem channel count of each track (ignored for buses). Buses fold
// too when fold_buses is set (a render that does not meter its buses).
// `only`: render just these variants (indices into the full list, ascending), as a shard
// of a session's variants does; nodes are then rendered once per distinct setting among
// them.
Plan make_plan(const Session& session, const std::vector<int>& channels, bool fold_buses = false,
               const std::vector<int>* only = nullptr);

// Deterministic variant list: grid (first axis slowest) or `count` distinct random draws.
std::vector<std::vector<int>> expand_variants(const Variants& variants);

// The parameter value of axis a in variant v, and a stable id ("v0001").
std::string variant_id(int index, int count);

}  // namespace td
