// `saturation`: soft/hard/tube/tape curves, oversampled through linear-phase FIR stages
// (kernels/saturation.h, kernels/saturation_design.h).
#pragma once
#include "kernels/saturation.h"
#include "session/session.h"

namespace td {

// Oversampling stages (0 .. 3 for 1x .. 8x).
int saturation_stages(const Processor& p);
// The saturation's per-sample settings; `latency`: the stage's (the largest its sweeps
// take), the wet path padded to it.
SaturationParams saturation_params(const Processor& p, int rate, int latency);

struct Lowering;
// A saturation job of these params on the lowered node's pair, in place (its state and
// memory allocated): the `saturation` step, and the console's channel paths and amp.
void add_saturation_job(Lowering& l, const SaturationParams& sp);

}  // namespace td
