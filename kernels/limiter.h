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
//  4. smooth[m] = hold[m] if smooth[m-1] > hold[m], else hold[m] + r (smooth[m-1] - hold[m])
//     (limiter_smooth): instant attack, one-pole release (release_ms, a 63 % time constant);
//  5. gain[m] = mean(smooth[m .. m + L - 1]) (a sum in fixed point): a moving average over the
//  look-ahead, so the
//     gain ramps down over L samples before a peak instead of jumping, and is never above
//     any need[] within the interpolator's reach of m (each term of the mean is not).
// The output is gain[m] x[m], L + kLimiterExtraDelay samples after x[m] arrived: need[m]
// is known 8 samples after x[m], hold[m] 8 after that, gain[m] L - 1 after that.
// References: the min-hold + moving-average look-ahead structure is the usual brickwall
// design (e.g. S. Sanfilippo, "Limiter design", and the JUCE dsp::Limiter discussion);
// true peak per ITU-R BS.1770-4 Annex 2.
#pragma once
#include "dynamics.h"  // kReductionQuantum
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

// The moving average's sum is kept in fixed point (kLimiterBoxQuantum per unit): an integer
// sliding sum is exact, so a chunk of the segment can start it afresh from the last L
// values and reach the same bits as the running one (limiter_chunks.h).
constexpr float kLimiterBoxScale = 68719476736.0f;          // 2^36 units per unit gain
constexpr double kLimiterBoxQuantum = 1.0 / 68719476736.0;  // 2^-36

TD_HD long long limiter_box_q(float smooth) {
  return (long long)(smooth * kLimiterBoxScale);
}

TD_HD float limiter_gain_of_box(const LimiterParams& p, long long box_q) {
  return (float)((double)box_q * (kLimiterBoxQuantum * p.inverse_lookahead));
}

// Step 4: instant attack, one-pole release. Near the hold a float release stalls (the
// step (1 - r) (h - s) falls below half an ulp of h, about -86 dB below unity for 50 ms at
// 48 kHz), so a step that no longer moves lands on the hold: every trajectory reaches the
// hold exactly within about ten time constants of a steady passage, and two trajectories
// meet bit for bit there as well as at an attack (what the chunked fix-up waits for).
TD_HD float limiter_smooth(const LimiterParams& p, float smooth, float hold) {
  if (smooth > hold) return hold;
  const float released = hold + p.release * (smooth - hold);
  return released == smooth ? hold : released;
}

// Whether a driven sample can make the interpolator's window peak over the ceiling.
TD_HD bool limiter_loud(const LimiterParams& p, float l, float r) {
  return max_of(abs_of(l), abs_of(r)) * p.bound > p.ceiling;
}

// max and |x| of a float or, on the CPU, of a GCC vector of floats (one value per lane):
// max_of and abs_of, written once for both.
template <class T>
TD_HD T lanes_max(T a, T b) {
  return a > b ? a : b;
}
template <class T>
TD_HD T lanes_abs(T a) {
  return a < 0.0f ? -a : a;
}

// Steps 1-2 in four phases (the interpolator at 44.1 kHz and up): w*[j] = x[m - 15 + j]
// (driven), the need at signal time m - 8; phase 0 is x[m - 8] itself (a Nyquist filter).
// T is a float, or on the CPU a GCC vector whose lane q holds the window q samples later:
// consecutive needs side by side, the same operations in the same order in every lane, so
// the same bits as one at a time (the CPU's limiter_needs4).
template <class T>
TD_HD T limiter_need4(const LimiterParams& p, const TruePeakFilter& f, const T* wl, const T* wr) {
  T tp = lanes_max(lanes_abs(wl[kTruePeakTaps - 1 - kLimiterReach]),
                   lanes_abs(wr[kTruePeakTaps - 1 - kLimiterReach]));
  T al[3] = {}, ar[3] = {};  // phases 1 .. 3
  for (int k = 0; k < kTruePeakTaps; ++k) {
    // tap k weighs x[m - k], which is window element 15 - k
    const T xl_k = wl[kTruePeakTaps - 1 - k], xr_k = wr[kTruePeakTaps - 1 - k];
    for (int ph = 1; ph < 4; ++ph) {
      al[ph - 1] += f.h4[k][ph] * xl_k;
      ar[ph - 1] += f.h4[k][ph] * xr_k;
    }
  }
  for (int ph = 0; ph < 3; ++ph)
    tp = lanes_max(tp, lanes_max(lanes_abs(al[ph]), lanes_abs(ar[ph])));
  const T ceiling = T{} + p.ceiling, one = T{} + 1.0f;
  return tp > ceiling ? ceiling / tp : one;
}

// Steps 1-2 for one window: wl[0 .. 15] = x[m - 15 .. m] (driven), `hot` when a loud sample
// is among them. The need at signal time m - 8.
TD_HD float limiter_need(const LimiterParams& p, const TruePeakFilter& f, const float* wl,
                         const float* wr, bool hot) {
  if (!hot) return 1.0f;
  if (f.phases == 4) return limiter_need4(p, f, wl, wr);
  float tp = max_of(abs_of(wl[kTruePeakTaps - 1 - kLimiterReach]),
                    abs_of(wr[kTruePeakTaps - 1 - kLimiterReach]));
  for (int ph = 1; ph < f.phases; ++ph) {
    float vl = 0.0f, vr = 0.0f;
    for (int k = 0; k < kTruePeakTaps; ++k) {
      vl += f.h[ph][k] * wl[kTruePeakTaps - 1 - k];
      vr += f.h[ph][k] * wr[kTruePeakTaps - 1 - k];
    }
    tp = max_of(tp, max_of(abs_of(vl), abs_of(vr)));
  }
  return tp > p.ceiling ? p.ceiling / tp : 1.0f;
}

// Step 3: the minimum of the hold window by a monotonic queue (ascending values; entries
// that can never be the minimum again are dropped), amortised constant time. `capacity`
// entries of values and sample indices (which wrap at 2^30 samples); returns the window's
// minimum after `need` of sample n joined it. The queue's content depends only on the
// window, so a chunk may rebuild it from the needs alone.
TD_HD float limiter_hold(float* value, int* index, int capacity, int window, int& head, int& len,
                         long long n, float need) {
  while (len > 0) {
    int back = head + len - 1;
    if (back >= capacity) back -= capacity;
    if (value[back] < need) break;
    --len;
  }
  int tail = head + len;
  if (tail >= capacity) tail -= capacity;
  const int now = (int)(n & 0x3fffffff);
  value[tail] = need;
  index[tail] = now;
  ++len;
  while (((now - index[head]) & 0x3fffffff) >= window) {
    head = head + 1 == capacity ? 0 : head + 1;
    --len;
  }
  return value[head];
}

struct LimiterState {
  long long box_q;  // the sum of the last L smooth[] values, in kLimiterBoxQuantum units
  float smooth;     // smooth[m - 1]
  long long count;  // input samples seen
  int pos;          // write position in the delay lines: count % (L + pad + 16)
  int queue_head, queue_len;
  int box_pos, gain_pos;      // count % L, count % (pad + 1)
  int hot;                    // samples the interpolator's window still holds a loud sample
  float reduction_max;        // dB
  long long reduction_sum_q;  // over the song's samples, in units of kReductionQuantum
  int started;
};

// The job's memory (limiter_ring_floats), by part.
struct LimiterRing {
  int size, hold, queue;  // delay line length (L + pad + 16), hold window, queue capacity
  float* xl;              // 2 * size each (every sample written twice)
  float* xr;
  float* queue_value;
  int* queue_index;  // never read as float
  float* box;        // L: smooth[] of the last L samples, at sample % L
  float* gains;      // pad + 1: gain[] of the last pad + 1 samples, at sample % (pad + 1)
};

TD_HD LimiterRing limiter_ring(const LimiterParams& p, float* ring) {
  LimiterRing r;
  r.size = p.lookahead + p.pad + kLimiterExtraDelay + 1;
  r.hold = p.lookahead + 2 * kLimiterReach + 1;
  r.queue = r.hold + 1;
  r.xl = ring;
  r.xr = ring + 2 * r.size;
  r.queue_value = ring + 4 * r.size;
  r.queue_index = reinterpret_cast<int*>(r.queue_value + r.queue);
  r.box = r.queue_value + 2 * r.queue;
  r.gains = r.box + p.lookahead;
  return r;
}

// A fresh limiter: unity gain everywhere (the delay lines and queue start zeroed).
TD_HD void limiter_start(const LimiterParams& p, LimiterState& st, const LimiterRing& r) {
  st.started = 1;
  st.smooth = 1.0f;
  for (int i = 0; i < p.lookahead; ++i) r.box[i] = 1.0f;
  for (int i = 0; i <= p.pad; ++i) r.gains[i] = 1.0f;
  st.box_q = (long long)p.lookahead * limiter_box_q(1.0f);
}

// One input sample pair in, one output sample pair out (the pair that arrived
// lookahead + pad + kLimiterExtraDelay samples earlier; zeros before). `ring` is the job's
// memory (limiter_ring_floats). Returns the gain applied to the output pair.
TD_HD float limiter_step(const LimiterParams& p, const TruePeakFilter& f, LimiterState& st,
                         float* ring, float in_l, float in_r, float& out_l, float& out_r) {
  const LimiterRing r = limiter_ring(p, ring);
  if (!st.started) limiter_start(p, st, r);
  const long long n = st.count++;
  const int w = st.pos;
  st.pos = w + 1 == r.size ? 0 : w + 1;
  r.xl[w] = r.xl[w + r.size] = in_l * p.drive;
  r.xr[w] = r.xr[w + r.size] = in_r * p.drive;
  // 1-2: the need at signal time n - 8: the interpolator's window x[n-15 .. n] ends at
  // w + size. A window can peak over the ceiling only while it holds a sample over
  // ceiling / bound: `hot` counts down the samples such a one stays in the window.
  if (limiter_loud(p, r.xl[w], r.xr[w]))
    st.hot = kTruePeakTaps;
  else if (st.hot > 0)
    --st.hot;
  const float need = limiter_need(p, f, r.xl + w + r.size - (kTruePeakTaps - 1),
                                  r.xr + w + r.size - (kTruePeakTaps - 1), st.hot > 0);
  // 3-4
  const float hold_min = limiter_hold(r.queue_value, r.queue_index, r.queue, r.hold, st.queue_head,
                                      st.queue_len, n, need);
  st.smooth = limiter_smooth(p, st.smooth, hold_min);
  // 5: the moving average over the look-ahead.
  st.box_q += limiter_box_q(st.smooth) - limiter_box_q(r.box[st.box_pos]);
  r.box[st.box_pos] = st.smooth;
  st.box_pos = st.box_pos + 1 == p.lookahead ? 0 : st.box_pos + 1;
  // gain[] for signal time n - L - 15, applied pad samples later.
  r.gains[st.gain_pos] = limiter_gain_of_box(p, st.box_q);
  st.gain_pos = st.gain_pos + 1 == p.pad + 1 ? 0 : st.gain_pos + 1;
  const float gain = r.gains[st.gain_pos];  // written pad samples ago (or just now)
  // The output: x[n - delay], the element after the one just written (size = delay + 1).
  out_l = r.xl[w + 1] * gain;
  out_r = r.xr[w + 1] * gain;
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
        st.reduction_sum_q += (long long)(reduction * (float)(1.0 / kReductionQuantum));
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
