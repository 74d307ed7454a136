// Simulated playback systems for the translation check (issue #7; the seed's "A/B on a
// second monitoring system: smart speaker, phone, Bluetooth speaker"): each is a magnitude
// curve made of EQ bands (kernels/eq.h, the same analog prototypes the EQ processor uses)
// and whether it plays the mono sum. The curves are documented approximations of each
// class of device (docs/references.md), not measurements of one product.
#pragma once
#include <string>
#include <vector>

#include "kernels/eq.h"

namespace td {

struct PlaybackSystem {
  std::string name;  // phone | earbuds | car | smart-speaker
  bool mono;         // one driver (or two too close to image): the mid signal (L + R) / 2
  std::vector<EqBand> bands;
  std::string description;
};

// All systems, in report order.
const std::vector<PlaybackSystem>& playback_systems();

// The system with this name, or nullptr.
const PlaybackSystem* find_playback_system(const std::string& name);

// |H(f)| of a system's curve, linear.
double playback_magnitude(const PlaybackSystem& system, double f_hz);

// The system's curve as a linear-phase FIR at a sample rate (the EQ's design, fir_design.h),
// `taps` long (odd): what the report's players convolve with. All systems use one length
// so that switching between them does not move the audio in time.
std::vector<double> playback_fir(const PlaybackSystem& system, double sample_rate, int taps);
// Designs (and keeps) every system's FIR at sample_rate: run on another thread while a
// render runs, so that its report page finds them made.
void prepare_playback_firs(double sample_rate);

// The tap count that realises every system's curve (the longest the EQ's rule asks for).
int playback_fir_taps(double sample_rate);

}  // namespace td
