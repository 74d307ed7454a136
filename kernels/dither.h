// TPDF dither and quantisation for fixed-point delivery.
#pragma once
#include <stdint.h>

#include "td_hd.h"

namespace td {

// Counter-based generator (SplitMix64 finaliser, Steele, Lea & Flood, OOPSLA 2014): the
// random value of sample n of stream s depends only on (seed, s, n), so any split of the
// work over threads or GPU blocks gives bit-identical output.
TD_HD uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Triangular (TPDF) dither of 2 LSB peak-to-peak: the sum of two independent uniforms in
// [-0.5, 0.5) LSB, which removes the signal dependence of the error's first two moments
// (Wannamaker, Lipshitz & Vanderkooy, JAES 2000).
TD_HD float tpdf_lsb(uint64_t seed, uint64_t stream, uint64_t n) {
  const uint64_t r = mix64(seed ^ mix64(stream * 0x100000001B3ull + n));
  const float u1 = (float)(r >> 40) * (1.0f / 16777216.0f) - 0.5f;
  const float u2 = (float)((r >> 16) & 0xFFFFFFull) * (1.0f / 16777216.0f) - 0.5f;
  return u1 + u2;
}

// Quantises x (full scale +-1.0) to `bits` (16 or 24) with dither in LSB, clipping at the
// integer limits, and returns it left-aligned in an int32 (libsndfile's int convention).
TD_HD int32_t quantize_left_aligned(float x, float dither_lsb, int bits) {
  const float scale = bits == 16 ? 32768.0f : 8388608.0f;
  float v = x * scale + dither_lsb;
  v = v < 0.0f ? v - 0.5f : v + 0.5f;  // round half away from zero
  const float lo = -scale, hi = scale - 1.0f;
  v = v < lo ? lo : (v > hi ? hi : v);
  return ((int32_t)v) * (int32_t)(1 << (32 - bits));
}

}  // namespace td
