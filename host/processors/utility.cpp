#include "processors/utility.h"

#include <algorithm>
#include <cmath>

#include "kernels/mix.h"
#include "kernels/utility_design.h"
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{
      "utility",
      true,
      nullptr,
      {bool_key("invert_left", false, "polarity inversion of the left channel"),
       bool_key("invert_right", false, "polarity inversion of the right channel"),
       number_key("delay_ms", -50, 50, "ms", 0,
                  "delay (negative: advance) of both channels, fractions of a sample included"),
       number_key("gain_db", -60, 24, "dB", 0, "gain")},
      nullptr};
  return s;
}

bool fractional(double samples) {
  return std::fabs(samples - std::round(samples)) >= 1e-6;
}

StageShape shape(const StageQuery& q) {
  std::vector<double> delays;
  for (double ms : q.values("delay_ms")) delays.push_back(ms * 1e-3 * q.s.sample_rate);
  StageShape out;
  out.latency = utility_latency(delays);
  return out;
}

void lower(Lowering& l, const Processor& p) {
  const UtilityParams up = utility_params(p, l.rate(), l.shape().latency);
  UtilityJob job{};
  job.left = l.left();
  job.right = l.right();
  job.params = l.w.utilities.add_params(up);
  job.memory = l.w.utilities.add_memory(2LL * up.history);
  l.step.utilities.push_back(job);
}

}  // namespace

double utility_delay_samples(const Processor& p, int rate) {
  return setting(p, spec(), "delay_ms") * 1e-3 * rate;
}

long long utility_latency(const std::vector<double>& delays) {
  double advance = 0.0;
  bool any_fraction = false;
  for (double d : delays) {
    advance = std::max(advance, -d);
    any_fraction |= fractional(d);
  }
  return (long long)std::ceil(advance - 1e-6) + (any_fraction ? kUtilityFirCentre : 0);
}

UtilityParams utility_params(const Processor& p, int rate, long long latency) {
  const float g = db_to_gain((float)setting(p, spec(), "gain_db"));
  const float gl = setting_flag(p, spec(), "invert_left") ? -g : g;
  const float gr = setting_flag(p, spec(), "invert_right") ? -g : g;
  return design_utility(gl, gr, (double)latency + utility_delay_samples(p, rate));
}

const ProcessorModule& utility_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower, nullptr, false};
  return m;
}

}  // namespace td
