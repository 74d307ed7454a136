#include "analysis/compare.h"

#include <algorithm>
#include <cmath>

namespace td {
namespace {

// The 10th, 50th and 95th percentiles of the short-term loudness (gated at -70 LUFS),
// relative to the integrated loudness: the shape of the loudness distribution.
std::vector<double> short_term_shape(const Readings& r) {
  std::vector<double> v;
  for (const auto& p : r.short_term_series)
    if (std::isfinite(p.second) && p.second > -70.0) v.push_back(p.second);
  if (v.empty() || !std::isfinite(r.integrated_lufs)) return {0, 0, 0};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[(size_t)std::llround(q * (v.size() - 1))] - r.integrated_lufs;
  };
  return {at(0.10), at(0.50), at(0.95)};
}

double finite_or_zero(double x) {
  return std::isfinite(x) ? x : 0.0;
}

}  // namespace

Comparison compare(const Measured& mix, const Measured& ref, const ScoreWeights& w) {
  Comparison c;
  const double ml = mix.readings.integrated_lufs, rl = ref.readings.integrated_lufs;
  c.level_match_db = std::isfinite(ml) && std::isfinite(rl) ? ml - rl : 0.0;
  double sum = 0;
  int count = 0;
  for (size_t b = 0; b < mix.spectrum.size() && b < ref.spectrum.size(); ++b) {
    const double hz = mix.spectrum[b].hz;
    double d = mix.spectrum[b].db - (ref.spectrum[b].db + c.level_match_db);
    if (!std::isfinite(d)) d = 0.0;  // a band silent in both
    c.band_difference.push_back({hz, d});
    if (hz >= 31.0 && hz <= 16001.0) {
      sum += d * d;
      ++count;
    }
  }
  c.spectral_rms_db = count ? std::sqrt(sum / count) : 0.0;
  c.plr_difference_db = finite_or_zero(mix.readings.plr_db - ref.readings.plr_db);
  c.lra_difference_lu = finite_or_zero(mix.readings.lra_lu - ref.readings.lra_lu);
  c.crest_difference_db = finite_or_zero(mix.readings.crest_db - ref.readings.crest_db);
  const auto a = short_term_shape(mix.readings), b = short_term_shape(ref.readings);
  for (int i = 0; i < 3; ++i) c.short_term_difference_lu += std::fabs(a[i] - b[i]) / 3.0;
  if (mix.readings.correlation && ref.readings.correlation)
    c.correlation_difference = *mix.readings.correlation - *ref.readings.correlation;
  const double dynamics = (std::fabs(c.plr_difference_db) + std::fabs(c.lra_difference_lu) +
                           std::fabs(c.crest_difference_db) + c.short_term_difference_lu) /
                          4.0;
  c.score = w.spectral * c.spectral_rms_db + w.dynamics * dynamics +
            w.stereo * std::fabs(c.correlation_difference);
  return c;
}

double blended_score(const std::vector<Comparison>& comparisons) {
  double sum = 0, weights = 0;
  for (const auto& c : comparisons) {
    sum += c.weight * c.score;
    weights += c.weight;
  }
  return weights > 0 ? sum / weights : 0.0;
}

}  // namespace td
