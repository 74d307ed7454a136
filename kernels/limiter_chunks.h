// A limiter cut into chunks, for a level with too few limiters to fill the machine (the
// master's limiter is one job on one stream pair; docs/architecture.md, "Recurrences with
// too few streams"). One job's segment is split into `count` chunks; every pass but the
// short fix-up runs one task per chunk, and the result is bit for bit limiter_segment's.
//
//  1. hold (per chunk): need[] and the hold window's minimum for every sample of the chunk.
//     The needs are a function of the input window only and the queue's content a function
//     of the needs in the window, so a chunk rebuilds both from the hold window before it;
//     chunk 0 continues the carried queue.
//  2. smooth (per chunk): the release recurrence from a guessed start, a warm-up of 24 time
//     constants over the hold values before the chunk (exact when the warm-up reaches the
//     segment start: the carried state); guessed start and end recorded.
//  3. fix (per job, short): chunk c's true start is chunk c-1's true end; where the guess
//     differs both trajectories are re-run until they are equal bit for bit (limiter_smooth
//     makes them meet at an attack and in a steady passage), as the compressor's fix-up
//     (dynamics_chunks.h). Then the delayed inputs each chunk's output needs are saved, and
//     the delay line, hot count and queue advanced.
//  4. gains (per chunk): the moving average's integer sum started afresh from the L smooth
//     values before the chunk's first gain (exact: limiter_box_q), the gain applied to each
//     sample of the chunk, written over its hold values.
//  5. output (per chunk, in place, backwards so the delay reads input not yet overwritten);
//     then, per job, the statistics and trace (integer sums, maxima) and the box and gain
//     rings.
#pragma once
#include "dynamics_chunks.h"
#include "limiter.h"

namespace td {

// What a chunk's passes hand to the per-job passes.
struct LimiterChunk {
  float guess, end;                // smooth[] before the chunk (guessed) and at its end
  int queue_head, queue_len, hot;  // the hold queue after the chunk (the last one is carried)
  long long box_q;                 // the box sum after the chunk's last sample
};

// The warm-up before a chunk: 24 release time constants (a distance shrinks by e^-24).
TD_HD long long limiter_warmup_frames(const LimiterParams& p) {
  if (p.release <= 0.0f) return 2;
  if (p.release >= 1.0f) return 1LL << 40;
  return (long long)(24.0f / -logf(p.release)) + 2;
}

// Input samples a chunk reads before its start (pass 1: the hold window, the interpolator's
// window and the hot count's reach; pass 5: the delay): chunks after the first start at
// least this far into the segment.
TD_HD long long limiter_history_frames(const LimiterParams& p) {
  const long long hold = p.lookahead + 2 * kLimiterReach + 1;
  const long long delay = p.lookahead + p.pad + kLimiterExtraDelay;
  const long long reach = hold - 1 + 2 * kTruePeakTaps;
  return reach > delay ? reach : delay;
}

// Chunks per job so that job_count * chunks fills `lanes` workers (1: no chunking), none
// shorter than twice the longest warm-up or history (as compressor_chunk_count).
inline int limiter_chunk_count(int job_count, int lanes, long long frames, long long warmup,
                               long long history) {
  return compressor_chunk_count(job_count, lanes, frames, warmup > history ? warmup : history);
}

// The driven input at local sample m of the segment; before the segment (m >= -size), from
// the delay line, whose next write position is st.pos.
TD_HD void limiter_input(const LimiterParams& p, const LimiterState& st, const LimiterRing& r,
                         const float* xl, const float* xr, long long m, float* l, float* rr) {
  if (m >= 0) {
    *l = xl[m] * p.drive;
    *rr = xr[m] * p.drive;
    return;
  }
  long long k = st.pos + m;
  if (k < 0) k += r.size;
  *l = r.xl[k];
  *rr = r.xr[k];
}

// The first sample whose need enters chunk c's first hold window (pass 1 computes the
// needs from there to the chunk's end).
TD_HD long long limiter_needs_begin(const LimiterParams& p, long long frames, int count, int c) {
  return c == 0 ? 0 : chunk_begin(frames, count, c) - (p.lookahead + 2 * kLimiterReach);
}

// Pass 1 for chunk c: hold[n] for the chunk's samples. `queue` is the chunk's own scratch
// (2 * (hold window + 1) floats; chunk 0 uses the carried queue in the ring). `need4`, when
// not null, holds limiter_need4 of the windows of samples limiter_needs_begin .. end of the
// chunk, computed beforehand (the CPU computes consecutive windows side by side).
TD_HD void limiter_hold_chunk(const LimiterParams& p, const TruePeakFilter& f,
                              const LimiterState& st, float* ring, const float* xl, const float* xr,
                              long long frames, int count, int c, float* hold, float* queue,
                              LimiterChunk* out, const float* need4) {
  const LimiterRing r = limiter_ring(p, ring);
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  float* value = c == 0 ? r.queue_value : queue;
  int* index = c == 0 ? r.queue_index : reinterpret_cast<int*>(queue + r.queue);
  int head = c == 0 ? st.queue_head : 0, len = c == 0 ? st.queue_len : 0;
  int hot = c == 0 ? st.hot : 0;
  // The first sample whose need enters the chunk's first hold window, and where the
  // window buffers (and, after chunk 0, the hot count) start.
  const long long m0 = limiter_needs_begin(p, frames, count, c);
  const long long first = c == 0 ? -(kTruePeakTaps - 1) : m0 - kTruePeakTaps;
  float bl[2 * kTruePeakTaps], br[2 * kTruePeakTaps];  // each sample written twice
  for (long long m = first; m < e; ++m) {
    float l, rr;
    limiter_input(p, st, r, xl, xr, m, &l, &rr);
    const int k = (int)(m & (kTruePeakTaps - 1));
    bl[k] = bl[k + kTruePeakTaps] = l;
    br[k] = br[k + kTruePeakTaps] = rr;
    if (m < 0) continue;  // chunk 0's history: the carried hot count covers it
    if (limiter_loud(p, l, rr))
      hot = kTruePeakTaps;
    else if (hot > 0)
      --hot;
    if (m < m0) continue;
    const float need = need4 ? (hot > 0 ? need4[m - m0] : 1.0f)
                             : limiter_need(p, f, bl + k + 1, br + k + 1, hot > 0);
    const float h = limiter_hold(value, index, r.queue, r.hold, head, len, st.count + m, need);
    if (m >= b) hold[m] = h;
  }
  out->queue_head = head;
  out->queue_len = len;
  out->hot = hot;
}

// Pass 2 for chunk c: smooth[n] from a guessed start.
TD_HD void limiter_smooth_chunk(const LimiterParams& p, const LimiterState& st, const float* hold,
                                long long frames, int count, int c, float* smooth,
                                LimiterChunk* out) {
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  const long long warm = limiter_warmup_frames(p);
  const long long w0 = b > warm ? b - warm : 0;
  float s = w0 == 0 ? st.smooth : 1.0f;
  for (long long n = w0; n < b; ++n) s = limiter_smooth(p, s, hold[n]);
  out->guess = s;
  for (long long n = b; n < e; ++n) {
    s = limiter_smooth(p, s, hold[n]);
    smooth[n] = s;
  }
  out->end = s;
}

// Pass 3 for one job: chains the chunks' true smooth[] (see the top of this file), sets
// st.smooth to the segment's end, and returns how many samples were re-run.
TD_HD long long limiter_fix_chunks(const LimiterParams& p, LimiterState& st, const float* hold,
                                   float* smooth, long long frames, int count,
                                   const LimiterChunk* chunks) {
  long long rerun = 0;
  float t = chunks[0].end;
  for (int c = 1; c < count; ++c) {
    if (same_bits(t, chunks[c].guess)) {
      t = chunks[c].end;
      continue;
    }
    const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
    float g = chunks[c].guess;
    bool met = false;
    for (long long n = b; n < e && !met; ++n) {
      t = limiter_smooth(p, t, hold[n]);
      g = limiter_smooth(p, g, hold[n]);
      smooth[n] = t;
      ++rerun;
      met = same_bits(t, g);
    }
    if (met) t = chunks[c].end;
  }
  st.smooth = t;
  return rerun;
}

// Pass 3, then: the `delay` driven inputs before chunk c's start (edge[0 .. delay) left,
// edge[delay .. 2 delay) right), saved before pass 5 overwrites them.
TD_HD void limiter_save_edge(const LimiterParams& p, const LimiterState& st, float* ring,
                             const float* xl, const float* xr, long long frames, int count, int c,
                             float* edge) {
  const LimiterRing r = limiter_ring(p, ring);
  const long long delay = r.size - 1, b = chunk_begin(frames, count, c);
  for (long long i = 0; i < delay; ++i)
    limiter_input(p, st, r, xl, xr, b - delay + i, edge + i, edge + delay + i);
}

// Pass 3, last: the delay line, hot count and hold queue after the segment (after the edges
// are saved: chunk 0's edge reads the delay line).
TD_HD void limiter_advance_input(const LimiterParams& p, LimiterState& st, float* ring,
                                 const float* xl, const float* xr, long long frames,
                                 const LimiterChunk& last, const float* last_queue,
                                 bool last_is_first) {
  const LimiterRing r = limiter_ring(p, ring);
  for (long long m = frames - r.size; m < frames; ++m) {
    const long long k = (st.count + m) % r.size;
    r.xl[k] = r.xl[k + r.size] = xl[m] * p.drive;
    r.xr[k] = r.xr[k + r.size] = xr[m] * p.drive;
  }
  st.pos = (int)((st.count + frames) % r.size);
  st.hot = last.hot;
  if (!last_is_first) {
    const int* index = reinterpret_cast<const int*>(last_queue + r.queue);
    for (int i = 0; i < last.queue_len; ++i) {
      const int k = (last.queue_head + i) % r.queue;
      r.queue_value[i] = last_queue[k];
      r.queue_index[i] = index[k];
    }
    st.queue_head = 0;
  } else {
    st.queue_head = last.queue_head;
  }
  st.queue_len = last.queue_len;
}

// smooth[k] for local k >= -L: from the segment, or from the box ring.
TD_HD float limiter_smooth_at(const LimiterParams& p, const LimiterState& st, const LimiterRing& r,
                              const float* smooth, long long k) {
  if (k >= 0) return smooth[k];
  return r.box[(st.count + k + p.lookahead) % p.lookahead];
}

// Pass 4 for chunk c: applied[n], the gain applied to each sample of the chunk (over its
// hold values); the last chunk leaves the gains of its last pad samples, which apply in
// the next segment, in pending[0 .. pad).
TD_HD void limiter_gain_chunk(const LimiterParams& p, const LimiterState& st, float* ring,
                              const float* smooth, long long frames, int count, int c,
                              float* applied, float* pending, LimiterChunk* out) {
  const LimiterRing r = limiter_ring(p, ring);
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  const long long L = p.lookahead, pad = p.pad;
  const long long start = b - pad > 0 ? b - pad : 0;  // the first gain the chunk needs
  long long box = 0;
  for (long long k = start - L; k < start; ++k)
    box += limiter_box_q(limiter_smooth_at(p, st, r, smooth, k));
  for (long long n = b; n < e && n - pad < 0; ++n)  // gains of the last segment
    applied[n] = r.gains[(st.count + n - pad + (pad + 1)) % (pad + 1)];
  for (long long m = start; m < e; ++m) {
    box += limiter_box_q(smooth[m]) - limiter_box_q(limiter_smooth_at(p, st, r, smooth, m - L));
    const float g = limiter_gain_of_box(p, box);
    const long long n = m + pad;  // where it applies
    if (n < e) {
      if (n >= b) applied[n] = g;
    } else if (c == count - 1) {
      pending[n - e] = g;
    }
  }
  out->box_q = box;
}

// Pass 5 for chunk c: the output, in place and backwards; `edge` is chunk c's saved edge.
TD_HD void limiter_output_chunk(const LimiterParams& p, float* xl, float* xr, const float* edge,
                                const float* applied, long long frames, int count, int c) {
  const long long delay = p.lookahead + p.pad + kLimiterExtraDelay;
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  for (long long n = e - 1; n >= b; --n) {
    const long long m = n - delay;
    const float l = m >= b ? xl[m] * p.drive : edge[m - (b - delay)];
    const float rr = m >= b ? xr[m] * p.drive : edge[delay + m - (b - delay)];
    xl[n] = l * applied[n];
    xr[n] = rr * applied[n];
  }
}

// The box and gain rings and the counters after a segment whose passes ran (the end of
// limiter_finish_segment, and of the delivery's pass, which keeps no statistics).
TD_HD void limiter_finish_rings(const LimiterParams& p, LimiterState& st, float* ring,
                                const float* smooth, const float* applied, const float* pending,
                                const LimiterChunk& last, long long frames) {
  const LimiterRing r = limiter_ring(p, ring);
  const long long L = p.lookahead, pad = p.pad;
  for (long long m = frames - L; m < frames; ++m) r.box[(st.count + m) % L] = smooth[m];
  for (long long m = frames - 1 - pad; m < frames; ++m)
    r.gains[(st.count + m) % (pad + 1)] =
        m >= frames - pad ? pending[m - (frames - pad)] : applied[frames - 1];
  st.box_q = last.box_q;
  st.count += frames;
  st.box_pos = (int)(st.count % L);
  st.gain_pos = (int)(st.count % (pad + 1));
}

// The statistics and trace of the segment from its applied gains, hop by hop (integer sums
// and maxima: limiter_segment's result).
TD_HD void limiter_record_segment(const LimiterJob& job, LimiterState& st, const float* applied,
                                  float* trace, long long trace_hop_frames, long long origin,
                                  long long frames) {
  const long long first = job.song_begin > origin ? job.song_begin - origin : 0;
  const long long stop = job.song_end - origin < frames ? job.song_end - origin : frames;
  const float scale = (float)(1.0 / kReductionQuantum);
  long long sum = 0;
  float most = st.reduction_max;
  for (long long n = first; n < stop;) {
    const long long hop = (origin + n - job.song_begin) / trace_hop_frames;
    long long end = job.song_begin + (hop + 1) * trace_hop_frames - origin;
    end = end < stop ? end : stop;
    float t = trace[job.trace + hop];
    for (; n < end; ++n) {
      const float reduction = limiter_reduction_db(applied[n]);
      sum += (long long)(reduction * scale);
      most = max_of(most, reduction);
      t = max_of(t, reduction);
    }
    trace[job.trace + hop] = t;
  }
  st.reduction_sum_q += sum;
  st.reduction_max = most;
}

// The statistics and trace, then the box and gain rings and the counters.
TD_HD void limiter_finish_segment(const LimiterJob& job, const LimiterParams& p, LimiterState& st,
                                  float* ring, const float* smooth, const float* applied,
                                  const float* pending, const LimiterChunk& last, float* trace,
                                  long long trace_hop_frames, long long origin, long long frames) {
  limiter_record_segment(job, st, applied, trace, trace_hop_frames, origin, frames);
  limiter_finish_rings(p, st, ring, smooth, applied, pending, last, frames);
}

}  // namespace td
