// 2^x and log2(x) in float from float operations and exponent bits alone, for the
// per-sample dynamics: the same source on the CPU (where loops of it vectorise: no calls,
// branches only as selects) and the GPU, so both give the same bits, which libm's and
// CUDA's own exp2f/log2f do not promise. Accuracy is a few ulp (tests/kernels/
// fast_math_test.cpp measures it against double precision).
#pragma once
#include <string.h>

#include "td_hd.h"

namespace td {

TD_HD float float_of_bits(unsigned b) {
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

TD_HD unsigned bits_of_float(float f) {
  unsigned b;
  memcpy(&b, &f, sizeof b);
  return b;
}

// 2^x: x = n + f with n whole and |f| <= 1/2; 2^f = e^(f ln 2) by its Taylor series to
// degree 7 (remainder below (ln 2 / 2)^8 / 8! = 5e-9, under a float's half ulp); 2^n from
// the exponent bits. x is clamped to [-126, 127] (normal floats).
TD_HD float td_exp2(float x) {
  x = x < -126.0f ? -126.0f : (x > 127.0f ? 127.0f : x);
  const float n = floorf(x + 0.5f);
  const float f = x - n;
  const float t = f * 0.693147181f;
  float p = 1.0f / 5040.0f;
  p = p * t + 1.0f / 720.0f;
  p = p * t + 1.0f / 120.0f;
  p = p * t + 1.0f / 24.0f;
  p = p * t + 1.0f / 6.0f;
  p = p * t + 0.5f;
  p = p * t + 1.0f;
  p = p * t + 1.0f;
  return p * float_of_bits((unsigned)((int)n + 127) << 23);
}

// log2(x) for x > 0 (below the smallest normal float, that of the smallest normal):
// x = 2^e m with m in [sqrt(1/2), sqrt(2)); log2(m) = (2 / ln 2) atanh(s), s = (m - 1) /
// (m + 1), |s| <= 0.172, by its series to s^9 (remainder below 4e-10).
TD_HD float td_log2(float x) {
  x = x < 1.17549435e-38f ? 1.17549435e-38f : x;
  const unsigned b = bits_of_float(x);
  int e = (int)((b >> 23) & 0xff) - 127;
  float m = float_of_bits((b & 0x7fffffu) | 0x3f800000u);  // [1, 2)
  const bool high = m > 1.41421356f;
  m = high ? 0.5f * m : m;
  e = high ? e + 1 : e;
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  float p = 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  return (float)e + 2.88539008f * s * p;  // 2 / ln 2
}

}  // namespace td
