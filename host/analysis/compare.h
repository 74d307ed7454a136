// A/B against references (issue #7, first part): the figures of a mix compared with those
// of one or more reference tracks, loudness-matched, and one score that ranks variants.
// docs/references.md defines every figure and the weights.
#pragma once
#include <string>
#include <vector>

#include "analysis/meters.h"

namespace td {

// What is compared: a file's (or a variant's) readings and 1/3-octave spectrum.
struct Measured {
  Readings readings;
  std::vector<Band> spectrum;
};

struct ScoreWeights {
  double spectral = 1.0;  // per dB of weighted RMS spectral difference
  double dynamics = 0.5;  // per dB (LU) of mean dynamics difference
  double stereo = 5.0;    // per unit of correlation difference
};

// One mix against one reference. The reference is gained to the mix's integrated
// loudness first, so a louder or quieter copy of the same music compares as identical.
struct Comparison {
  std::string reference;
  double weight = 1.0;
  double level_match_db = 0;          // gain applied to the reference
  std::vector<Band> band_difference;  // mix minus matched reference, per 1/3-octave band, dB
  double spectral_rms_db = 0;         // RMS of band_difference over 31.5 Hz .. 16 kHz
  double plr_difference_db = 0, lra_difference_lu = 0, crest_difference_db = 0;
  double short_term_difference_lu = 0;  // mean |difference| of the short-term percentiles
  double correlation_difference = 0;
  double score = 0;  // lower is closer
};

Comparison compare(const Measured& mix, const Measured& reference, const ScoreWeights& w);

// Several references blended by weight: the weighted mean of their scores.
double blended_score(const std::vector<Comparison>& comparisons);

}  // namespace td
