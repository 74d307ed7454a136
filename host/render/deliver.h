// Delivery of one master variant: the delivery limiter driven to the loudness target (or a
// plain gain to it), measured, compared with the references, dithered and written.
#pragma once
#include <utility>
#include <vector>

#include "render/launch.h"

namespace td {

// What every variant's delivery of one session reads: the launch's readings of its metered
// nodes, the meter index of each master instance, and the measured references.
struct DeliveryInputs {
  const std::vector<Readings>* readings = nullptr;
  const std::vector<StereoSpectra>* spectra = nullptr;
  const std::vector<int>* master_state = nullptr;  // [master instance] -> metered index
  const std::vector<std::pair<Reference, Measured>>* references = nullptr;
  MeterOptions meter_options;
  // Whether the written file is the measured pass kept (a whole song of float audio per
  // delivery at once) rather than the pass run again.
  bool keep_passes = true;
};

// Variant v measured and compared; written to its file when `write`. Safe to call for
// several variants at once on the CPU backend.
VariantResult deliver_variant(const SessionWork& w, Backend& backend, const DeliveryInputs& in,
                              int v, bool write);

// Every level figure moved by a gain (loudness, peaks, RMS and VU are homogeneous in gain).
Readings shift_readings(Readings r, double gain_db);

}  // namespace td
