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
#include "fast_math.h"
#include "td_hd.h"
#include "true_peak.h"

namespace td {

// The gain reduction, in dB (>= 0), of a limiter gain g: -20 log10 g through td_log2, the
// same bits on both backends. The in-chain limiter's statistics and the delivery's.
TD_HD float limiter_reduction_db(float g) {
  return g < 1.0f ? -6.02059991f * td_log2(g) : 0.0f;
}

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
  float bound;    // true_peak_gain_bound of the filter: windows whose samples are all under
                  // ceiling / bound cannot peak over the ceiling and skip the interpolator
  double inverse_lookahead;  // 1 / L
};

// Floats of memory a limiter job needs: both channels' delay lines (each written twice,
// so the interpolator's window is always contiguous), the hold's running-minimum queue
// (values and sample indices), the moving average's terms and the pad's gains.
TD_HD long long limiter_ring_floats(int lookahead, int pad) {
  const long long size = lookahead + pad + kLimiterExtraDelay + 1;
  const long long queue = lookahead + 2 * kLimiterReach + 2;
  return 4 * size + 2 * queue + lookahead + (pad + 1);
}

struct LimiterState {
  double box_sum;   // the sum of the last L smooth[] values
  float smooth;     // smooth[m - 1]
  long long count;  // input samples seen
  int pos;          // write position in the delay lines
  int queue_head, queue_len;
  int box_pos, gain_pos;
  int hot;              // samples the interpolator's window still holds a loud sample
  float reduction_max;  // dB
  double reduction_sum;
  int started;
};

// One input sample pair in, one output sample pair out (the pair that arrived
// lookahead + pad + kLimiterExtraDelay samples earlier; zeros before). `ring` is the job's
// memory (limiter_ring_floats). Returns the gain applied to the output pair.
TD_HD float limiter_step(const LimiterParams& p, const TruePeakFilter& f, LimiterState& st,
                         float* ring, float in_l, float in_r, float& out_l, float& out_r) {
  const int size = p.lookahead + p.pad + kLimiterExtraDelay + 1;
  const int hold = p.lookahead + 2 * kLimiterReach + 1;  // the hold window
  const int queue = hold + 1;
  float* xl = ring;
  float* xr = ring + 2 * size;
  float* queue_value = ring + 4 * size;
  int* queue_index = reinterpret_cast<int*>(queue_value + queue);  // never read as float
  float* box = queue_value + 2 * queue;
  float* gains = box + p.lookahead;  // pad + 1 past gains
  if (!st.started) {
    st.started = 1;
    st.smooth = 1.0f;
    for (int i = 0; i < p.lookahead; ++i) box[i] = 1.0f;
    for (int i = 0; i <= p.pad; ++i) gains[i] = 1.0f;
    st.box_sum = p.lookahead;
  }
  const long long n = st.count++;
  const int w = st.pos;
  st.pos = w + 1 == size ? 0 : w + 1;
  xl[w] = xl[w + size] = in_l * p.drive;
  xr[w] = xr[w + size] = in_r * p.drive;
  // 1-2: the need at signal time m = n - 8: the interpolator's window x[n-15 .. n] ends at
  // w + size. Phase 0 is the sample x[m] itself (a Nyquist filter).
  const float* wl = xl + w + size - (kTruePeakTaps - 1);
  const float* wr = xr + w + size - (kTruePeakTaps - 1);
  // A window can peak over the ceiling only while it holds a sample over ceiling / bound:
  // `hot` counts down the samples such a one stays in the window.
  if (max_of(abs_of(xl[w]), abs_of(xr[w])) * p.bound > p.ceiling)
    st.hot = kTruePeakTaps;
  else if (st.hot > 0)
    --st.hot;
  float tp = 0.0f;
  if (st.hot > 0) {
    tp = max_of(abs_of(wl[kTruePeakTaps - 1 - kLimiterReach]),
                abs_of(wr[kTruePeakTaps - 1 - kLimiterReach]));
    if (f.phases == 4) {
      // Four phases side by side (the tap-major copy of the filter): SIMD lanes.
      float al[4] = {0, 0, 0, 0}, ar[4] = {0, 0, 0, 0};
      for (int k = 0; k < kTruePeakTaps; ++k) {
        // tap k weighs x[n - k], which is window element 15 - k
        const float xl_k = wl[kTruePeakTaps - 1 - k], xr_k = wr[kTruePeakTaps - 1 - k];
        for (int ph = 0; ph < 4; ++ph) {
          al[ph] += f.h4[k][ph] * xl_k;
          ar[ph] += f.h4[k][ph] * xr_k;
        }
      }
      for (int ph = 1; ph < 4; ++ph) tp = max_of(tp, max_of(abs_of(al[ph]), abs_of(ar[ph])));
    } else {
      for (int ph = 1; ph < f.phases; ++ph) {
        float vl = 0.0f, vr = 0.0f;
        for (int k = 0; k < kTruePeakTaps; ++k) {
          vl += f.h[ph][k] * wl[kTruePeakTaps - 1 - k];
          vr += f.h[ph][k] * wr[kTruePeakTaps - 1 - k];
        }
        tp = max_of(tp, max_of(abs_of(vl), abs_of(vr)));
      }
    }
  }
  const float need = tp > p.ceiling ? p.ceiling / tp : 1.0f;
  // 3: the minimum of the hold window by a monotonic queue (ascending values; entries that
  // can never be the minimum again are dropped), amortised constant time.
  while (st.queue_len > 0) {
    int back = st.queue_head + st.queue_len - 1;
    if (back >= queue) back -= queue;
    if (queue_value[back] < need) break;
    --st.queue_len;
  }
  int tail = st.queue_head + st.queue_len;
  if (tail >= queue) tail -= queue;
  const int now = (int)(n & 0x3fffffff);
  queue_value[tail] = need;
  queue_index[tail] = now;
  ++st.queue_len;
  // Drop the front once it is older than the window (indices wrap at 2^30 samples).
  while (((now - queue_index[st.queue_head]) & 0x3fffffff) >= hold) {
    st.queue_head = st.queue_head + 1 == queue ? 0 : st.queue_head + 1;
    --st.queue_len;
  }
  const float hold_min = queue_value[st.queue_head];  // the window's minimum (<= 1)
  // 4: instant attack, one-pole release.
  const float released = p.release * st.smooth + (1.0f - p.release) * hold_min;
  st.smooth = hold_min < released ? hold_min : released;
  // 5: the moving average over the look-ahead.
  st.box_sum += (double)st.smooth - (double)box[st.box_pos];
  box[st.box_pos] = st.smooth;
  st.box_pos = st.box_pos + 1 == p.lookahead ? 0 : st.box_pos + 1;
  // gain[] for signal time n - L - 15, applied pad samples later.
  gains[st.gain_pos] = (float)(st.box_sum * p.inverse_lookahead);
  st.gain_pos = st.gain_pos + 1 == p.pad + 1 ? 0 : st.gain_pos + 1;
  const float gain = gains[st.gain_pos];  // written pad samples ago (or just now)
  // The output: x[n - delay], the element after the one just written (size = delay + 1).
  out_l = xl[w + 1] * gain;
  out_r = xr[w + 1] * gain;
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
  // A trace hop at a time (no division per sample): the samples before the song, then the
  // song's hops, then those after it.
  for (long long n = 0; n < frames;) {
    const long long pos = origin + n;
    const bool song = pos >= job.song_begin && pos < job.song_end;
    long long stop = frames;
    if (pos < job.song_begin) stop = job.song_begin - origin;
    if (song) {
      const long long hop_end =
          job.song_begin + ((pos - job.song_begin) / trace_hop_frames + 1) * trace_hop_frames;
      stop = (hop_end < job.song_end ? hop_end : job.song_end) - origin;
    }
    if (stop > frames) stop = frames;
    float hop_max = 0.0f;
    for (; n < stop; ++n) {
      float l, r;
      const float g = limiter_step(p, f, st, rings + job.ring, xl[n], xr[n], l, r);
      xl[n] = l, xr[n] = r;
      if (song) {
        const float reduction = limiter_reduction_db(g);
        st.reduction_sum += reduction;
        hop_max = max_of(hop_max, reduction);
      }
    }
    if (song) {
      st.reduction_max = max_of(st.reduction_max, hop_max);
      float& t = trace[job.trace + (pos - job.song_begin) / trace_hop_frames];
      t = max_of(t, hop_max);
    }
  }
}

}  // namespace td
