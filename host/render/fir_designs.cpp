// FIR designs: each distinct design (an EQ's bands at one setting, a crossover band) is
// designed once per launch, remembered for the process, and handed to the backend as one
// array of spectra.
#include <mutex>

#include "kernels/saturation_design.h"  // crossover_band_magnitude
#include "render/launch.h"

namespace td {
namespace {

bool same_design(const FirDesign& a, const FirDesign& b) {
  if (a.phase != b.phase || a.shape.taps != b.shape.taps || a.shape.fft_size != b.shape.fft_size ||
      a.bands.size() != b.bands.size() || a.band != b.band || a.crossovers != b.crossovers)
    return false;
  for (size_t i = 0; i < a.bands.size(); ++i) {
    const EqBand &x = a.bands[i], &y = b.bands[i];
    if (x.type != y.type || x.freq_hz != y.freq_hz || x.gain_db != y.gain_db || x.q != y.q ||
        x.slope != y.slope)
      return false;
  }
  return true;
}

// The overlap-save spectrum of a FIR design. Designs are remembered for the process (up to
// kSpectrumCacheBytes, oldest forgotten first): the passes of auto gain staging and the
// launches of a batch reuse the same EQs.
std::shared_ptr<const std::vector<std::complex<float>>> design_spectrum(const FirDesign& d,
                                                                        int rate) {
  constexpr size_t kSpectrumCacheBytes = 256u << 20;
  struct Entry {
    FirDesign design;
    int rate;
    std::shared_ptr<const std::vector<std::complex<float>>> bins;
  };
  static std::mutex m;
  static std::vector<Entry> cache;
  {
    std::lock_guard<std::mutex> lock(m);
    for (const Entry& e : cache)
      if (e.rate == rate && same_design(e.design, d)) return e.bins;
  }
  const EqCurve curve = eq_curve(d.bands);
  const std::vector<double> taps = design_fir(
      [&](double f) {
        return d.band >= 0 ? crossover_band_magnitude(d.crossovers, d.band, f) : curve(f);
      },
      rate, d.shape, d.phase);
  auto bins = std::make_shared<const std::vector<std::complex<float>>>(
      fir_spectrum(taps, d.shape.fft_size));
  std::lock_guard<std::mutex> lock(m);
  cache.push_back({d, rate, bins});
  size_t bytes = 0;
  for (const Entry& e : cache) bytes += e.bins->size() * sizeof(std::complex<float>);
  while (bytes > kSpectrumCacheBytes && cache.size() > 1) {
    bytes -= cache.front().bins->size() * sizeof(std::complex<float>);
    cache.erase(cache.begin());
  }
  return bins;
}

}  // namespace

long long design_of(SessionWork& w, const FirDesign& d) {
  for (const FirDesign& e : w.fir_designs)
    if (same_design(e, d)) return e.spectrum;
  FirDesign copy = d;
  copy.spectrum = w.fir_spectrum_bins;
  w.fir_spectrum_bins += d.shape.fft_size / 2 + 1;
  w.fir_designs.push_back(std::move(copy));
  return w.fir_designs.back().spectrum;
}

void upload_fir_designs(const std::vector<SessionWork*>& group, long long fir_states,
                        long long fir_bins, Backend& backend) {
  const int rate = group.front()->s->sample_rate;
  std::vector<const FirDesign*> designs;
  std::vector<long long> offsets;
  for (SessionWork* w : group)
    for (const FirDesign& d : w->fir_designs) {
      designs.push_back(&d);
      offsets.push_back(w->fir_spectrum_offset + d.spectrum);
    }
  std::vector<float> spectra(2 * (size_t)fir_bins);
  // Sessions of a batch often share an EQ: each distinct one is designed once, on all cores.
  std::vector<int> unique_of(designs.size());
  std::vector<size_t> unique;
  for (size_t i = 0; i < designs.size(); ++i) {
    size_t u = 0;
    while (u < unique.size() && !same_design(*designs[unique[u]], *designs[i])) ++u;
    if (u == unique.size()) unique.push_back(i);
    unique_of[i] = (int)u;
  }
  std::vector<std::shared_ptr<const std::vector<std::complex<float>>>> bins(unique.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long u = 0; u < (long long)unique.size(); ++u)
    bins[u] = design_spectrum(*designs[unique[u]], rate);
  for (size_t i = 0; i < designs.size(); ++i) {
    const auto& b = *bins[unique_of[i]];
    std::copy(reinterpret_cast<const float*>(b.data()),
              reinterpret_cast<const float*>(b.data() + b.size()), spectra.data() + 2 * offsets[i]);
  }
  backend.allocate_fir(fir_states, spectra);
}

}  // namespace td
