#include "analysis/playback.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "kernels/fir_design.h"

namespace td {
namespace {

EqBand band(EqBandType type, double hz, double gain_db, double q, double slope) {
  EqBand b;
  b.type = type;
  b.freq_hz = hz;
  b.gain_db = gain_db;
  b.q = q;
  b.slope = slope;
  return b;
}

}  // namespace

const std::vector<PlaybackSystem>& playback_systems() {
  using T = EqBandType;
  static const std::vector<PlaybackSystem> systems = {
      {"phone",
       true,
       {band(T::kHighpass, 300, 0, 0, 24), band(T::kBell, 2500, 4, 1.0, 0),
        band(T::kLowpass, 9000, 0, 0, 12)},
       "a phone's loudspeaker: mono, nothing below about 300 Hz (24 dB/octave), a presence "
       "peak of +4 dB at 2.5 kHz, top end rolled off from 9 kHz (12 dB/octave)"},
      {"earbuds",
       false,
       {band(T::kHighpass, 40, 0, 0, 12), band(T::kBell, 3000, 3, 1.2, 0),
        band(T::kHighShelf, 10000, -4, 0.7071, 0)},
       "consumer earbuds: stereo, bass down to about 40 Hz, +3 dB at 3 kHz, -4 dB above "
       "10 kHz"},
      {"car",
       false,
       {band(T::kHighpass, 30, 0, 0, 12), band(T::kLowShelf, 120, 6, 0.7071, 0),
        band(T::kBell, 2000, -2, 1.0, 0), band(T::kHighShelf, 8000, -3, 0.7071, 0)},
       "a car: stereo, +6 dB of cabin gain below 120 Hz, -2 dB at 2 kHz (off-axis "
       "drivers), -3 dB above 8 kHz"},
      {"smart-speaker",
       true,
       {band(T::kHighpass, 70, 0, 0, 24), band(T::kBell, 120, 3, 1.4, 0),
        band(T::kLowpass, 12000, 0, 0, 12)},
       "a smart speaker: mono, nothing below about 70 Hz (24 dB/octave), a port resonance "
       "of +3 dB at 120 Hz, top end rolled off from 12 kHz"},
  };
  return systems;
}

const PlaybackSystem* find_playback_system(const std::string& name) {
  for (const auto& s : playback_systems())
    if (s.name == name) return &s;
  return nullptr;
}

double playback_magnitude(const PlaybackSystem& system, double f_hz) {
  return eq_magnitude(system.bands, f_hz);
}

int playback_fir_taps(double sample_rate) {
  double seconds = 0;
  for (const auto& s : playback_systems())
    for (const auto& b : s.bands) seconds = std::max(seconds, eq_band_fir_duration_s(b));
  return fir_taps_for(seconds, sample_rate);
}

std::vector<double> playback_fir(const PlaybackSystem& system, double sample_rate, int taps) {
  // Designed once per process and kept: every report page embeds all four (a batch writes
  // hundreds), and a design (a Kaiser window of Bessel functions) costs a tenth of a second.
  static std::mutex mutex;
  static std::map<std::tuple<std::string, double, int>, std::vector<double>> designs;
  const auto key = std::make_tuple(system.name, sample_rate, taps);
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = designs.find(key);
    if (it != designs.end()) return it->second;
  }
  const FirShape shape = fir_shape(taps, FirPhase::kLinear);
  const EqCurve curve = eq_curve(system.bands);
  std::vector<double> fir = design_fir(curve, sample_rate, shape, FirPhase::kLinear);
  std::lock_guard<std::mutex> lock(mutex);
  return designs.emplace(key, std::move(fir)).first->second;
}

void prepare_playback_firs(double sample_rate) {
  const int taps = playback_fir_taps(sample_rate);
  for (const auto& system : playback_systems()) playback_fir(system, sample_rate, taps);
}

}  // namespace td
