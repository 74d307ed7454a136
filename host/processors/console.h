// `console` on a bus: the summing mixer its inputs meet (docs/processors.md). Its parts run
// where they belong:
// - each input's channel path: a `console-channel` step the parser appends to the end of
//   every input's chain (before its fader), a saturation job of the model's curve at 4x
//   with the input's tolerance (gain and drive deviations seeded by the bus and input
//   names);
// - at the bus, first in its chain: the crosstalk between neighbouring inputs, each
//   input's top-end deviation (its tolerance's third draw) and the summing amplifier's
//   noise (kernels/console.h), then the amplifier's own curve.
// A swept console key reaches the bus's inputs too (graph/plan.cpp, render/prepare.cpp).
#pragma once
#include <string>

#include "kernels/saturation.h"
#include "session/session.h"

namespace td {

// What a model is (docs/processors.md's table): the curve (saturation.h's rational tanh),
// its bias (the even harmonics) and the headroom above full scale at which the curve
// starts to bend (drive_db 0 puts 0 dBFS that far below the curve's knee).
struct ConsoleModel {
  const char* name;
  double bias;
  double headroom_db;
};
const ConsoleModel& console_model(const std::string& name);

// The saturation job of a console's curve: the channel path of one input (tolerance
// deviations given) or the summing amplifier (both 0).
SaturationParams console_curve_params(const Processor& console, int rate, int latency,
                                      double gain_deviation_db, double drive_deviation_db);

// An input's tolerance deviations, each uniform in +-tolerance_db, from its seed: its
// gain and drive (the channel path) and its top end (at the bus, with the crosstalk).
struct ConsoleTolerance {
  double gain_db, drive_db, eq_db;
};
ConsoleTolerance console_tolerance(const Processor& channel);

// Appends the `console-channel` step to every input of each bus whose chain starts with an
// enabled console (the parser calls it once the routing is checked).
void add_console_channels(Session& s);

// The index of node's `console-channel` step (the last of its chain), or -1.
int console_channel_step(const Session& s, int node);

// Where a sweep or search target of the console of node's bus lands in node's own chain
// (its channel step, which copies that console): true and `t` rewritten to it, or false
// when `t` is not such a target.
bool console_channel_target(const Session& s, int node, SweepTarget& t);

// Copies each bus console's values into its inputs' channel steps again (after a caller
// changed a console's settings, as match does for a candidate).
void sync_console_channels(Session& s);

}  // namespace td
