// Long-term average spectrum: Hann-windowed frames side by side (Bartlett's method with a
// window: no overlap, which halves the FFT work of 50 % overlap and over minutes of music
// averages to the same levels), power averaged over frames and channels, fed segment by
// segment.
#pragma once
#include <memory>
#include <vector>

#include "fft.h"

namespace td {

// Per channel, so channels can be fed from different threads.
struct SpectrumChannel {
  std::vector<float> pending;  // samples not yet in a frame
  std::vector<double> power;   // per bin, summed over frames
  long long frames_analysed = 0;
  std::shared_ptr<RealFft> fft;
};

struct LongTermSpectrum {
  int fft_size = 0;
  std::vector<float> window;
  double window_power = 0.0;  // sum of w^2
  std::vector<SpectrumChannel> channels;
};

// fft_size: a power of two; about 0.7 s of audio (32768 at 48 kHz, 1.5 Hz bins) resolves
// the 1/3-octave bands down to 20 Hz.
LongTermSpectrum make_spectrum(int fft_size, int channels);
int spectrum_fft_size(int sample_rate);
// Feeds one channel (different channels may run on different threads).
void spectrum_add_channel(LongTermSpectrum& s, int channel, const float* x, long long frames);
// Feeds channel 0 with the mid ((l + r) / 2) and channel 1 with the side ((l - r) / 2) of a
// stereo signal (spectrum_stage.h), from which the stereo spectrum (their sum) and the
// width per band (their ratio) follow; `channel` picks one of them.
void spectrum_add_mid_side(LongTermSpectrum& s, int channel, const float* l, const float* r,
                           long long frames);
// Analyses what is pending (zero-padded) if no full frame was seen, so short files count.
void spectrum_finish(LongTermSpectrum& s);
// Mean-square power per bin (a full-scale sine's bins sum to 0.5), bins 0 .. fft_size / 2.
std::vector<double> spectrum_bins(const LongTermSpectrum& s);
// The same for one channel alone.
std::vector<double> spectrum_channel_bins(const LongTermSpectrum& s, int channel);
// A spectrum state's result: mean-square bins of its mid and side (Backend::read_spectra).
struct MidSideBins {
  std::vector<double> mid, side;
};

// Mean-square bins from summed frame powers of an fft_size-point Hann analysis.
std::vector<double> mean_square_bins(const std::vector<double>& power, long long frames,
                                     int fft_size, double window_power);

}  // namespace td
