// The hop sums of a meter cut into chunks, for a level with too few meters to fill the
// machine (a session's master is one stereo job: on a GPU, one thread per channel would
// walk the whole segment). The K-weighting restarts every kMeterRestartHops hops from the
// state it reaches from rest over the warm-up hops before (meters.h, meter_hop_start), so
// the filter's state at a restart is a function of the samples just before it. A chunk
// that starts at a restart whose warm-up lies inside the segment therefore runs exactly
// the sequential meter's arithmetic from there on: no guess, no fix-up. Every hop is summed
// by one chunk in sample order; the last chunk hands on the channel's trailing state.
// The result is meter_channel_segment's bit for bit (tests/kernels/meter_chunks_test.cpp).
#pragma once
#include "meters.h"

namespace td {

struct MeterChunk {
  float peak;  // the chunk's sample peak
};

// The hops of a segment whose first hop already holds `in_hop` samples: hop j (j >= 0)
// starts at first + j hop_frames and has index base + j.
struct MeterHopGrid {
  long long first, base;
};

TD_HD MeterHopGrid meter_hop_grid(const MeterChannelState& st, long long hop_frames) {
  MeterHopGrid g;
  g.first = st.in_hop == 0 ? 0 : hop_frames - st.in_hop;
  g.base = st.hop + (st.in_hop > 0 ? 1 : 0);
  return g;
}

// The first restart hop a chunk may start at (its warm-up inside the segment), as a hop
// number j of the grid, and how many such restarts the segment holds.
TD_HD long long meter_first_restart(const KWeighting& k, const MeterChannelState& st,
                                    long long hop_frames) {
  const MeterHopGrid g = meter_hop_grid(st, hop_frames);
  const long long warm = k.warm_hops * hop_frames;
  long long j = warm > g.first ? (warm - g.first + hop_frames - 1) / hop_frames : 0;
  long long h = g.base + j;
  if (h < 1) h = 1;
  h = (h + kMeterRestartHops - 1) / kMeterRestartHops * kMeterRestartHops;
  return h - g.base;
}

TD_HD long long meter_restarts(const KWeighting& k, const MeterChannelState& st, long long frames,
                               long long hop_frames) {
  const MeterHopGrid g = meter_hop_grid(st, hop_frames);
  const long long start = g.first + meter_first_restart(k, st, hop_frames) * hop_frames;
  return start < frames ? (frames - 1 - start) / (kMeterRestartHops * hop_frames) + 1 : 0;
}

// The chunks one channel of `frames` samples is cut into: at most `count`, one more than the
// restarts it holds at most.
TD_HD int meter_chunks_of(const KWeighting& k, const MeterChannelState& st, int count,
                          long long frames, long long hop_frames) {
  const long long most = meter_restarts(k, st, frames, hop_frames) + 1;
  return count < 1 ? 1 : (int)(count < most ? count : most);
}

// Where chunk c of `count` starts (c == count: the segment's end); for c >= 1 also the
// hop index there.
TD_HD long long meter_chunk_begin(const KWeighting& k, const MeterChannelState& st,
                                  long long frames, long long hop_frames, int count, int c,
                                  long long* hop) {
  if (c <= 0) return 0;
  if (c >= count) return frames;
  const MeterHopGrid g = meter_hop_grid(st, hop_frames);
  const long long slots = meter_restarts(k, st, frames, hop_frames) + 1;
  const long long r = c * slots / count - 1;  // the restart chunk c starts at
  const long long j = meter_first_restart(k, st, hop_frames) + r * kMeterRestartHops;
  *hop = g.base + j;
  return g.first + j * hop_frames;
}

// Chunk c of one channel (channel 0 also sums the cross product with `other` and records
// each hop's length). The last chunk leaves the channel's trailing state in *trailing.
TD_HD void meter_channel_chunk(const float* x, const float* other, long long frames, int channel,
                               const KWeighting& k, long long hop_frames,
                               const MeterChannelState& st, int count, int c, MeterHop* hops,
                               MeterChunk* out, MeterChannelState* trailing) {
  long long hop = st.hop, next_hop = 0;
  const long long b = meter_chunk_begin(k, st, frames, hop_frames, count, c, &hop);
  const long long e = meter_chunk_begin(k, st, frames, hop_frames, count, c + 1, &next_hop);
  double kw[4], warm[4];
  double a_kw = 0.0, a_sq = 0.0, a_abs = 0.0, a_x = 0.0;
  int in_hop = 0;
  if (c == 0) {
    for (int i = 0; i < 4; ++i) kw[i] = st.kw[i], warm[i] = st.warm[i];
    a_kw = st.acc_kweighted, a_sq = st.acc_square, a_abs = st.acc_rectified;
    a_x = st.acc_cross, in_hop = st.in_hop;
  } else {
    // The restart's warm-up, from rest over the hops before it (inside the segment), its
    // state flushed at each of their starts as meter_hop_start does.
    for (int i = 0; i < 4; ++i) kw[i] = warm[i] = 0.0;
    for (int j = k.warm_hops; j > 0; --j) {
      for (int i = 0; i < 4; ++i) warm[i] = meter_flush(warm[i]);
      meter_warm_run(k, warm, x, b - j * hop_frames, b - (j - 1) * hop_frames);
    }
  }
  double s1 = kw[0], s2 = kw[1], h1 = kw[2], h2 = kw[3];
  float peak = 0.0f;
  for (long long n = b; n < e;) {
    if (in_hop == 0) {
      double v[4] = {s1, s2, h1, h2};
      meter_hop_start(k, hop, v, warm);
      s1 = v[0], s2 = v[1], h1 = v[2], h2 = v[3];
    }
    const long long room = hop_frames - in_hop;
    const long long take = e - n < room ? e - n : room;
    if (meter_warm_active(k, hop)) meter_warm_run(k, warm, x, n, n + take);
    for (long long i = n; i < n + take; ++i) {
      const float v = x[i];
      const double y = kweight_step(k, s1, s2, h1, h2, v);
      a_kw += y * y;
      a_sq += (double)v * v;
      a_abs += abs_of(v);
      peak = max_of(peak, abs_of(v));
      if (other) a_x += (double)v * other[i];
    }
    in_hop += (int)take;
    n += take;
    if (in_hop == hop_frames) {
      MeterHop& h = hops[hop++];
      h.kweighted[channel] = a_kw, h.square[channel] = a_sq, h.rectified[channel] = a_abs;
      if (channel == 0) h.cross = a_x, h.frames = in_hop;
      a_kw = a_sq = a_abs = a_x = 0.0;
      in_hop = 0;
    }
  }
  out->peak = peak;
  if (c == count - 1) {
    trailing->kw[0] = s1, trailing->kw[1] = s2, trailing->kw[2] = h1, trailing->kw[3] = h2;
    for (int i = 0; i < 4; ++i) trailing->warm[i] = warm[i];
    trailing->acc_kweighted = a_kw, trailing->acc_square = a_sq, trailing->acc_rectified = a_abs;
    trailing->acc_cross = channel == 0 ? a_x : 0.0;
    trailing->in_hop = in_hop;
    trailing->hop = hop;
  }
}

// After every chunk of one channel: its state after the segment (the last chunk's trailing
// state, the peak over all chunks, and the history the next true-peak stage reads).
TD_HD void meter_channel_finish(const float* x, long long frames, MeterChannelState& st, int count,
                                const MeterChunk* chunks, const MeterChannelState& trailing) {
  float peak = st.sample_peak;
  for (int c = 0; c < count; ++c) peak = max_of(peak, chunks[c].peak);
  float h[kTruePeakHistory];
  for (int i = 0; i < kTruePeakHistory; ++i) {
    const long long src = frames - kTruePeakHistory + i;
    h[i] = src >= 0 ? x[src] : st.history[i + (int)frames];
  }
  for (int i = 0; i < kTruePeakHistory; ++i) st.history[i] = h[i];
  for (int i = 0; i < 4; ++i) st.kw[i] = trailing.kw[i], st.warm[i] = trailing.warm[i];
  st.acc_kweighted = trailing.acc_kweighted, st.acc_square = trailing.acc_square;
  st.acc_rectified = trailing.acc_rectified, st.acc_cross = trailing.acc_cross;
  st.in_hop = trailing.in_hop;
  st.hop = trailing.hop;
  st.sample_peak = peak;
}

// One channel of a job as its own task (used when a level has fewer jobs than threads, so
// both channels of a lone master run at once): the one-chunk case. Exactly the arithmetic
// of one lane of meter_lanes_segment, so either way gives the same bits (meters_test);
// channel 0 also sums the cross product with `other` (the right channel) and records the
// hop's length.
TD_HD void meter_channel_segment(const float* x, const float* other, long long frames, int c,
                                 const KWeighting& k, long long hop_frames, MeterChannelState& st,
                                 MeterHop* hops) {
  MeterChunk out;
  MeterChannelState trailing = st;
  meter_channel_chunk(x, other, frames, c, k, hop_frames, st, 1, 0, hops, &out, &trailing);
  meter_channel_finish(x, frames, st, 1, &out, trailing);
}

}  // namespace td
