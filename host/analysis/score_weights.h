// The reference score's weights: [ranking] in the session, defaults in docs/references.md
// (with the reasons for them).
#pragma once

namespace td {

struct ScoreWeights {
  double spectral = 1.0;     // per dB of weighted RMS spectral difference
  double dynamics = 0.5;     // per dB (LU) of mean dynamics difference
  double stereo = 5.0;       // per unit of correlation difference
  double width = 2.0;        // per unit of RMS side/mid ratio difference over the bands
  double translation = 0.5;  // per dB of spectral difference, averaged over playback systems
};

}  // namespace td
