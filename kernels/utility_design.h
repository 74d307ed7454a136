// Design-time math of the utility stage (host only, double precision).
#pragma once
#include "utility.h"

namespace td {

// The utility's per-sample settings: gains with polarity, and a total delay of
// `delay_samples` (>= 0; whole numbers within 1e-6 become a pure shift, anything else the
// windowed-sinc FIR, whose centre is part of the delay, so delay_samples must then be at
// least kUtilityFirCentre).
UtilityParams design_utility(float gain_left, float gain_right, double delay_samples);

}  // namespace td
