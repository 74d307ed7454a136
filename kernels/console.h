// The console's summing stage (docs/processors.md, `console`): what the summing mixer adds
// to a bus before its summing amplifier (a saturation job of the console's model runs
// right after it, processors/console.cpp):
// - crosstalk: every channel strip leaks into its neighbours through the capacitance
//   between their tracks, a coupling that rises 6 dB an octave (consoles specify it as,
//   e.g., -80 dB at 1 kHz and -60 dB at 10 kHz). The leak of all strips into the bus is
//   k (t[n] - t[n-1]), where t = sum of each input times its number of neighbours (a
//   first difference: 6 dB an octave up to a quarter of the rate), k set so that the
//   leak of one strip into one neighbour is crosstalk_db at 1 kHz.
// - the channels' EQ spread: each input's top end is off by a seeded few tenths of a dB,
//   1 + a_j (1 - z^-1) on input j, the same first difference. So t carries each input
//   weighted by k times its neighbour count plus a_j, and the bus adds t[n] - t[n-1].
// - the summing amplifier's noise, input-referred: white, of RMS noise_rms, from a
//   counter-based generator (dither.h) so any split of the work gives the same bits.
//
// Every output sample depends only on t[n], t[n-1] and its index: both launchers run it
// parallel in time; t[-1] of a segment is the previous segment's last t (the job's memory).
#pragma once
#include <stdint.h>

#include "dither.h"
#include "td_hd.h"

namespace td {

struct ConsoleParams {
  float noise_rms;  // 0: no noise
  uint64_t seed;    // the bus's noise seed
};

struct ConsoleJob {
  int left, right;          // the bus pair, in place
  int key_left, key_right;  // t: the inputs weighted by crosstalk and EQ spread
  int params;
  long long memory;  // 2 floats: t[-1] of each channel
};

// Unit-variance noise of sample `index` of channel `ch`: the sum of four uniforms
// (Irwin-Hall, variance 4/12) scaled by sqrt(3); integer hashing and float adds only, so
// every backend gives the same bits.
TD_HD float console_noise(uint64_t seed, int ch, long long index) {
  const uint64_t a = mix64(seed ^ mix64((uint64_t)(2 * index + ch) * 0x9E3779B97F4A7C15ull));
  const uint64_t b = mix64(a + 0xD1B54A32D192ED03ull);
  const float s = 1.0f / 16777216.0f;
  const float u = (float)(a >> 40) * s + (float)((a >> 16) & 0xFFFFFFull) * s +
                  (float)(b >> 40) * s + (float)((b >> 16) & 0xFFFFFFull) * s - 2.0f;
  return u * 1.7320508f;
}

// One output sample: the bus sample x with the first difference of t (the crosstalk and
// the EQ spread) and the noise of `index` (the sample's index in the song).
TD_HD float console_sample(const ConsoleParams& p, float x, float t, float t_prev, int ch,
                           long long index) {
  float y = x + (t - t_prev);
  if (p.noise_rms > 0.0f) y += p.noise_rms * console_noise(p.seed, ch, index);
  return y;
}

}  // namespace td
