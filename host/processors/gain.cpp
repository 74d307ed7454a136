// `gain`: a constant gain and polarity. It needs no stage of its own: on a rendered node
// it is one in-place gain job per channel; on a folded node it multiplies into the bus sum
// (plan.h).
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{"gain",
                               true,
                               nullptr,
                               {number_key("gain_db", -60, 24, "dB", 0, "gain"),
                                bool_key("invert", false, "polarity inversion")},
                               nullptr};
  return s;
}

float gain_factor(const Processor& p) {
  return db_to_gain((float)setting(p, spec(), "gain_db")) *
         (setting_flag(p, spec(), "invert") ? -1.0f : 1.0f);
}

StageShape shape(const StageQuery&) {
  return {};
}

void lower(Lowering& l, const Processor& p) {
  const float g = gain_factor(p);
  l.step.gains.push_back({l.left(), g});
  l.step.gains.push_back({l.right(), g});
}

}  // namespace

const ProcessorModule& gain_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower, gain_factor, false};
  return m;
}

}  // namespace td
