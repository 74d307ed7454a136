// Design-time math of the band-splitting and oversampling processors (host only, double
// precision): the multiband / de-esser / imager crossover magnitudes and the saturation's
// oversampling FIR stages. The per-sample code is in saturation.h and fir.h.
#pragma once
#include <vector>

#include "saturation.h"

namespace td {

// Linear-phase crossover bands: with lp_k(f) = 1 / (1 + (f / f_k)^8) (the squared
// magnitude of a 4th-order Butterworth low-pass: -6 dB at the edge, 48 dB/octave, as a
// Linkwitz-Riley crossover's), band b is lp_(b+1) - lp_b (lp_0 = 0, the top band
// 1 - lp_last). The bands' magnitudes sum to 1 at every frequency and the design is linear
// in the magnitude, so the band FIRs sum to a pure delay.
double crossover_band_magnitude(const std::vector<double>& edges, int band, double f);

// The saturation's oversampling stages' low-pass FIRs (sp.stages of them, at `rate`):
// Kaiser-windowed sincs (beta 10, about 100 dB of stop band) whose pass band ends at
// 20 kHz (or 0.42 of the rate) and whose stop band starts where the stage's images (and
// the curve's aliases) would reach back into it; stage s runs at 2^(s+1) times the rate
// and has n = 1 (mod 2^(s+1)) taps, so every stage delays by whole samples at the rates
// below. Fills taps, h, up and wet_latency.
void sat_filters(SaturationParams& sp, int rate);

}  // namespace td
