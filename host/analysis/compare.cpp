#include "analysis/compare.h"

#include <algorithm>
#include <cmath>

#include "analysis/playback.h"

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

bool in_scored_range(double hz) {
  return hz >= 31.0 && hz <= 16001.0;
}

double power_of(double db) {
  return std::isfinite(db) ? std::pow(10.0, db / 10.0) : 0.0;
}

// Below this a band holds no signal worth a width or a difference (-100 dB re full scale).
constexpr double kSilentBandDb = -100.0;

// Both through one system, matched again by their power within the bands it reproduces.
Translation translate(const PlaybackSystem& sys, const std::vector<Band>& mix,
                      const std::vector<Band>& ref, double ref_gain_db) {
  Translation t;
  t.system = sys.name;
  std::vector<size_t> audible;
  double pm = 0, pr = 0;
  for (size_t b = 0; b < mix.size() && b < ref.size(); ++b) {
    if (20.0 * std::log10(playback_magnitude(sys, mix[b].hz)) < -20.0) continue;
    audible.push_back(b);
    pm += power_of(mix[b].db);
    pr += power_of(ref[b].db + ref_gain_db);
  }
  t.level_match_db = pm > 0 && pr > 0 ? 10.0 * std::log10(pm / pr) : 0.0;
  double sum = 0;
  int count = 0;
  for (size_t b : audible) {
    double d = mix[b].db - (ref[b].db + ref_gain_db + t.level_match_db);
    if (!std::isfinite(d)) d = 0.0;
    t.band_difference.push_back({mix[b].hz, d});
    if (in_scored_range(mix[b].hz)) sum += d * d, ++count;
  }
  t.spectral_rms_db = count ? std::sqrt(sum / count) : 0.0;
  return t;
}

}  // namespace

double band_width(const Band& mid, const Band& side) {
  const double m = power_of(mid.db), s = power_of(side.db);
  if (!(10.0 * std::log10(m + s) > kSilentBandDb)) return NAN;
  return m > 0 ? s / m : 1e3;  // all side: out of phase, capped
}

Comparison compare(const Measured& mix, const Measured& ref, const ScoreWeights& w) {
  Comparison c;
  const double ml = mix.readings.integrated_lufs, rl = ref.readings.integrated_lufs;
  c.level_match_db = std::isfinite(ml) && std::isfinite(rl) ? ml - rl : 0.0;
  double sum = 0;
  int count = 0;
  const std::vector<Band>&mix_bands = mix.spectra.total, &ref_bands = ref.spectra.total;
  for (size_t b = 0; b < mix_bands.size() && b < ref_bands.size(); ++b) {
    const double hz = mix_bands[b].hz;
    double d = mix_bands[b].db - (ref_bands[b].db + c.level_match_db);
    if (!std::isfinite(d)) d = 0.0;  // a band silent in both
    c.band_difference.push_back({hz, d});
    if (in_scored_range(hz)) {
      sum += d * d;
      ++count;
    }
  }
  c.spectral_rms_db = count ? std::sqrt(sum / count) : 0.0;
  // Width per band: side / mid energy, where both have signal in the band.
  const StereoSpectra &ms = mix.spectra, &rs = ref.spectra;
  sum = 0, count = 0;
  for (size_t b = 0; b < ms.mid.size() && b < rs.mid.size(); ++b) {
    const BandWidth bw{ms.mid[b].hz, band_width(ms.mid[b], ms.side[b]),
                       band_width(rs.mid[b], rs.side[b])};
    if (std::isnan(bw.mix) || std::isnan(bw.reference)) continue;
    c.width.push_back(bw);
    if (in_scored_range(bw.hz)) sum += (bw.mix - bw.reference) * (bw.mix - bw.reference), ++count;
  }
  c.width_rms_difference = count ? std::sqrt(sum / count) : 0.0;
  // Translation: through every playback system.
  double translation_sum = 0;
  for (size_t i = 0; i < playback_systems().size(); ++i) {
    if (i >= ms.playback.size() || i >= rs.playback.size()) break;
    c.translation.push_back(
        translate(playback_systems()[i], ms.playback[i], rs.playback[i], c.level_match_db));
    translation_sum += c.translation.back().spectral_rms_db;
  }
  c.translation_rms_db = c.translation.empty() ? 0.0 : translation_sum / c.translation.size();
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
            w.stereo * std::fabs(c.correlation_difference) + w.width * c.width_rms_difference +
            w.translation * c.translation_rms_db;
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
