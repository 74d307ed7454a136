// A compressor cut into chunks, for a level with too few compressors to fill the machine
// (docs/architecture.md, "Recurrences with too few streams"): one job's segment is split into
// `count` chunks that run in parallel, and the result is bit for bit the sequential one.
//
//  1. detect (parallel, one task per chunk): each chunk guesses its start state by running
//     the detector from a fresh state over a warm-up of the samples before it (from the
//     segment's carried state, which is exact, when the warm-up reaches the segment start),
//     then records the reduction of every sample of the chunk, its guessed start state and
//     its end state. The audio is not touched.
//  2. fix (sequential per job, short): chunk c's true start state is chunk c-1's true end
//     state. Where the guess differs, the true and the guessed trajectories are re-run side
//     by side and the true reductions rewritten until the two states are equal bit for bit;
//     from there on the recurrences are identical (same state, same input), so the chunk's
//     recorded end state is the true one. The smoothers contract (each step shrinks the
//     distance of two trajectories by at least the larger pole), so they meet within a few
//     time constants; where they never meet the whole chunk is re-run, still exactly.
//  3. apply (parallel per chunk, in place, backwards so that the look-ahead reads input not
//     yet overwritten): output = delayed input x gain(reduction), then the statistics.
//
// There is no error bound to state: chunked and sequential outputs, traces and statistics
// are identical (tests/kernels/dynamics_chunks_test.cpp), so the chunk count may depend
// on the machine without breaking determinism.
#pragma once
#include <string.h>

#include "dynamics.h"

namespace td {

// No chunk is shorter than this: below it the warm-up and the fix-up cost more than the
// parallelism gains.
constexpr long long kCompressorMinChunkFrames = 1 << 14;

// Chunks per job so that job_count * chunks fills `lanes` workers (1: no chunking), none
// shorter than twice the longest warm-up of the jobs: a chunk's first pass then costs at
// most 1.5 times its length (measured on 2 cores, bench/stages_bench BM_CompressorOneJob:
// a warm-up of 0.9 chunk made the chunked compressor 8 % slower than the sequential one).
inline int compressor_chunk_count(int job_count, int lanes, long long frames,
                                  long long longest_warmup) {
  if (job_count <= 0 || job_count >= lanes) return 1;
  long long count = (lanes + job_count - 1) / job_count;
  const long long shortest = 2 * longest_warmup > kCompressorMinChunkFrames
                                 ? 2 * longest_warmup
                                 : kCompressorMinChunkFrames;
  const long long most = frames / shortest;
  if (count > most) count = most;
  return count < 1 ? 1 : (int)count;
}

TD_HD long long chunk_begin(long long frames, int count, int c) {
  return frames * c / count;
}

// The warm-up before a chunk: 8 time constants of the slowest smoother in use. The
// distance of a fresh state to the true one shrinks by e^-8 (60 dB of reduction to 0.02 dB);
// the fix-up then re-runs the chunk's start until the two meet bit for bit, which on music
// takes a few thousand samples (the seed's mix-bus compressor, 120 ms release: 70 to 9,400
// of each 131,072-sample chunk). 24 time constants made the fix-up idle but kept a master's
// 5.5 s segment from being cut at all (a chunk must be twice its warm-up); at 8 the seed's
// compressors take 6 to 8 % less time, with the same bits.
TD_HD long long compressor_warmup_frames(const CompressorParams& p) {
  float slowest = p.attack > p.release ? p.attack : p.release;
  if (p.auto_release && p.release_slow > slowest) slowest = p.release_slow;
  if ((p.auto_release || p.opto) && p.memory > slowest) slowest = p.memory;
  if (p.rms && p.rms_coeff > slowest) slowest = p.rms_coeff;
  if (slowest <= 0.0f) return 2;          // the key filter's two samples of history
  if (slowest >= 1.0f) return 1LL << 40;  // no decay: only the segment's own state is exact
  return (long long)(8.0f / -logf(slowest)) + 2;
}

// Bitwise equality of what a compressor's future depends on (not its statistics).
TD_HD bool same_bits(float a, float b) {
  unsigned x, y;
  memcpy(&x, &a, sizeof x);
  memcpy(&y, &b, sizeof y);
  return x == y;
}

TD_HD bool same_bits(double a, double b) {
  unsigned long long x, y;
  memcpy(&x, &a, sizeof x);
  memcpy(&y, &b, sizeof y);
  return x == y;
}

TD_HD bool compressor_same_state(const CompressorState& a, const CompressorState& b) {
  for (int c = 0; c < 2; ++c) {
    if (!same_bits(a.ch[c].mean_square, b.ch[c].mean_square) ||
        !same_bits(a.ch[c].reduction, b.ch[c].reduction) ||
        !same_bits(a.ch[c].memory, b.ch[c].memory))
      return false;
    for (int i = 0; i < 4; ++i)
      if (!same_bits(a.key_filter[c][i], b.key_filter[c][i])) return false;
  }
  return true;
}

// The key of local sample n after the job's key delay: from the segment, or from the key
// ring for positions before the segment (the ring holds key[pos - delay] at pos % delay).
TD_HD void compressor_delayed_key(const CompressorJob& job, const float* kl, const float* kr,
                                  const float* rings, long long origin, long long n, float* key_l,
                                  float* key_r) {
  const long long d = job.key_delay;
  if (n >= d) {
    *key_l = kl[n - d];
    *key_r = kr[n - d];
    return;
  }
  const long long i = (origin + n) % d;
  *key_l = rings[job.key_ring + i];
  *key_r = rings[job.key_ring + d + i];
}

// Pass 1 for chunk c of one job: red_l/red_r[n] (local n of the chunk) and the guessed
// start and recorded end states. `carried` is the job's state at the segment start.
TD_HD void compressor_detect_chunk(const CompressorJob& job, const CompressorParams& p,
                                   const CompressorState& carried, const float* kl, const float* kr,
                                   const float* rings, long long origin, long long frames,
                                   int count, int c, float* red_l, float* red_r,
                                   CompressorState* guess, CompressorState* end) {
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  const long long warm = compressor_warmup_frames(p);
  const long long w0 = b > warm ? b - warm : 0;
  CompressorState s;
  if (w0 == 0) {
    s = carried;
  } else {
    memset(&s, 0, sizeof s);  // a fresh compressor
  }
  float reduction[2], key_l, key_r;
  for (long long n = w0; n < b; ++n) {
    compressor_delayed_key(job, kl, kr, rings, origin, n, &key_l, &key_r);
    compressor_detect(job, p, s, key_l, key_r, reduction);
  }
  *guess = s;
  for (long long n = b; n < e; ++n) {
    compressor_delayed_key(job, kl, kr, rings, origin, n, &key_l, &key_r);
    compressor_detect(job, p, s, key_l, key_r, reduction);
    red_l[n] = reduction[0];
    red_r[n] = reduction[1];
  }
  *end = s;
}

// Pass 2 for one job: chains the chunks' true states (see the top of this file), sets the
// detector part of `st` to the segment's true end state and returns how many samples were
// re-run.
TD_HD long long compressor_fix_chunks(const CompressorJob& job, const CompressorParams& p,
                                      CompressorState& st, const float* kl, const float* kr,
                                      const float* rings, long long origin, long long frames,
                                      int count, float* red_l, float* red_r,
                                      const CompressorState* guess, const CompressorState* end) {
  long long rerun = 0;
  CompressorState t = end[0];
  for (int c = 1; c < count; ++c) {
    if (compressor_same_state(t, guess[c])) {
      t = end[c];
      continue;
    }
    const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
    CompressorState g = guess[c];
    bool met = false;
    float reduction[2], ignored[2], key_l, key_r;
    for (long long n = b; n < e && !met; ++n) {
      compressor_delayed_key(job, kl, kr, rings, origin, n, &key_l, &key_r);
      compressor_detect(job, p, t, key_l, key_r, reduction);
      compressor_detect(job, p, g, key_l, key_r, ignored);
      red_l[n] = reduction[0];
      red_r[n] = reduction[1];
      ++rerun;
      met = compressor_same_state(t, g);
    }
    if (met) t = end[c];
  }
  for (int c = 0; c < 2; ++c) {
    st.ch[c] = t.ch[c];
    for (int i = 0; i < 4; ++i) st.key_filter[c][i] = t.key_filter[c][i];
  }
  return rerun;
}

// The key ring after the segment (between passes 2 and 3: a self-keyed compressor's key is
// its input, which pass 3 overwrites).
TD_HD void compressor_advance_key_ring(const CompressorJob& job, const float* kl, const float* kr,
                                       float* rings, long long origin, long long frames) {
  const long long d = job.key_delay;
  for (long long n = frames > d ? frames - d : 0; n < frames; ++n) {
    rings[job.key_ring + (origin + n) % d] = kl[n];
    rings[job.key_ring + d + (origin + n) % d] = kr[n];
  }
}

// The `lookahead` input samples before chunk c's start (c == count: before the segment's
// end), saved before pass 3 overwrites them: edge[0..L) left, edge[L..2L) right.
TD_HD void compressor_save_edge(const CompressorJob& job, const float* xl, const float* xr,
                                const float* rings, long long origin, long long frames, int count,
                                int c, float* edge) {
  const long long L = job.lookahead;
  const long long b = chunk_begin(frames, count, c);
  for (long long i = 0; i < L; ++i) {
    const long long m = b - L + i;
    if (m >= 0) {
      edge[i] = xl[m];
      edge[L + i] = xr[m];
    } else {  // before the segment: the ring holds input[pos - L] at pos % L
      const long long k = (origin + m + L) % L;
      edge[i] = rings[job.ring + k];
      edge[L + i] = rings[job.ring + L + k];
    }
  }
}

// Pass 3 for chunk c: the output, in place and backwards; `edge` is chunk c's saved edge.
TD_HD void compressor_apply_chunk(const CompressorJob& job, const CompressorParams& p, float* xl,
                                  float* xr, const float* edge, long long frames, int count, int c,
                                  const float* red_l, const float* red_r) {
  const long long L = job.lookahead;
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  for (long long n = e - 1; n >= b; --n) {
    const long long m = n - L;
    const float in_l = m >= b ? xl[m] : edge[m - (b - L)];
    const float in_r = m >= b ? xr[m] : edge[L + m - (b - L)];
    const float reduction[2] = {red_l[n], red_r[n]};
    compressor_output(p, reduction, in_l, in_r, xl + n, xr + n);
  }
}

// The statistics and trace of the segment, from its reductions (after pass 2): what
// compressor_record adds sample by sample, hop by hop (one division per trace hop, not per
// sample; integer sums and maxima, so the same result).
TD_HD void compressor_record_segment(const CompressorJob& job, CompressorState& st,
                                     const float* red_l, const float* red_r, float* trace,
                                     long long trace_hop_frames, long long origin,
                                     long long frames) {
  const long long first = job.song_begin > origin ? job.song_begin - origin : 0;
  const long long last = job.song_end - origin < frames ? job.song_end - origin : frames;
  const float scale = (float)(1.0 / kReductionQuantum);
  long long sum = 0;
  float most = st.reduction_max;
  for (long long n = first; n < last;) {
    const long long hop = (origin + n - job.song_begin) / trace_hop_frames;
    long long end = job.song_begin + (hop + 1) * trace_hop_frames - origin;
    end = end < last ? end : last;
    float t = trace[job.trace + hop];
    for (; n < end; ++n) {
      const float r = red_l[n] > red_r[n] ? red_l[n] : red_r[n];
      sum += (long long)(r * scale);
      most = r > most ? r : most;
      t = r > t ? r : t;
    }
    trace[job.trace + hop] = t;
  }
  st.reduction_sum_q += sum;
  st.reduction_max = most;
}

// The look-ahead ring after the segment, from the edge saved at the segment's end.
TD_HD void compressor_advance_ring(const CompressorJob& job, const float* last_edge, float* rings,
                                   long long origin, long long frames) {
  const long long L = job.lookahead;
  for (long long i = 0; i < L; ++i) {
    const long long k = (origin + frames - L + i + L) % L;
    rings[job.ring + k] = last_edge[i];
    rings[job.ring + L + k] = last_edge[L + i];
  }
}

}  // namespace td
