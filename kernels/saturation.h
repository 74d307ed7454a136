// Saturation: a memoryless transfer curve (soft, hard, tube, tape) run at up to 8x the
// sample rate through linear-phase FIR stages, optionally with first-order antiderivative
// anti-aliasing (ADAA: J. D. Parker, V. Zavalishin and E. Le Bivic, "Reducing the Aliasing
// of Nonlinear Waveshaping Using Continuous-Time Convolution", DAFx 2016). The curves and
// their antiderivatives are documented in docs/processors.md.
#pragma once
#include <cmath>

#include "td_hd.h"

namespace td {

enum class SaturationModel { kSoft = 0, kHard = 1, kTube = 2, kTape = 3 };

constexpr int kSatMaxStages = 3;  // 2x, 4x, 8x
constexpr int kSatMaxTaps = 161;

struct SaturationParams {
  int model;
  int stages;    // log2 of the oversampling factor
  int adaa;      // 1: first-order ADAA at the oversampled rate
  float drive;   // linear input gain g
  float bias;    // b: offset before the curve (even harmonics)
  float f_bias;  // f(b) and 1 / (g f'(b)): the output is (f(g x + b) - f(b)) / (g f'(b))
  float norm;
  float mix;     // wet share
  float output;  // linear output gain
  // Tape tone: a first-order shelf before the curve, its inverse after, at the
  // oversampled rate: pre(z) = g (1 + e0 z^-1) / (1 + e1 z^-1).
  float eg, e0, e1, eg_inverse;
  int emphasis;  // 1: the tape shelf runs (tone != 0; a flat shelf is skipped, not rounded)
  float dc;      // DC blocker pole (bias), 0: none
  // 1: the blocker acts on what the curve adds (wet - dry), not on the signal, so that a
  // curve that is linear at its level passes the lows untouched (the console's paths).
  int dc_residual;
  int taps[kSatMaxStages];
  float h[kSatMaxStages][kSatMaxTaps];  // stage s runs between rates 2^s and 2^(s+1)
  // The up-sampler's two phases, time-reversed so that each output is a forward dot
  // product with the history window (oldest first): up[s][p][i] = h[2 (half - 1 - i) + p].
  float up[kSatMaxStages][2][(kSatMaxTaps + 1) / 2];
  // The stages are half-band low-passes (cut-off at a quarter of their rate): every tap at
  // an even, non-zero distance from the centre is zero. Only the others are computed: for
  // each up phase the range of its non-zero taps (one phase is the centre tap alone); for
  // the down filter its taps at odd distances (every second sample of the window, from
  // down_first) and its centre tap.
  int up_first[kSatMaxStages][2], up_count[kSatMaxStages][2];
  int down_first[kSatMaxStages], down_count[kSatMaxStages], down_centre[kSatMaxStages];
  float down_centre_tap[kSatMaxStages];
  float down_taps[kSatMaxStages][(kSatMaxTaps + 1) / 2];
  int wet_latency;  // sum of (taps_s - 1) / 2^(s+1): the oversampling's delay, base samples
  int pad;          // more delay so that every instance of a node has the same latency
};

// A dot product summed in order, tap by tap: each output is one sequential sum, so a CPU
// loop that runs many outputs side by side in SIMD lanes and a GPU thread per output give
// the same bits.
TD_HD float sat_dot(const float* a, const float* b, int n) {
  float acc = 0.0f;
  for (int i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

// The same over every second element of b (b[0], b[2], ...).
TD_HD float sat_dot2(const float* a, const float* b, int n) {
  float acc = 0.0f;
  for (int i = 0; i < n; ++i) acc += a[i] * b[2 * i];
  return acc;
}

// One output of up stage s at `phase` from the window of its last `half` inputs (oldest
// first), and one output of down stage s from the window of its last `taps` inputs: the
// per-sample and the block-wise forms both call these, so they give the same bits.
TD_HD float sat_up_output(const SaturationParams& p, int s, int phase, const float* win) {
  const int first = p.up_first[s][phase];
  return 2.0f * sat_dot(p.up[s][phase] + first, win + first, p.up_count[s][phase]);
}
TD_HD float sat_down_output(const SaturationParams& p, int s, const float* win) {
  return sat_dot2(p.down_taps[s], win + p.down_first[s], p.down_count[s]) +
         p.down_centre_tap[s] * win[p.down_centre[s]];
}

// The curves (u: the driven, biased input), in double (ADAA, design) or float.
TD_HD float sat_sqrt(float x) {
  return sqrtf(x);
}
TD_HD double sat_sqrt(double x) {
  return sqrt(x);
}

template <typename T>
TD_HD T sat_curve(int model, T u) {
  const T one = 1;
  switch (model) {
    case 1:  // hard clip
      return u > one ? one : (u < -one ? -one : u);
    case 2:  // tube: the algebraic sigmoid u / sqrt(1 + u^2)
      return u / sat_sqrt(one + u * u);
    default: {  // soft and tape: the rational tanh u (27 + u^2) / (27 + 9 u^2), +-1 beyond 3
      // (clamped to +-3 first, where the rational is exactly +-1: selects, no branches)
      const T c = u > T(3) ? T(3) : (u < T(-3) ? T(-3) : u);
      return c * (T(27) + c * c) / (T(27) + T(9) * c * c);
    }
  }
}

// Their antiderivatives (ADAA).
TD_HD double sat_antiderivative(int model, double u) {
  switch (model) {
    case 1: {
      const double a = u < 0 ? -u : u;
      return a <= 1.0 ? 0.5 * u * u : a - 0.5;
    }
    case 2:
      return sqrt(1.0 + u * u);
    default: {
      // u^2 / 18 + (4/9) ln(3 u^2 + 9) inside; |u| - 3 + F(3) beyond.
      const double a = u < 0 ? -u : u;
      if (a >= 3.0) return a - 3.0 + (0.5 + (4.0 / 9.0) * log(36.0));
      return u * u / 18.0 + (4.0 / 9.0) * log(3.0 * u * u + 9.0);
    }
  }
}

// Per channel state; the FIR histories live in the job's float memory.
struct SaturationChannel {
  double adaa_u, adaa_f;           // the previous curve input and its antiderivative
  float pre_x, pre_y, de_x, de_y;  // emphasis filters
  float dc_x, dc_y;                // DC blocker
  int up_pos[kSatMaxStages], down_pos[kSatMaxStages];
  int dry_pos, pad_pos;
};

struct SaturationState {
  SaturationChannel ch[2];
};

// Floats of FIR history per channel: each stage's up and down histories, written twice
// (contiguous windows), and the dry delay line.
TD_HD long long sat_channel_floats(const SaturationParams& p) {
  long long n = (p.wet_latency + 1) + (p.pad + 1);
  for (int s = 0; s < p.stages; ++s) n += 2LL * ((p.taps[s] + 1) / 2) + 2LL * p.taps[s];
  return n;
}

// The curve without ADAA, in float: memoryless, so a launcher may run it per sample in
// any order (SIMD lanes, one GPU thread per sample).
TD_HD float sat_memoryless(const SaturationParams& p, float v) {
  return (sat_curve<float>(p.model, p.drive * v + p.bias) - p.f_bias) * p.norm;
}

TD_HD float sat_shape(const SaturationParams& p, SaturationChannel& c, float x) {
  float v = x;
  if (p.emphasis) {  // tape pre-emphasis
    const float y = p.eg * (v + p.e0 * c.pre_x) - p.e1 * c.pre_y;
    c.pre_x = v, c.pre_y = y;
    v = y;
  }
  float y;
  if (p.adaa) {  // the difference quotient needs double (cancellation)
    const double u = (double)p.drive * v + p.bias;
    const double F = sat_antiderivative(p.model, u);
    const double du = u - c.adaa_u;
    const double f = (du > 1e-5 || du < -1e-5) ? (F - c.adaa_f) / du
                                               : sat_curve<double>(p.model, 0.5 * (u + c.adaa_u));
    c.adaa_u = u, c.adaa_f = F;
    y = (float)((f - p.f_bias) * p.norm);
  } else {
    y = sat_memoryless(p, v);
  }
  if (p.emphasis) {  // de-emphasis: the inverse filter
    const float z = (y + p.e1 * c.de_x) * p.eg_inverse - p.e0 * c.de_y;
    c.de_x = y, c.de_y = z;
    y = z;
  }
  return y;
}

// The DC blocker after a biased curve, on the wet sample y (dry: the input aligned with
// it): on y, or with dc_residual on y - dry only.
TD_HD float sat_dc_block(const SaturationParams& p, SaturationChannel& c, float y, float dry) {
  if (!(p.dc > 0.0f)) return y;
  const float v = p.dc_residual ? y - dry : y;
  const float z = v - c.dc_x + p.dc * c.dc_y;
  c.dc_x = v, c.dc_y = z;
  return p.dc_residual ? dry + z : z;
}

// True where the curve of a segment may run per sample (no state: no ADAA, no emphasis).
TD_HD bool sat_is_memoryless(const SaturationParams& p) {
  return !p.adaa && !p.emphasis;
}

// One base-rate sample through the oversampled curve; `mem` is the channel's memory.
TD_HD float sat_process(const SaturationParams& p, SaturationChannel& c, float* mem, float x) {
  float buf[1 << kSatMaxStages];
  buf[0] = x;
  int count = 1;
  float* m = mem;
  float* up_hist[kSatMaxStages];
  float* down_hist[kSatMaxStages];
  for (int s = 0; s < p.stages; ++s) {
    up_hist[s] = m;
    m += 2 * ((p.taps[s] + 1) / 2);
    down_hist[s] = m;
    m += 2 * p.taps[s];
  }
  // Up: each stage doubles the rate (zero stuffing and its low-pass, as two phases).
  for (int s = 0; s < p.stages; ++s) {
    const int n = p.taps[s], half = (n + 1) / 2;
    float out[1 << kSatMaxStages];
    for (int i = 0; i < count; ++i) {
      int& pos = c.up_pos[s];
      float* hist = up_hist[s];
      hist[pos] = hist[pos + half] = buf[i];
      const float* win = hist + pos + 1;  // the last `half` inputs, oldest first
      pos = pos + 1 == half ? 0 : pos + 1;
      out[2 * i] = sat_up_output(p, s, 0, win);
      out[2 * i + 1] = sat_up_output(p, s, 1, win);
    }
    count *= 2;
    for (int i = 0; i < count; ++i) buf[i] = out[i];
  }
  for (int i = 0; i < count; ++i) buf[i] = sat_shape(p, c, buf[i]);
  // Down: each stage's low-pass, then every second sample.
  for (int s = p.stages - 1; s >= 0; --s) {
    const int n = p.taps[s];
    float* hist = down_hist[s];
    int& pos = c.down_pos[s];
    for (int i = 0; i < count / 2; ++i) {
      // The output is taken at the even (base-aligned) high-rate sample, so that every
      // stage's delay is a whole number of samples at the rate below it.
      hist[pos] = hist[pos + n] = buf[2 * i];
      const float* win = hist + pos + 1;  // the last n samples, oldest first
      pos = pos + 1 == n ? 0 : pos + 1;
      const float y = sat_down_output(p, s, win);  // h is symmetric: reversed, the same
      hist[pos] = hist[pos + n] = buf[2 * i + 1];
      pos = pos + 1 == n ? 0 : pos + 1;
      buf[i] = y;
    }
    count /= 2;
  }
  float y = buf[0];
  // The dry signal delayed like the wet path.
  float* dry = m;
  const int dry_size = p.wet_latency + 1;
  dry[c.dry_pos] = x;
  c.dry_pos = c.dry_pos + 1 == dry_size ? 0 : c.dry_pos + 1;
  const float dry_out = dry[c.dry_pos];  // written wet_latency samples ago
  y = sat_dc_block(p, c, y, dry_out);
  // Mixed, then the instance's padding.
  float out = p.output * (p.mix * y + (1.0f - p.mix) * dry_out);
  float* pad = dry + dry_size;
  pad[c.pad_pos] = out;
  c.pad_pos = c.pad_pos + 1 == p.pad + 1 ? 0 : c.pad_pos + 1;
  out = pad[c.pad_pos];
  return out;
}

// Block-wise form of sat_process, the same arithmetic over whole segments, for both
// launchers: every FIR output is an independent dot product over a line that holds a
// stage's history followed by its new input, so the stages run in parallel over time
// (one task or GPU thread per output); only the curve's own state (emphasis, ADAA, DC
// blocker) is walked in order per channel. The rings of the per-sample form are the state
// between segments: unrolled into the lines before a segment and rolled back after it, so
// both forms continue each other exactly. A launch lays the lines of every channel out in
// one scratch array (sat_lines); its steps, in order:
//   sat_gather (per element), sat_up (per output, stage by stage), sat_curve (per
//   channel), sat_down (per output, stage by stage), sat_tail (per channel),
//   sat_finish (per element).

// Where a channel's rings are in its memory (sat_process's layout).
struct SatRings {
  float* up[kSatMaxStages];
  float* down[kSatMaxStages];
  float* dry;
  float* pad;
};
TD_HD SatRings sat_rings(const SaturationParams& p, float* mem) {
  SatRings r{};
  float* m = mem;
  for (int s = 0; s < p.stages; ++s) {
    r.up[s] = m;
    m += 2 * ((p.taps[s] + 1) / 2);
    r.down[s] = m;
    m += 2 * p.taps[s];
  }
  r.dry = m;
  r.pad = m + p.wet_latency + 1;
  return r;
}

// One channel's lines in the launch's scratch (offsets in floats). up[s]: half_s - 1
// history samples, then the frames << s inputs of up stage s. down[s]: taps_s - 1 history
// samples, then the frames << (s + 1) inputs of down stage s (for the last stage: the
// curve's, written by the last up stage and shaped in place). base: the frames of the
// curve's base-rate output (no oversampling) or down stage 0's. dry, pad: the delay lines'
// histories (wet_latency, pad samples), then frames.
struct SatLines {
  int job, channel;  // channel: 0 left, 1 right
  long long up[kSatMaxStages], down[kSatMaxStages], base, dry, pad;
  long long gather, finish;  // elements of sat_gather and sat_finish
};

TD_HD SatLines sat_lines(const SaturationParams& p, int job, int channel, long long frames,
                         long long& at) {
  SatLines l{};
  l.job = job, l.channel = channel;
  l.gather = l.finish = 0;
  for (int s = 0; s < p.stages; ++s) {
    const int half = (p.taps[s] + 1) / 2, n = p.taps[s];
    l.up[s] = at, at += half - 1 + (frames << s);
    l.down[s] = at, at += n - 1 + (frames << (s + 1));
    l.gather += (half - 1) + (n - 1);
  }
  l.base = at, at += frames;
  l.dry = at, at += p.wet_latency + frames;
  l.pad = at, at += p.pad + frames;
  l.gather += p.wet_latency + p.pad + (p.stages > 0 ? frames : 0) + frames;
  l.finish = l.gather - (p.stages > 0 ? frames : 0);  // histories back, and the output
  return l;
}

// Element i of the lines' set-up: the rings' histories, then the input into the first line
// (up stage 0, or nothing without oversampling) and into the dry line.
TD_HD void sat_gather(const SaturationParams& p, const SaturationChannel& c, const SatRings& r,
                      const SatLines& l, const float* x, long long frames, float* scratch,
                      long long i) {
  for (int s = 0; s < p.stages; ++s) {
    const int half = (p.taps[s] + 1) / 2, n = p.taps[s];
    if (i < half - 1) {
      scratch[l.up[s] + i] = r.up[s][c.up_pos[s] + 1 + i];
      return;
    }
    i -= half - 1;
    if (i < n - 1) {
      scratch[l.down[s] + i] = r.down[s][c.down_pos[s] + 1 + i];
      return;
    }
    i -= n - 1;
  }
  if (i < p.wet_latency) {
    scratch[l.dry + i] = r.dry[(c.dry_pos + 1 + i) % (p.wet_latency + 1)];
    return;
  }
  i -= p.wet_latency;
  if (i < p.pad) {
    scratch[l.pad + i] = r.pad[(c.pad_pos + 1 + i) % (p.pad + 1)];
    return;
  }
  i -= p.pad;
  if (p.stages > 0) {
    if (i < frames) {
      scratch[l.up[0] + (p.taps[0] + 1) / 2 - 1 + i] = x[i];
      return;
    }
    i -= frames;
  }
  if (i < frames) scratch[l.dry + p.wet_latency + i] = x[i];
}

// Outputs 2 i and 2 i + 1 of up stage s (i < frames << s), into the next stage's line or,
// after the last stage, into the last down stage's line (where the curve shapes them).
TD_HD void sat_up(const SaturationParams& p, const SatLines& l, float* scratch, int s,
                  long long i) {
  const float* in = scratch + l.up[s] + i;
  float* out = s + 1 < p.stages ? scratch + l.up[s + 1] + (p.taps[s + 1] + 1) / 2 - 1
                                : scratch + l.down[p.stages - 1] + p.taps[p.stages - 1] - 1;
  out[2 * i] = sat_up_output(p, s, 0, in);
  out[2 * i + 1] = sat_up_output(p, s, 1, in);
}

// The curve over the whole oversampled segment of one channel, in order (its state).
TD_HD void sat_curve(const SaturationParams& p, SaturationChannel& c, const SatLines& l,
                     const float* x, long long frames, float* scratch) {
  if (sat_is_memoryless(p)) return;  // sat_curve_at's
  if (p.stages == 0) {
    for (long long n = 0; n < frames; ++n) scratch[l.base + n] = sat_shape(p, c, x[n]);
    return;
  }
  float* v = scratch + l.down[p.stages - 1] + p.taps[p.stages - 1] - 1;
  const long long count = frames << p.stages;
  for (long long n = 0; n < count; ++n) v[n] = sat_shape(p, c, v[n]);
}

// Sample i of the curve's line where the curve is memoryless (sat_is_memoryless): any
// order, one GPU thread per sample; sat_curve then skips the channel.
TD_HD void sat_curve_at(const SaturationParams& p, const SatLines& l, const float* x,
                        float* scratch, long long i) {
  if (p.stages == 0) {
    scratch[l.base + i] = sat_memoryless(p, x[i]);
    return;
  }
  float* v = scratch + l.down[p.stages - 1] + p.taps[p.stages - 1] - 1;
  v[i] = sat_memoryless(p, v[i]);
}

// Output i of down stage s (i < frames << s), into the line below or the base line.
TD_HD void sat_down(const SaturationParams& p, const SatLines& l, float* scratch, int s,
                    long long i) {
  float* out = s > 0 ? scratch + l.down[s - 1] + p.taps[s - 1] - 1 : scratch + l.base;
  out[i] = sat_down_output(p, s, scratch + l.down[s] + 2 * i);
}

// The DC blocker and the dry mix at the base rate, in order (the blocker's state), into the
// pad line; the rings' positions reset for sat_finish's layout.
TD_HD void sat_tail(const SaturationParams& p, SaturationChannel& c, const SatLines& l,
                    long long frames, float* scratch) {
  const float* dry = scratch + l.dry;
  float* pad = scratch + l.pad + p.pad;
  for (long long n = 0; n < frames; ++n) {
    const float y = sat_dc_block(p, c, scratch[l.base + n], dry[n]);
    pad[n] = p.output * (p.mix * y + (1.0f - p.mix) * dry[n]);
  }
  for (int s = 0; s < p.stages; ++s) c.up_pos[s] = c.down_pos[s] = 0;
  c.dry_pos = c.pad_pos = 0;
}

// Element i of the wrap-up: the output (the pad line's first frames samples), then each
// ring rewritten from its line's tail with its next write at 0 (a doubled ring of size m
// holds its last m - 1 samples at [1, m) and [m + 1, 2 m)).
TD_HD void sat_finish(const SaturationParams& p, const SatRings& r, const SatLines& l, float* x,
                      long long frames, const float* scratch, long long i) {
  if (i < frames) {
    x[i] = scratch[l.pad + i];
    return;
  }
  i -= frames;
  for (int s = 0; s < p.stages; ++s) {
    const int half = (p.taps[s] + 1) / 2, n = p.taps[s];
    if (i < half - 1) {
      const float v = scratch[l.up[s] + (frames << s) + i];  // the line's last half - 1
      r.up[s][1 + i] = r.up[s][half + 1 + i] = v;
      if (i == 0) r.up[s][0] = r.up[s][half] = 0.0f;
      return;
    }
    i -= half - 1;
    if (i < n - 1) {
      const float v = scratch[l.down[s] + (frames << (s + 1)) + i];
      r.down[s][1 + i] = r.down[s][n + 1 + i] = v;
      if (i == 0) r.down[s][0] = r.down[s][n] = 0.0f;
      return;
    }
    i -= n - 1;
  }
  if (i < p.wet_latency) {
    r.dry[1 + i] = scratch[l.dry + frames + i];
    return;
  }
  i -= p.wet_latency;
  if (i < p.pad) r.pad[1 + i] = scratch[l.pad + frames + i];
}

}  // namespace td

namespace td {

// One saturation instance on a stereo pair, in place.
struct SaturationJob {
  int left, right;
  int params, state;
  long long memory;  // offset of its two channels' memory (2 x sat_channel_floats)
};

TD_HD void saturation_segment(const SaturationJob& job, const SaturationParams& p,
                              SaturationState& st, float* xl, float* xr, float* memory,
                              long long frames) {
  const long long per = sat_channel_floats(p);
  float* ml = memory + job.memory;
  float* mr = ml + per;
  for (long long n = 0; n < frames; ++n) {
    xl[n] = sat_process(p, st.ch[0], ml, xl[n]);
    xr[n] = sat_process(p, st.ch[1], mr, xr[n]);
  }
}

}  // namespace td
