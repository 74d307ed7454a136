// What a processor module sees while its jobs are lowered (processor.h, `lower`): one node
// instance's processor at one chain position, the session's share of the launch, and the
// chain step its jobs go into.
#pragma once
#include "render/launch.h"

namespace td {

struct Lowering {
  SessionWork& w;
  int node, k, pos;
  ChainStep& step;
  int& scratch_used;  // scratch streams this level has taken so far

  const Session& session() const { return *w.s; }
  int rate() const { return w.s->sample_rate; }
  const NodeInstance& instance() const { return w.plan.instances[node][k]; }
  // The instance's stream pair (absolute slots).
  int left() const { return w.slot_offset + instance().out[0]; }
  int right() const { return w.slot_offset + instance().out[1]; }
  // A fresh scratch stream of this level (absolute slot).
  int scratch() { return w.slot_offset + w.plan.slot_count + scratch_used++; }
  const StageShape& shape() const { return w.stages[node][pos]; }
  // The lag behind the song of the stream this stage reads.
  long long lag() const { return lag_at(w, node, pos); }
  bool delivery_limiter() const {
    return node == (int)w.s->nodes.size() - 1 && pos == w.delivery_limiter;
  }
  // A FIR job of one stream with a design, in the step's launch of the design's shape.
  void add_fir(int stream, const FirDesign& d);
  // A gain-reduction trace of the session's song (kTraceHz values a second): its absolute
  // offset in the launch's traces; `hops` its length.
  long long add_trace(long long& hops);
};

// The step's launch of FIRs of this shape (one batched call per shape), made if new.
FirLaunch& launch_for(ChainStep& step, const FirShape& shape);

}  // namespace td
