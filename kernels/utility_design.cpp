#include "utility_design.h"

#include <cmath>
#include <stdexcept>

#include "fir_design.h"

namespace td {

UtilityParams design_utility(float gain_left, float gain_right, double delay_samples) {
  UtilityParams p{};
  p.gain_left = gain_left;
  p.gain_right = gain_right;
  const double whole = std::round(delay_samples);
  if (std::fabs(delay_samples - whole) < 1e-6) {
    p.whole = (int)whole;
    p.taps = 1;
    p.h[0] = 1.0f;
  } else {
    const double base = std::floor(delay_samples), frac = delay_samples - base;
    if (base < kUtilityFirCentre)
      throw std::logic_error("design_utility: a fractional delay needs the FIR's centre");
    p.whole = (int)base - kUtilityFirCentre;
    p.taps = kUtilityTaps;
    // h[j] = sinc(j - D) w(j - D), D = centre + frac: the band-limited delay by D,
    // Kaiser-windowed (beta 8: about 80 dB of side-lobe rejection), normalised to unit DC
    // gain so the delay does not change the level.
    const double pi = 3.14159265358979323846, d = kUtilityFirCentre + frac;
    const double half = kUtilityTaps / 2.0;
    double taps[kUtilityTaps], sum = 0.0;
    for (int j = 0; j < kUtilityTaps; ++j) {
      const double t = j - d;
      const double sinc = t == 0.0 ? 1.0 : std::sin(pi * t) / (pi * t);
      taps[j] = sinc * kaiser_window(t / half, 8.0);
      sum += taps[j];
    }
    for (int j = 0; j < kUtilityTaps; ++j) p.h[j] = (float)(taps[j] / sum);
  }
  p.history = p.whole + p.taps - 1;
  return p;
}

}  // namespace td
