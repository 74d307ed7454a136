// `multiband`: 2 to 5 bands split by linear-phase crossovers (band_split.h), each with its
// own compressor (bypass: none; solo: only soloed bands are summed).
#include <algorithm>
#include <cmath>

#include "processors/band_split.h"
#include "processors/compressor.h"
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{"multiband",
                               true,
                               nullptr,
                               {list_key("crossovers_hz", 20, 20000, "Hz", "required",
                                         "band edges, Hz, ascending (1 to 4 of them)")},
                               "multiband-band"};
  return s;
}

const ProcessorSpec* band_spec() {
  static const ProcessorSpec s = [] {
    std::vector<KeySpec> keys = compressor_keys();
    keys.push_back(bool_key("solo", false, "hear only this band"));
    keys.push_back(bool_key("bypass", false, "band passes uncompressed"));
    return ProcessorSpec{"multiband-band", true, nullptr, keys, nullptr};
  }();
  return &s;
}

std::vector<double> crossovers(const Processor& p) {
  auto x = p.values.find("crossovers_hz");
  return x == p.values.end() ? std::vector<double>{} : x->second.list;
}

StageShape shape(const StageQuery& q) {
  StageShape out;
  out.fir = crossover_shape(crossovers(q.proc()), q.s.sample_rate);
  long long lookahead = 0;
  for (size_t b = 0; b < q.proc().bands.size(); ++b) {
    const std::vector<double> ms = q.values("lookahead_ms", (int)b);
    lookahead = std::max(
        lookahead, std::llround(*std::max_element(ms.begin(), ms.end()) * 1e-3 * q.s.sample_rate));
  }
  out.latency = out.fir.latency() + lookahead;
  return out;
}

void lower(Lowering& l, const Processor& p) {
  const BandStreams bands = split_bands(l, crossovers(p));
  const int lookahead = (int)(l.shape().latency - l.shape().fir.latency());
  CompressorParams unity{};  // a pure delay (bands without a compressor, when look-ahead)
  unity.attack = unity.release = unity.release_slow = unity.memory = unity.rms_coeff = 0.5f;
  unity.mix = 1.0f;
  unity.link = 1.0f;
  unity.knee_start_power = HUGE_VALF;
  bool any_solo = false;
  for (const auto& b : p.bands) any_solo |= setting_flag(b, *band_spec(), "solo");
  std::vector<float> gains;
  for (size_t b = 0; b < bands.left.size(); ++b) {
    const Processor& band = p.bands[b];
    CompressorPlace place;
    place.left = place.key_left = bands.left[b];
    place.right = place.key_right = bands.right[b];
    place.lag = l.lag() + l.shape().fir.latency();
    place.lookahead = lookahead;
    place.band = (int)b;
    if (setting_flag(band, *band_spec(), "bypass")) {
      if (lookahead > 0) {
        place.report = false;
        l.step.compressors.push_back(make_compressor(l, band, unity, place));
      }
    } else {
      l.step.compressors.push_back(
          make_compressor(l, band, compressor_params(band, l.rate()), place));
    }
    gains.push_back(!any_solo || setting_flag(band, *band_spec(), "solo") ? 1.0f : 0.0f);
  }
  sum_bands(l, bands, gains);
}

}  // namespace

const ProcessorModule& multiband_module() {
  static const ProcessorModule m{spec, band_spec, shape, lower, nullptr, false};
  return m;
}

}  // namespace td
