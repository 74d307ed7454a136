// Latency compensation (docs/architecture.md): every stage's shape from its module, and the
// delays that make every bus sum its inputs with the same lag.
#include <algorithm>
#include <functional>

#include "render/launch.h"

namespace td {

void align_latencies(SessionWork& w) {
  const Session& s = *w.s;
  const int n = (int)s.nodes.size();
  // The delivery limiter: the master's last enabled processor, when it is a limiter and
  // the delivery has a loudness target.
  w.delivery_limiter = -1;
  if (s.delivery.target_lufs)
    for (int pos = (int)s.master().chain.size() - 1; pos >= 0; --pos)
      if (enabled(s.master().chain[pos])) {
        if (s.master().chain[pos].type == "limiter") w.delivery_limiter = pos;
        break;
      }
  w.stages.assign(n, {});
  std::vector<long long> chain_latency(n, 0);
  for (int i = 0; i < n; ++i) {
    w.stages[i].assign(s.nodes[i].chain.size(), StageShape{});
    for (size_t pos = 0; pos < s.nodes[i].chain.size(); ++pos) {
      const Processor& p = s.nodes[i].chain[pos];
      if (!enabled(p)) continue;
      const StageQuery q{s, w.plan, i, (int)pos, i == n - 1 && (int)pos == w.delivery_limiter};
      w.stages[i][pos] = find_processor(p.type)->shape(q);
      chain_latency[i] += w.stages[i][pos].latency;
    }
  }
  // Lag of the master's output relative to each node's input: the latencies of the
  // chains from the node up to the master, its own included.
  std::vector<long long> path(n, -1);
  std::function<long long(int)> path_of = [&](int i) {  // routing is acyclic (validated)
    if (path[i] >= 0) return path[i];
    const int parent = s.nodes[i].output.empty() ? -1 : s.find(s.nodes[i].output);
    return path[i] = chain_latency[i] + (parent >= 0 ? path_of(parent) : 0);
  };
  for (int i = 0; i < n; ++i) path_of(i);
  w.latency = *std::max_element(path.begin(), path.end());
  w.in_delay.assign(n, 0);
  w.out_delay.assign(n, 0);
  for (int i = 0; i < n; ++i) {
    w.in_delay[i] = w.latency - path[i];
    w.out_delay[i] = w.in_delay[i] + chain_latency[i];
    w.r.nodes[i].latency_samples = chain_latency[i];
  }
  w.r.latency_samples = w.latency;
}

long long lag_at(const SessionWork& w, int node, int pos) {
  long long lag = w.in_delay[node];
  for (int p = 0; p < pos; ++p) lag += w.stages[node][p].latency;
  return lag;
}

}  // namespace td
