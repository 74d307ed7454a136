// `imager`, in mid/side: M = (L + R) / 2 and S = (L - R) / 2 into two scratch streams; with
// mono lows, S through a linear-phase high-pass at mono_below_hz (1 - lp of the
// crossovers: below it the side is gone, above it untouched) and M through the flat FIR of
// the same length (a pure delay); then L = bl (M + w S), R = br (M - w S) with
// w = width_pct / 100 and (bl, br) the balance law.
#include "processors/band_split.h"
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{
      "imager",
      true,
      nullptr,
      {number_key("width_pct", 0, 200, "%", 100, "side level (100: unchanged, 0: mono)"),
       number_key("mono_below_hz", 0, 1000, "Hz", 0, "mono below this frequency (0: off)"),
       number_key("balance", -1, 1, "", 0, "left/right balance")},
      nullptr};
  return s;
}

// A side high-pass when any variant asks for mono lows: the lowest such frequency sets
// the FIR (the crossovers' rule).
StageShape shape(const StageQuery& q) {
  StageShape out;
  double lowest = 0.0;
  for (double hz : q.values("mono_below_hz"))
    if (hz > 0.0 && (lowest == 0.0 || hz < lowest)) lowest = hz;
  if (lowest > 0.0) {
    out.fir = crossover_shape({lowest}, q.s.sample_rate);
    out.latency = out.fir.latency();
  }
  return out;
}

void lower(Lowering& l, const Processor& p) {
  const int left = l.left(), right = l.right();
  const int m = l.scratch(), side = l.scratch();
  const int t = (int)l.step.terms.size();
  l.step.terms.push_back({left, 0.5f, 0.5f});
  l.step.terms.push_back({right, 0.5f, -0.5f});
  l.step.pre_sums.push_back({m, side, t, 2});
  const FirShape& fir = l.shape().fir;
  if (fir.taps > 0) {
    FirDesign flat;  // no edges, band 0: magnitude 1
    flat.band = 0;
    flat.shape = fir;
    l.add_fir(m, flat);
    FirDesign high = flat;
    const double hz = setting(p, spec(), "mono_below_hz");
    if (hz > 0.0) {
      high.crossovers = {hz};
      high.band = 1;
    }
    l.add_fir(side, high);
  }
  const float width = (float)(setting(p, spec(), "width_pct") / 100.0);
  const StereoGains b = balance_gains((float)setting(p, spec(), "balance"));
  const int u = (int)l.step.terms.size();
  l.step.terms.push_back({m, b.left, b.right});
  l.step.terms.push_back({side, b.left * width, -b.right * width});
  l.step.post_sums.push_back({left, right, u, 2});
}

}  // namespace

const ProcessorModule& imager_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower, nullptr, true};
  return m;
}

}  // namespace td
