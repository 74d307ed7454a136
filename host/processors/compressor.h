// `compressor`: feed-forward, log domain (kernels/dynamics.h). Its settings in per-sample
// form, and the job builder the multiband and the de-esser share.
#pragma once
#include <vector>

#include "kernels/dynamics.h"
#include "session/schema.h"
#include "session/session.h"

namespace td {

struct Lowering;

// Every compressor key (the multiband's bands take them too).
std::vector<KeySpec> compressor_keys();
const ProcessorSpec& compressor_spec();

// A compressor's settings in per-sample form (defaults: the schema's).
CompressorParams compressor_params(const Processor& p, int rate);
// The sidechain's key filter: a second-order Butterworth high-pass (RBJ cookbook), or none.
KeyFilter key_filter_of(const Processor& p, int rate);
// A one-pole coefficient: 1 - 1/e of a step in `ms`.
float one_pole_coefficient(double ms, int rate);

// Where a compressor runs: its audio and key slots (absolute), the lag of the stream it
// reads, and the audio delay (the largest look-ahead of its stage).
struct CompressorPlace {
  int left, right;
  int key_left, key_right;  // equal to left/right when self-keyed
  long long lag;
  int lookahead;
  int band = -1;       // multiband / de-esser band, for the report
  bool report = true;  // in report.json's dynamics
};

// The job of a compressor with `params` for the processor `proc` (its look-ahead and
// sidechain keys) of the node instance being lowered, its state, delay lines and trace
// allocated in the session's share of the launch.
CompressorJob make_compressor(Lowering& l, const Processor& proc, const CompressorParams& params,
                              const CompressorPlace& place);

}  // namespace td
