// Routing: names, outputs, sidechains and cycles.
#include <functional>
#include <map>
#include <set>

#include "processors/processor.h"
#include "session/parser.h"

namespace td::session_parser {

// Names unique, every output a bus, sidechains naming a track or bus, no cycles.
void Parser::check_routing(const Session& s) const {
  std::map<std::string, int> seen;
  for (size_t i = 0; i + 1 < s.nodes.size(); ++i) {
    auto [it, fresh] = seen.emplace(s.nodes[i].name, (int)i);
    if (!fresh)
      fail_line(
          s.nodes[i].line,
          (s.nodes[i].kind == NodeKind::kTrack ? "track" : "bus") + std::string(" \"") +
              s.nodes[i].name + "\".name",
          "duplicate name (first used on line " + std::to_string(s.nodes[it->second].line) + ")");
  }
  std::string bus_list = "master";
  for (const auto& n : s.nodes)
    if (n.kind == NodeKind::kBus) bus_list += ", " + n.name;
  for (const auto& n : s.nodes) {
    if (n.kind == NodeKind::kMaster) continue;
    const std::string key = n.kind == NodeKind::kTrack ? "bus" : "output";
    const int target = s.find(n.output);
    if (target < 0 || s.nodes[target].kind == NodeKind::kTrack)
      fail_line(n.line, kind_name(n) + " \"" + n.name + "\"." + key,
                "\"" + n.output + "\" is not a bus (allowed: " + bus_list + ")");
    if (target == s.find(n.name))
      fail_line(n.line, kind_name(n) + " \"" + n.name + "\".output", "a bus cannot feed itself");
  }
  for (const auto& n : s.nodes)
    for (const auto& p : n.chain) {
      auto sc = p.values.find("sidechain");
      if (sc == p.values.end()) continue;
      const int src = s.find(sc->second.text);
      if (src < 0 || s.nodes[src].kind == NodeKind::kMaster)
        fail_line(sc->second.line, node_label(n) + ".chain." + p.id + ".sidechain",
                  "\"" + sc->second.text + "\" is not a track or bus of this session");
      if (src == s.find(n.name))
        fail_line(sc->second.line, node_label(n) + ".chain." + p.id + ".sidechain",
                  "a node cannot key itself");
    }
  check_cycles(s);
}

// A node depends on its inputs (routing) and on the sources of its sidechains.
void Parser::check_cycles(const Session& s) const {
  const int n = (int)s.nodes.size();
  const std::vector<std::vector<int>> deps = node_dependencies(s);
  std::vector<int> state(n, 0), stack;
  std::function<void(int)> visit = [&](int v) {
    state[v] = 1;
    stack.push_back(v);
    for (int d : deps[v]) {
      if (state[d] == 1) {
        std::string path;
        auto it = std::find(stack.begin(), stack.end(), d);
        for (; it != stack.end(); ++it) path += s.nodes[*it].name + " <- ";
        path += s.nodes[d].name;
        fail_line(
            s.nodes[d].line, node_label(s.nodes[d]),
            "routing cycle (each node waits for the next: " + path +
                "); buses must form a tree towards the master and sidechains must not loop back");
      }
      if (state[d] == 0) visit(d);
    }
    stack.pop_back();
    state[v] = 2;
  };
  for (int i = 0; i < n; ++i)
    if (state[i] == 0) visit(i);
}

}  // namespace td::session_parser
