#include "processors/limiter.h"

#include <algorithm>
#include <cmath>

#include "kernels/true_peak.h"
#include "processors/compressor.h"  // one_pole_coefficient
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{
      "limiter",
      true,
      nullptr,
      {number_key("ceiling_dbtp", -20, 0, "dBTP", -1, "true-peak ceiling of its output"),
       number_key("release_ms", 1, 2000, "ms", 50, "release time constant (63 % of a step)"),
       number_key("lookahead_ms", 0, 20, "ms", 5, "look-ahead (at least one sample)"),
       number_key("max_reduction_db", 0, 24, "dB", 6,
                  "delivery: the most limiting the drive to [delivery] target_lufs may use")},
      nullptr};
  return s;
}

StageShape shape(const StageQuery& q) {
  StageShape out;
  if (q.delivery_limiter) return out;  // runs at delivery, not in the stream
  const std::vector<double> ms = q.values("lookahead_ms");
  out.latency = std::max(1LL, std::llround(*std::max_element(ms.begin(), ms.end()) * 1e-3 *
                                           q.s.sample_rate)) +
                kLimiterExtraDelay;
  return out;
}

void lower(Lowering& l, const Processor& p) {
  if (l.delivery_limiter()) return;
  SessionWork& w = l.w;
  LimiterJob job{};
  job.left = l.left();
  job.right = l.right();
  const LimiterParams params =
      limiter_params(p, l.rate(), (int)l.shape().latency - kLimiterExtraDelay);
  job.params = w.limiters.add_params(params);
  job.state = w.limiters.add_state();
  job.ring = w.limiters.add_memory(limiter_ring_floats(params.lookahead, params.pad));
  job.song_begin = lag_at(w, l.node, l.pos + 1);  // at its output
  job.song_end = job.song_begin + w.frames;
  job.trace = l.add_trace(job.trace_hops);
  w.dynamics.push_back({l.node, l.k, l.pos, job.state - w.limiters.state_offset,
                        job.trace - w.trace_offset, job.trace_hops, -1, true});
  l.step.limiters.push_back(job);
}

}  // namespace

int limiter_lookahead(const Processor& p, int rate) {
  return (int)std::max<long long>(1,
                                  std::llround(setting(p, spec(), "lookahead_ms") * 1e-3 * rate));
}

LimiterParams limiter_params(const Processor& p, int rate, int lookahead_max) {
  LimiterParams l{};
  l.ceiling = (float)std::pow(10.0, (setting(p, spec(), "ceiling_dbtp") - kLimiterMarginDb) / 20.0);
  l.release = one_pole_coefficient(setting(p, spec(), "release_ms"), rate);
  l.lookahead = limiter_lookahead(p, rate);
  l.pad = std::max(0, lookahead_max - l.lookahead);
  l.drive = 1.0f;
  l.bound = true_peak_gain_bound(design_true_peak_filter(rate));
  l.inverse_lookahead = 1.0 / l.lookahead;
  return l;
}

double limiter_max_reduction_db(const Processor& p) {
  return setting(p, spec(), "max_reduction_db");
}

const ProcessorModule& limiter_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower, nullptr, false};
  return m;
}

}  // namespace td
