#include "analysis/spectra.h"

#include <map>
#include <mutex>

#include "analysis/playback.h"

namespace td {

namespace {

// |H(f)|^2 of every playback system on an FFT grid, computed once per grid.
const std::vector<std::vector<double>>& playback_power(int sample_rate, int fft_size) {
  static std::mutex m;
  static std::map<std::pair<int, int>, std::vector<std::vector<double>>> cache;
  std::lock_guard<std::mutex> lock(m);
  auto& grid = cache[{sample_rate, fft_size}];
  if (grid.empty())
    for (const PlaybackSystem& sys : playback_systems()) {
      std::vector<double> h(fft_size / 2 + 1);
      const EqCurve curve = eq_curve(sys.bands);
      for (size_t k = 0; k < h.size(); ++k) {
        const double a = curve((double)k * sample_rate / fft_size);
        h[k] = a * a;
      }
      grid.push_back(std::move(h));
    }
  return grid;
}

}  // namespace

StereoSpectra stereo_spectra(const std::vector<double>& mid, const std::vector<double>& side,
                             int sample_rate) {
  const int fft_size = 2 * ((int)mid.size() - 1);
  std::vector<double> total(mid.size());
  for (size_t k = 0; k < mid.size(); ++k) total[k] = mid[k] + side[k];
  StereoSpectra out;
  out.total = third_octave_bands(total, sample_rate, fft_size);
  out.mid = third_octave_bands(mid, sample_rate, fft_size);
  out.side = third_octave_bands(side, sample_rate, fft_size);
  const auto& power = playback_power(sample_rate, fft_size);
  for (size_t i = 0; i < playback_systems().size(); ++i) {
    const std::vector<double>& heard_from = playback_systems()[i].mono ? mid : total;
    std::vector<double> heard(heard_from.size());
    for (size_t k = 0; k < heard.size(); ++k) heard[k] = heard_from[k] * power[i][k];
    out.playback.push_back(third_octave_bands(heard, sample_rate, fft_size));
  }
  return out;
}

void shift_spectra(StereoSpectra& s, double db) {
  for (auto* bands : {&s.total, &s.mid, &s.side})
    for (auto& b : *bands) b.db += db;
  for (auto& bands : s.playback)
    for (auto& b : bands) b.db += db;
}

}  // namespace td
