// The long-term spectra of a stereo signal as the meters report them and the reference
// comparison uses them: the stereo spectrum, its mid and side parts (the width per band is
// their ratio) and what each playback system of the translation check lets through.
#pragma once
#include <vector>

#include "analysis/meters.h"

namespace td {

struct StereoSpectra {
  std::vector<Band> total;  // (L^2 + R^2) / 2 per band: mid + side
  std::vector<Band> mid;    // ((L + R) / 2)^2
  std::vector<Band> side;   // ((L - R) / 2)^2
  // Per playback_systems() entry: the band powers heard through it (its curve applied to
  // the fine spectrum, |H(f)|^2 per FFT bin, before the bands are summed; mono systems
  // play the mid).
  std::vector<std::vector<Band>> playback;
};

// The spectra from the mean-square bins of the mid and the side (Backend::read_spectra).
StereoSpectra stereo_spectra(const std::vector<double>& mid, const std::vector<double>& side,
                             int sample_rate);

// Every band shifted by a gain (dB).
void shift_spectra(StereoSpectra& s, double db);

}  // namespace td
