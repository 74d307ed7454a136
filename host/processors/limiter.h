// `limiter`: a true-peak look-ahead limiter (kernels/limiter.h). In the stream, or, as the
// master's last processor with [delivery] target_lufs set, the delivery limiter: run over
// the kept master at delivery and driven to the target (render/deliver.cpp).
#pragma once
#include "kernels/limiter.h"
#include "session/session.h"

namespace td {

// A limiter aims this far under its ceiling: true-peak meters with other interpolators
// (libebur128's, for one) read up to a few hundredths of a dB above the project's meter on
// dense high-frequency material; this keeps both at or under the ceiling.
constexpr double kLimiterMarginDb = 0.05;

// Its look-ahead in samples (at least one).
int limiter_lookahead(const Processor& p, int rate);
// Per-sample settings; `lookahead_max`: the largest look-ahead of its stage (the others
// are padded to it).
LimiterParams limiter_params(const Processor& p, int rate, int lookahead_max);
// The most limiting (99th percentile) the delivery drive may use, dB.
double limiter_max_reduction_db(const Processor& p);

}  // namespace td
