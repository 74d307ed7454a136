#include <cmath>

#include "spectrum.h"

namespace td {

int spectrum_fft_size(int sample_rate) {
  int n = 1024;
  while (n < 0.68 * sample_rate) n *= 2;
  return n;
}

LongTermSpectrum make_spectrum(int fft_size, int channels) {
  LongTermSpectrum s;
  s.fft_size = fft_size;
  s.channels = channels;
  s.window.resize(fft_size);
  for (int i = 0; i < fft_size; ++i) {  // periodic Hann
    s.window[i] = (float)(0.5 - 0.5 * std::cos(2.0 * M_PI * i / fft_size));
    s.window_power += (double)s.window[i] * s.window[i];
  }
  s.pending.assign(channels, {});
  s.power.assign(fft_size / 2 + 1, 0.0);
  s.fft = std::make_shared<RealFft>(fft_size);
  return s;
}

namespace {
void analyse_frame(LongTermSpectrum& s, const float* x) {
  float* in = s.fft->input();
  for (int i = 0; i < s.fft_size; ++i) in[i] = x[i] * s.window[i];
  s.fft->execute();
  const std::complex<float>* out = s.fft->output();
  for (int k = 0; k <= s.fft_size / 2; ++k) s.power[k] += (double)std::norm(out[k]);
  ++s.frames_analysed;
}
}  // namespace

void spectrum_add(LongTermSpectrum& s, const float* const* x, long long frames) {
  const int hop = s.fft_size;
  for (int c = 0; c < s.channels; ++c) {
    std::vector<float>& p = s.pending[c];
    p.insert(p.end(), x[c], x[c] + frames);
    size_t start = 0;
    while (p.size() - start >= (size_t)s.fft_size) {
      analyse_frame(s, p.data() + start);
      start += hop;
    }
    p.erase(p.begin(), p.begin() + start);
  }
}

void spectrum_finish(LongTermSpectrum& s) {
  if (s.frames_analysed > 0) return;
  for (int c = 0; c < s.channels; ++c) {
    std::vector<float> frame(s.fft_size, 0.0f);
    std::copy(s.pending[c].begin(),
              s.pending[c].begin() + std::min(s.pending[c].size(), frame.size()), frame.begin());
    analyse_frame(s, frame.data());
  }
}

std::vector<double> spectrum_bins(const LongTermSpectrum& s) {
  // Parseval with the window's power: sum_k c_k |X_k|^2 / (N * sum w^2) is the mean square,
  // with c_k = 2 for the bins that stand for a positive and a negative frequency.
  std::vector<double> bins(s.power.size(), 0.0);
  if (s.frames_analysed == 0) return bins;
  const double scale = 1.0 / ((double)s.fft_size * s.window_power * s.frames_analysed);
  for (size_t k = 0; k < bins.size(); ++k) {
    const double c = (k == 0 || (int)k == s.fft_size / 2) ? 1.0 : 2.0;
    bins[k] = c * s.power[k] * scale;
  }
  return bins;
}

}  // namespace td
