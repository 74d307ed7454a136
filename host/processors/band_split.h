// Band splitting for the multiband compressor and the de-esser: the stream pair is copied
// into band streams (scratch streams of the level), each filtered by its linear-phase
// crossover FIR (the bands sum to the input delayed: kernels/saturation_design.h's
// crossover magnitudes), processed, and summed back.
#pragma once
#include <vector>

#include "kernels/fir_design.h"

namespace td {

struct Lowering;

// Long enough for the lowest edge's slope (eq.h's rule for an order-8 pass filter).
FirShape crossover_shape(const std::vector<double>& edges, int rate);

struct BandStreams {
  std::vector<int> left, right;  // absolute slots, one pair per band
};

// Splits the instance's pair at `edges` (Hz) with the stage's FIR shape.
BandStreams split_bands(Lowering& l, const std::vector<double>& edges);
// Sums the bands back into the instance's pair, band b scaled by gains[b].
void sum_bands(Lowering& l, const BandStreams& bands, const std::vector<float>& gains);

}  // namespace td
