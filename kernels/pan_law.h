// Pan and balance laws: per-channel gains for a position in -1 (left) .. +1 (right).
#pragma once
#include <cmath>

#include "td_hd.h"

namespace td {

// Attenuation of each side at centre: 0 dB (balance-like), -3 dB (constant power),
// -4.5 dB (compromise), -6 dB (linear / constant voltage).
enum class PanLaw : int { k0dB = 0, k3dB = 1, k4_5dB = 2, k6dB = 3 };

struct StereoGains {
  float left;
  float right;
};

// Mono source to stereo. Constant power: theta = (pan + 1) * pi / 4, L = cos, R = sin
// (the sine/cosine law, e.g. Griesinger; -3.01 dB each at centre). Linear: L = (1 - p) / 2.
// The -4.5 dB law is the geometric mean of the two. 0 dB keeps unity at centre and
// attenuates only the far side linearly.
TD_HD StereoGains pan_mono_gains(float pan, PanLaw law) {
  const float p = pan < -1.0f ? -1.0f : (pan > 1.0f ? 1.0f : pan);
  const float theta = (p + 1.0f) * 0.78539816339744831f;  // pi / 4
  const float cp_l = cosf(theta), cp_r = sinf(theta);
  const float lin_l = 0.5f * (1.0f - p), lin_r = 0.5f * (1.0f + p);
  switch (law) {
    case PanLaw::k0dB:
      return {p > 0.0f ? 1.0f - p : 1.0f, p < 0.0f ? 1.0f + p : 1.0f};
    case PanLaw::k4_5dB:
      return {sqrtf(cp_l * lin_l), sqrtf(cp_r * lin_r)};
    case PanLaw::k6dB:
      return {lin_l, lin_r};
    case PanLaw::k3dB:
    default:
      return {cp_l, cp_r};
  }
}

// Stereo source: balance. Centre leaves both channels untouched; moving right
// attenuates the left channel linearly to silence at +1, and vice versa.
TD_HD StereoGains balance_gains(float pan) {
  const float p = pan < -1.0f ? -1.0f : (pan > 1.0f ? 1.0f : pan);
  return {p > 0.0f ? 1.0f - p : 1.0f, p < 0.0f ? 1.0f + p : 1.0f};
}

}  // namespace td
