// The long-term mid/side spectrum as a batched stage (spectrum.h says what is measured):
// per metered stereo pair, Hann-windowed frames of the mid and of the side signal,
// transformed in batches (FFTW on the CPU, cuFFT on the device) and their bin powers
// summed in frame order. These are the per-sample and per-bin bodies both launchers call.
#pragma once
#include "td_hd.h"

namespace td {

// One metered stereo pair: state `state` holds its mid (channel 0) and side (1) spectra.
struct SpectrumJob {
  int left, right;
  int state;
};

// Channel 0: mid (l + r) / 2; channel 1: side (l - r) / 2.
TD_HD float mid_side_sample(float l, float r, int channel) {
  return channel == 0 ? 0.5f * l + 0.5f * r : 0.5f * l - 0.5f * r;
}

// A bin's power, squared in float as the transform's output is, summed in double.
TD_HD double bin_power(float re, float im) {
  return (double)(re * re + im * im);
}

}  // namespace td
