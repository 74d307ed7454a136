// `utility`: polarity per channel, gain, and a delay (or, negative, an advance) of any
// number of samples, for aligning layered recordings (kernels/utility.h).
#pragma once
#include "kernels/utility.h"
#include "session/session.h"

namespace td {

// The delay in samples (negative: an advance), fractional.
double utility_delay_samples(const Processor& p, int rate);
// The stage's latency for a set of delays (samples, any sign): room for the largest
// advance, plus the fractional FIR's centre when any of them is fractional. Compensated
// like every latency, so what remains is each delay itself.
long long utility_latency(const std::vector<double>& delays_samples);
// Per-sample settings of an instance in a stage of latency `latency`.
UtilityParams utility_params(const Processor& p, int rate, long long latency);

}  // namespace td
