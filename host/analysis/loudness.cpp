#include "analysis/loudness.h"

#include <cmath>
#include <limits>

#include "../../kernels/loudness.h"

namespace td {

long long loudness_hop_frames(int sample_rate) {
  return (long long)std::llround(sample_rate / 10.0);
}

double gain_to_db(double gain) {
  return gain > 0.0 ? 20.0 * std::log10(gain) : -std::numeric_limits<double>::infinity();
}

double integrated_loudness(const std::vector<std::vector<double>>& hop_energy, long long hop_frames,
                           long long frames) {
  const double minus_inf = -std::numeric_limits<double>::infinity();
  const long long full_hops = frames / hop_frames;  // a trailing partial hop is not a block part
  if (hop_energy.empty() || full_hops < 4) return minus_inf;
  const long long blocks = full_hops - 3;
  std::vector<double> z(blocks, 0.0);  // channel-weighted mean square of each block
  for (long long j = 0; j < blocks; ++j)
    for (const auto& ch : hop_energy)
      z[j] += (ch[j] + ch[j + 1] + ch[j + 2] + ch[j + 3]) / (4.0 * hop_frames);
  auto lufs = [](double ms) { return -0.691 + 10.0 * std::log10(ms); };
  // Absolute gate: -70 LUFS.
  double sum = 0.0;
  long long count = 0;
  for (double v : z)
    if (v > 0.0 && lufs(v) > -70.0) {
      sum += v;
      ++count;
    }
  if (count == 0) return minus_inf;
  // Relative gate: 10 LU below the loudness of the absolute-gated blocks.
  const double relative_gate = lufs(sum / count) - 10.0;
  double gated = 0.0;
  long long gated_count = 0;
  for (double v : z)
    if (v > 0.0 && lufs(v) > -70.0 && lufs(v) > relative_gate) {
      gated += v;
      ++gated_count;
    }
  if (gated_count == 0) return minus_inf;
  return lufs(gated / gated_count);
}

double integrated_loudness(const std::vector<std::vector<float>>& channels, int sample_rate) {
  const KWeighting k = design_kweighting(sample_rate);
  const long long hop = loudness_hop_frames(sample_rate);
  std::vector<std::vector<double>> energy;
  long long frames = channels.empty() ? 0 : (long long)channels[0].size();
  for (const auto& ch : channels) {
    std::vector<double> e((ch.size() + hop - 1) / hop);
    kweight_hop_energies(ch.data(), (long long)ch.size(), k, hop, e.data());
    energy.push_back(std::move(e));
  }
  return integrated_loudness(energy, hop, frames);
}

}  // namespace td
