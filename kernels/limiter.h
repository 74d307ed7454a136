// The true-peak limiter: a look-ahead brickwall whose detector is the BS.1770-4 true-peak
// interpolator itself (true_peak.h), so that it limits what the meter measures.
//
// Per input sample (signal time m, both channels linked):
//  1. tp[m]: the largest |value| of the oversampled signal between x[m] and x[m+1] over
//     both channels (the meter's polyphase filter, phases 0 .. P-1);
//  2. need[m] = min(1, ceiling / tp[m]): the gain that brings it to the ceiling;
//  3. hold[m] = min(need[m - L - 8 .. m + 8]): a minimum over the look-ahead window plus
//     the interpolator's reach, so every sample that contributes to an interpolated peak
//     is turned down with it;
//  4. smooth[m] = min(hold[m], r smooth[m-1] + (1 - r) hold[m]): instant attack, one-pole
//     release (release_ms, a 63 % time constant);
//  5. gain[m] = mean(smooth[m .. m + L - 1]): a moving average over the look-ahead, so the
//     gain ramps down over L samples before a peak instead of jumping, and is never above
//     any need[] within the interpolator's reach of m (each term of the mean is not).
// The output is gain[m] x[m], L + kLimiterExtraDelay samples after x[m] arrived: need[m]
// is known 8 samples after x[m], hold[m] 8 after that, gain[m] L - 1 after that.
// References: the min-hold + moving-average look-ahead structure is the usual brickwall
// design (e.g. S. Sanfilippo, "Limiter design", and the JUCE dsp::Limiter discussion);
// true peak per ITU-R BS.1770-4 Annex 2.
#pragma once
#include "td_hd.h"
#include "true_peak.h"

namespace td {

// Samples between an input and the moment its true-peak need is known (the interpolator
// reads 8 samples ahead of the point it computes), plus the hold's forward reach.
constexpr int kLimiterReach = kTruePeakTaps / 2;           // 8
constexpr int kLimiterExtraDelay = 2 * kLimiterReach - 1;  // 15

struct LimiterParams {
  float ceiling;  // linear (10^(ceiling_dbtp / 20))
  float release;  // one-pole coefficient
  int lookahead;  // L, samples (>= 1)
  int pad;        // extra delay so that instances with less look-ahead than their node's
                  // largest have the same latency: L + pad + kLimiterExtraDelay
  float drive;    // linear input gain (the delivery's drive to a loudness target)
};

// Floats of delay-line memory a limiter job needs.
TD_HD long long limiter_ring_floats(int lookahead, int pad) {
  const long long delay = lookahead + pad + kLimiterExtraDelay;
  const long long hold = lookahead + 2 * kLimiterReach + 1;
  return 2 * (delay + 1) + hold + lookahead + (pad + 1);
}

struct LimiterState {
  double box_sum;       // the sum of the last L smooth[] values
  float smooth;         // smooth[m - 1]
  float hold_min;       // min of the hold ring
  long long count;      // input samples seen
  float reduction_max;  // dB
  double reduction_sum;
  int started;
};

// One input sample pair in, one output sample pair out (the pair that arrived
// lookahead + kLimiterExtraDelay samples earlier; zeros before). `ring` is the job's
// memory (limiter_ring_floats). Returns the gain applied to the output pair.
TD_HD float limiter_step(const LimiterParams& p, const TruePeakFilter& f, LimiterState& st,
                         float* ring, float in_l, float in_r, float& out_l, float& out_r) {
  const long long delay = p.lookahead + p.pad + kLimiterExtraDelay, size = delay + 1;
  const long long hold_size = p.lookahead + 2 * kLimiterReach + 1;
  float* xl = ring;
  float* xr = ring + size;
  float* hold = ring + 2 * size;
  float* box = hold + hold_size;
  float* gains = box + p.lookahead;  // pad + 1 past gains
  if (!st.started) {
    st.started = 1;
    st.smooth = 1.0f;
    st.hold_min = 1.0f;
    for (long long i = 0; i < hold_size; ++i) hold[i] = 1.0f;
    for (int i = 0; i < p.lookahead; ++i) box[i] = 1.0f;
    for (int i = 0; i <= p.pad; ++i) gains[i] = 1.0f;
    st.box_sum = p.lookahead;
  }
  const long long n = st.count++;
  xl[n % size] = in_l * p.drive;
  xr[n % size] = in_r * p.drive;
  // 1-2: the need at signal time m = n - reach (the interpolator reads x[m-7 .. m+8]).
  float tp = 0.0f;
  for (int c = 0; c < 2; ++c) {
    const float* x = c ? xr : xl;
    for (int ph = 0; ph < f.phases; ++ph) {
      float v = 0.0f;
      for (int k = 0; k < kTruePeakTaps; ++k) {
        const long long i = n - k;
        v += f.h[ph][k] * (i >= 0 ? x[i % size] : 0.0f);
      }
      tp = max_of(tp, abs_of(v));
    }
  }
  const float need = tp > p.ceiling ? p.ceiling / tp : 1.0f;
  // 3: the running minimum of the hold window (rescanned only when its minimum leaves).
  const long long slot = n % hold_size;
  const float leaving = hold[slot];
  hold[slot] = need;
  if (need <= st.hold_min) {
    st.hold_min = need;
  } else if (leaving <= st.hold_min) {
    float m = 1.0f;
    for (long long i = 0; i < hold_size; ++i) m = hold[i] < m ? hold[i] : m;
    st.hold_min = m;
  }
  // 4: instant attack, one-pole release.
  const float released = p.release * st.smooth + (1.0f - p.release) * st.hold_min;
  st.smooth = st.hold_min < released ? st.hold_min : released;
  // 5: the moving average over the look-ahead.
  const long long b = n % p.lookahead;
  st.box_sum += (double)st.smooth - (double)box[b];
  box[b] = st.smooth;
  // gain[] for signal time n - L - 15, applied pad samples later.
  gains[n % (p.pad + 1)] = (float)(st.box_sum / p.lookahead);
  const float gain = gains[(n + 1) % (p.pad + 1)];  // written pad samples ago (or now)
  const long long out = n - delay;
  out_l = out >= 0 ? xl[out % size] * gain : 0.0f;
  out_r = out >= 0 ? xr[out % size] * gain : 0.0f;
  return gain;
}

}  // namespace td

namespace td {

// One limiter instance on a stereo pair, in place (a streaming stage, any node).
struct LimiterJob {
  int left, right;
  int params, state;
  long long ring;                  // offset of its memory in the ring array
  long long song_begin, song_end;  // stream positions of the song at its output
  long long trace, trace_hops;     // its gain-reduction trace
};

TD_HD void limiter_segment(const LimiterJob& job, const LimiterParams& p, const TruePeakFilter& f,
                           LimiterState& st, float* xl, float* xr, float* rings, float* trace,
                           long long trace_hop_frames, long long origin, long long frames) {
  for (long long n = 0; n < frames; ++n) {
    float l, r;
    const float g = limiter_step(p, f, st, rings + job.ring, xl[n], xr[n], l, r);
    xl[n] = l, xr[n] = r;
    const long long pos = origin + n;
    if (pos >= job.song_begin && pos < job.song_end) {
      const float reduction = g < 1.0f ? -20.0f * log10f(g) : 0.0f;
      st.reduction_sum += reduction;
      st.reduction_max = max_of(st.reduction_max, reduction);
      float& t = trace[job.trace + (pos - job.song_begin) / trace_hop_frames];
      t = max_of(t, reduction);
    }
  }
}

}  // namespace td
