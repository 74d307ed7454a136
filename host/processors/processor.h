// A processor module: everything the host knows about one processor type, in one place.
// Each module (host/processors/<type>.cpp) holds its schema entry (keys, ranges, units,
// defaults), its settings-to-Params function (public, in its header, so tests call it), its
// stage shape (latency and FIR) over every value a sweep can give it, and how it adds its
// jobs to a level. The renderer looks a module up by type (registry.cpp) instead of
// branching on names. Adding a processor: a kernel header, its two launchers, one module.
#pragma once
#include <string>
#include <vector>

#include "kernels/fir_design.h"
#include "session/schema.h"
#include "session/session.h"

namespace td {

struct Plan;
struct Lowering;  // render/lower.h: one node instance's chain position being lowered

// What a stage does to its stream's timing: its FIR (taps 0: none) and its latency in
// samples (compensated by reading the stems early, docs/architecture.md).
struct StageShape {
  FirShape fir{0, 2, 2, 0};
  long long latency = 0;
};

// The processor at chain[pos] of a node, with every value the session's sweeps give it.
struct StageQuery {
  const Session& s;
  const Plan& plan;
  int node, pos;
  bool delivery_limiter;  // the master's last limiter, driven at delivery (limiter.h)

  const Processor& proc() const;
  // Every value `key` takes over the session's variants (all of them, not only this
  // render's, so a shard renders exactly what the whole run renders): the file's value (or
  // the schema default) first, then each swept value. band >= 0: a key of that band.
  std::vector<double> values(const std::string& key, int band = -1) const;
  // Only the values the sweeps give `key` (for keys whose file default is decided in code).
  std::vector<double> swept(const std::string& key, int band = -1) const;
};

struct ProcessorModule {
  const ProcessorSpec& (*spec)();
  const ProcessorSpec* (*band_spec)();  // the spec of its `bands` entries, or nullptr
  StageShape (*shape)(const StageQuery& q);
  // Adds the jobs of one node instance's enabled processor to the chain step.
  void (*lower)(Lowering& l, const Processor& p);
  // A linear, constant processor (folds into bus sums, plan.h): its gain factor. nullptr:
  // the processor needs a stage.
  float (*constant_gain)(const Processor& p);
  // A track with this processor is metered (its stereo image: correlation).
  bool meters_tracks;
  // Instances of a node that agree on their input and on this processor's settings (and
  // on every one before it) may compute it once (lower.cpp, chain-prefix sharing): true
  // for processors with no per-instance state that the report reads.
  bool shares_prefix = false;
};

// Every module, in the order the docs list them.
const std::vector<const ProcessorModule*>& processor_modules();
// The module of a processor type, or nullptr.
const ProcessorModule* find_processor(const std::string& type);

bool enabled(const Processor& p);

// A key's value in a processor, or the schema's default for it. Throws std::logic_error
// for a key the spec does not list with a default (a programming error, not bad input).
double setting(const Processor& p, const ProcessorSpec& spec, const char* key);
std::string setting_text(const Processor& p, const ProcessorSpec& spec, const char* key);
bool setting_flag(const Processor& p, const ProcessorSpec& spec, const char* key);
// A key given in the file (no default applies): its text, or "".
std::string given_text(const Processor& p, const char* key);

}  // namespace td
