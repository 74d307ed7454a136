// Layer alignment (issue #20, part 1): the delay and polarity between two recordings of one
// source (kick in/out, snare top/bottom, bass DI/amp), by the generalised cross-correlation
// with phase transform (GCC-PHAT: C. H. Knapp and G. C. Carter, "The generalized
// correlation method for estimation of time delay", IEEE Trans. ASSP 24(4), 1976), whose
// peak is refined to a fraction of a sample.
#pragma once
#include <vector>

namespace td {

struct AlignMeasurement {
  // The track lags the reference by this many samples (negative: it leads); the track
  // delayed by -delay_samples and multiplied by polarity lines up with the reference.
  double delay_samples = 0;
  int polarity = 1;             // -1: the track's polarity is inverted
  double peak = 0;              // |GCC-PHAT| at the peak, 0 .. 1 (1: one source, one delay)
  double coherence_before = 0;  // normalised correlation at lag 0, -1 .. 1
  double coherence_after = 0;   // the same after the correction
  double lf_gain_db = 0;        // what the correction wins in the sum below 200 Hz, dB
  // The sum's magnitude (reference + track, dB, per 1/3 octave from 20 Hz to 20 kHz)
  // before and after the correction, for the report.
  std::vector<double> band_hz, sum_before_db, sum_after_db;
};

// Measures `track` against `reference` (mono, the same rate) within +-max_delay_ms. Uses
// up to `window` samples around the reference's loudest second. A peak under 0.1 means
// the two share no source; the caller says so rather than correcting.
AlignMeasurement measure_alignment(const std::vector<float>& reference,
                                   const std::vector<float>& track, int rate,
                                   double max_delay_ms = 20.0, long long window = 1 << 20);

}  // namespace td
