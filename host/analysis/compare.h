// A/B against references (issue #7): the figures of a mix compared with those of one or more
// reference tracks, loudness-matched, and one score that ranks variants. docs/references.md
// defines every figure and the weights.
#pragma once
#include <string>
#include <vector>

#include "analysis/meters.h"
#include "analysis/score_weights.h"
#include "analysis/spectra.h"

namespace td {

// What is compared: a file's (or a variant's) readings and long-term spectra.
struct Measured {
  Readings readings;
  StereoSpectra spectra;
};

// The width of one band from its mid and side levels: side / mid energy (0: mono; 1: as
// much side as mid, e.g. uncorrelated channels; above 1: more out of phase than in phase;
// 1e3 for side alone). NaN where the band holds no signal worth a width (mid + side under
// -100 dB re full scale).
double band_width(const Band& mid, const Band& side);

struct BandWidth {
  double hz;
  double mix, reference;
};

// The spectral balance against the reference as heard through one playback system: both
// through its curve (mono systems: the mid), matched again by their power within what the
// system reproduces, then compared band by band there.
struct Translation {
  std::string system;
  double level_match_db = 0;          // the extra gain on the reference through the system
  std::vector<Band> band_difference;  // dB, the bands the system reproduces (curve >= -20 dB)
  double spectral_rms_db = 0;         // RMS of band_difference over 31.5 Hz .. 16 kHz
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
  std::vector<BandWidth> width;  // per band with signal in both
  double width_rms_difference = 0;
  std::vector<Translation> translation;  // per playback system
  double translation_rms_db = 0;         // mean of the systems' spectral_rms_db
  double score = 0;                      // lower is closer
};

Comparison compare(const Measured& mix, const Measured& reference, const ScoreWeights& w);

// Several references blended by weight: the weighted mean of their scores.
double blended_score(const std::vector<Comparison>& comparisons);

}  // namespace td
