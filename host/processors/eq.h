// `eq`: a linear-phase (or minimum-phase) FIR whose magnitude is the product of its enabled
// bands' analog prototypes (kernels/eq.h), run by the FIR stage (kernels/fir.h).
#pragma once
#include <vector>

#include "kernels/eq.h"
#include "kernels/fir_design.h"
#include "session/session.h"

namespace td {

// The analog prototype of one band (its type, frequency, gain, q, slope).
EqBand eq_band_of(const Processor& band);
// The enabled bands of an EQ.
std::vector<EqBand> eq_bands_of(const Processor& eq);
FirPhase eq_phase(const Processor& eq);

}  // namespace td
