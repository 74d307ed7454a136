#include <cmath>

#include "spectrum.h"
#include "spectrum_stage.h"

namespace td {

int spectrum_fft_size(int sample_rate) {
  int n = 1024;
  while (n < 0.68 * sample_rate) n *= 2;
  return n;
}

LongTermSpectrum make_spectrum(int fft_size, int channels) {
  LongTermSpectrum s;
  s.fft_size = fft_size;
  s.window.resize(fft_size);
  for (int i = 0; i < fft_size; ++i) {  // periodic Hann
    s.window[i] = (float)(0.5 - 0.5 * std::cos(2.0 * M_PI * i / fft_size));
    s.window_power += (double)s.window[i] * s.window[i];
  }
  s.channels.resize(channels);
  for (auto& c : s.channels) {
    c.power.assign(fft_size / 2 + 1, 0.0);
    c.fft = std::make_shared<RealFft>(fft_size);
  }
  return s;
}

namespace {
void analyse_frame(const LongTermSpectrum& s, SpectrumChannel& ch, const float* x) {
  float* in = ch.fft->input();
  for (int i = 0; i < s.fft_size; ++i) in[i] = x[i] * s.window[i];
  ch.fft->execute();
  const std::complex<float>* out = ch.fft->output();
  for (int k = 0; k <= s.fft_size / 2; ++k) ch.power[k] += bin_power(out[k].real(), out[k].imag());
  ++ch.frames_analysed;
}
}  // namespace

void spectrum_add_channel(LongTermSpectrum& s, int channel, const float* x, long long frames) {
  SpectrumChannel& ch = s.channels[channel];
  const int hop = s.fft_size;
  long long used = 0;
  // A frame begun by the previous call is completed first; then whole frames straight
  // from the input (frames do not overlap: hop = fft_size); the rest is kept. The same
  // frames as gathering everything into `pending`, without copying the segment there.
  if (!ch.pending.empty()) {
    used = std::min<long long>(frames, s.fft_size - (long long)ch.pending.size());
    ch.pending.insert(ch.pending.end(), x, x + used);
    if ((int)ch.pending.size() < s.fft_size) return;
    analyse_frame(s, ch, ch.pending.data());
    ch.pending.clear();
  }
  for (; used + s.fft_size <= frames; used += hop) analyse_frame(s, ch, x + used);
  ch.pending.assign(x + used, x + frames);
}

void spectrum_add_mid_side(LongTermSpectrum& s, int channel, const float* l, const float* r,
                           long long frames) {
  // Kept from call to call (per thread): a fresh segment-long vector each call was zeroed
  // and faulted in, 600 MB a render on the seed.
  thread_local std::vector<float> x;
  if (x.size() < (size_t)frames) x.resize((size_t)frames);
  for (long long n = 0; n < frames; ++n) x[(size_t)n] = mid_side_sample(l[n], r[n], channel);
  spectrum_add_channel(s, channel, x.data(), frames);
}

void spectrum_finish(LongTermSpectrum& s) {
  long long analysed = 0;
  for (const auto& ch : s.channels) analysed += ch.frames_analysed;
  if (analysed > 0) return;
  for (auto& ch : s.channels) {
    std::vector<float> frame(s.fft_size, 0.0f);
    std::copy(ch.pending.begin(), ch.pending.begin() + std::min(ch.pending.size(), frame.size()),
              frame.begin());
    analyse_frame(s, ch, frame.data());
  }
}

std::vector<double> spectrum_bins(const LongTermSpectrum& s) {
  // Parseval with the window's power: sum_k c_k |X_k|^2 / (N * sum w^2) is the mean square,
  // with c_k = 2 for the bins that stand for a positive and a negative frequency. Channels
  // are added in channel order (the same sums every run).
  std::vector<double> bins(s.fft_size / 2 + 1, 0.0);
  long long analysed = 0;
  for (const auto& ch : s.channels) {
    analysed += ch.frames_analysed;
    for (size_t k = 0; k < bins.size(); ++k) bins[k] += ch.power[k];
  }
  if (analysed == 0) return bins;
  const double scale = 1.0 / ((double)s.fft_size * s.window_power * analysed);
  for (size_t k = 0; k < bins.size(); ++k) {
    const double c = (k == 0 || (int)k == s.fft_size / 2) ? 1.0 : 2.0;
    bins[k] *= c * scale;
  }
  return bins;
}

std::vector<double> mean_square_bins(const std::vector<double>& power, long long frames,
                                     int fft_size, double window_power) {
  std::vector<double> bins(fft_size / 2 + 1, 0.0);
  if (frames == 0) return bins;
  const double scale = 1.0 / ((double)fft_size * window_power * frames);
  for (size_t k = 0; k < bins.size(); ++k) {
    const double c = (k == 0 || (int)k == fft_size / 2) ? 1.0 : 2.0;
    bins[k] = power[k] * c * scale;
  }
  return bins;
}

std::vector<double> spectrum_channel_bins(const LongTermSpectrum& s, int channel) {
  const SpectrumChannel& ch = s.channels[channel];
  return mean_square_bins(ch.power, ch.frames_analysed, s.fft_size, s.window_power);
}

}  // namespace td
