#include "processors/band_split.h"

#include <algorithm>

#include "render/lower.h"

namespace td {

FirShape crossover_shape(const std::vector<double>& edges, int rate) {
  double duration = 0.0;
  for (double e : edges) duration = std::max(duration, 7.0 * 8.0 / e);
  return fir_shape(fir_taps_for(duration, rate), FirPhase::kLinear);
}

BandStreams split_bands(Lowering& l, const std::vector<double>& edges) {
  const int in_l = l.left(), in_r = l.right();
  const int bands = (int)edges.size() + 1;
  BandStreams out;
  for (int b = 0; b < bands; ++b) {
    out.left.push_back(l.scratch());
    out.right.push_back(l.scratch());
    const int t = (int)l.step.terms.size();
    l.step.terms.push_back({in_l, 1.0f, 0.0f});
    l.step.terms.push_back({in_r, 0.0f, 1.0f});
    l.step.pre_sums.push_back({out.left[b], out.right[b], t, 2});
    FirDesign d;
    d.crossovers = edges;
    d.band = b;
    d.shape = l.shape().fir;
    l.add_fir(out.left[b], d);
    l.add_fir(out.right[b], d);
  }
  return out;
}

void sum_bands(Lowering& l, const BandStreams& bands, const std::vector<float>& gains) {
  const int t = (int)l.step.terms.size();
  for (size_t b = 0; b < bands.left.size(); ++b) {
    l.step.terms.push_back({bands.left[b], gains[b], 0.0f});
    l.step.terms.push_back({bands.right[b], 0.0f, gains[b]});
  }
  l.step.post_sums.push_back({l.left(), l.right(), t, 2 * (int)bands.left.size()});
}

}  // namespace td
