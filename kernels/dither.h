// TPDF dither and quantisation for fixed-point delivery.
#pragma once
#include <stdint.h>

#include "td_hd.h"

namespace td {

// Counter-based generator (SplitMix64 finaliser, Steele, Lea & Flood, OOPSLA 2014): the
// random values of frame n depend only on (seed, n), so any split of the work over
// threads or GPU blocks gives bit-identical output.
TD_HD uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Triangular (TPDF) dither of 2 LSB peak-to-peak: the sum of two independent uniforms in
// (-0.5, 0.5) LSB, which removes the signal dependence of the error's first two moments
// (Wannamaker, Lipshitz & Vanderkooy, JAES 2000). One hash gives a frame's two channels:
// four uniforms of 16 bits each, 1/65536 LSB apart and centred (k + 1/2) / 65536 - 1/2, so
// exactly symmetric about 0 (every value exact in a float). A finer grid than 1/65536 of
// an LSB changes nothing a converter can resolve, and one hash per frame is a quarter of
// the hashing of two per sample.
TD_HD float tpdf_uniform16(uint64_t r, int k) {
  return (float)((r >> (16 * k)) & 0xFFFFull) * (1.0f / 65536.0f) - 0.5f + 0.5f / 65536.0f;
}
TD_HD void tpdf_lsb_pair(uint64_t seed, uint64_t n, float& left, float& right) {
  const uint64_t r = mix64(seed ^ mix64(n));
  left = tpdf_uniform16(r, 0) + tpdf_uniform16(r, 1);
  right = tpdf_uniform16(r, 2) + tpdf_uniform16(r, 3);
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
