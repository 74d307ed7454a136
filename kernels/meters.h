// The meters' per-sample work, advanced segment by segment with carried state: K-weighted,
// plain and rectified energies and the left-right cross product, summed per 10 ms hop,
// plus sample peaks. Everything the host reports (momentary, short-term, integrated
// loudness, LRA, RMS, crest factor, correlation, VU) is computed from these hop sums;
// the true peak runs as its own chunk-parallel stage (true_peak.h) on the same segments.
#pragma once
#include "loudness.h"
#include "td_hd.h"
#include "true_peak.h"

namespace td {

// One metered node instance: a stereo pair (or one channel when channels == 1).
struct MeterJob {
  int left, right;
  int channels;
  int state;  // index of its MeterState and of its row of hops
  // The stream positions that are the song: [begin, end). begin is the stream's lag
  // behind the song (latency compensation, render/launch.h); end = begin + the song's
  // length (a session rendered in one launch with longer ones ends before the arena does).
  // The launcher is handed just that part of each segment (Backend::meters).
  long long begin, end;
};

// The samples of a segment starting at `origin` that belong to a job ending at `end`.
TD_HD long long meter_frames(long long origin, long long frames, long long end) {
  const long long n = end - origin;
  return n < 0 ? 0 : (n < frames ? n : frames);
}

// Sums over one 10 ms hop.
struct MeterHop {
  double kweighted[2];  // sum of squares of the K-weighted signal (BS.1770-4)
  double square[2];     // sum of squares (RMS)
  double rectified[2];  // sum of |x| (VU)
  double cross;         // sum of left * right (correlation)
  int frames;           // samples in the hop (the song's last hop may be short)
};

// One channel's meter state.
struct MeterChannelState {
  double kw[4];    // K-weighting biquad states (loudness.h)
  double warm[4];  // the same filter run from rest towards the next restart (see below)
  double acc_kweighted, acc_square, acc_rectified;  // the hop being summed
  double acc_cross;                                 // channel 0 only: left * right
  int in_hop;                                       // samples in it so far
  long long hop;                                    // its index
  float history[kTruePeakHistory];                  // the last samples of the previous segment
  float sample_peak;
  float true_peak;
  // The true peak is at least every sample (the interpolator's phase 0 returns them), so
  // max(true_peak, this segment's sample peak) is a floor the search starts from.
  float floor;
};

struct MeterState {
  MeterChannelState channel[2];
};

// The K-weighting restarts (loudness.h): at the start of every kMeterRestartHops-th hop of
// the song the biquads take the state `warm`, which the same filter reached from rest over
// the k.warm_hops hops before it. The difference from running on is below a double's
// resolution (48 time constants of its slowest pole), and it makes the state at a restart
// a function of the samples just before it: a chunk of the song that starts at a restart
// computes exactly what the whole song's run does (meter_chunks.h). Called at the start of
// each hop; applying it twice before the hop's first sample changes nothing.
//
// It also sets states under 1e-100 to zero (meter_flush): over silence the shelf's states
// decay into the subnormal range within a tenth of a second and stay there, held by
// rounding (a limit cycle of the smallest subnormals) until the next restart, and every
// operation on a subnormal takes a microcode assist: a mostly silent stem's meter ran 3.5
// times as long as a dense one's. A state of 1e-100 adds 1e-100 to the output, 2000 dB down; and
// one above it at a hop's start shrinks at most 3e32-fold over the hop (the shelf's faster poles,
// at any rate), so the states, outputs and their squares stay clear of the subnormals until the
// next flush. All paths flush at the same hop starts (the chunks' up-front warm-ups too), so the
// flush is part of the arithmetic they share, bit for bit, CPU or GPU.
TD_HD double meter_flush(double v) {
  return v < 1e-100 && v > -1e-100 ? 0.0 : v;
}
TD_HD void meter_hop_start(const KWeighting& k, long long hop, double* kw, double* warm) {
  for (int i = 0; i < 4; ++i) kw[i] = meter_flush(kw[i]), warm[i] = meter_flush(warm[i]);
  const long long q = hop % kMeterRestartHops;
  if (hop > 0 && q == 0)
    for (int i = 0; i < 4; ++i) kw[i] = warm[i];
  if (q == kMeterRestartHops - k.warm_hops)
    for (int i = 0; i < 4; ++i) warm[i] = 0.0;
}

// Whether hop `hop` runs the warm-up filter too.
TD_HD bool meter_warm_active(const KWeighting& k, long long hop) {
  return hop % kMeterRestartHops >= kMeterRestartHops - k.warm_hops;
}

// The warm-up filter over x[begin .. end).
TD_HD void meter_warm_run(const KWeighting& k, double* w, const float* x, long long begin,
                          long long end) {
  double s1 = w[0], s2 = w[1], h1 = w[2], h2 = w[3];
  for (long long i = begin; i < end; ++i) kweight_step(k, s1, s2, h1, h2, x[i]);
  w[0] = s1, w[1] = s2, w[2] = h1, w[3] = h2;
}

// Advances a job's channels over one segment, writing every completed hop. The channels
// run as SIMD lanes of one loop (the same arithmetic per lane as a scalar loop would do),
// and the sums run in sample order into the carried accumulators whatever the segment
// length, so results do not depend on how the song is split (tests check it). A
// recurrence: one CPU task or GPU thread per job.
template <int Channels>
TD_HD void meter_lanes_segment(const float* const* x, long long frames, const KWeighting& k,
                               long long hop_frames, MeterState& state, MeterHop* hops) {
  double s1[Channels], s2[Channels], h1[Channels], h2[Channels];
  double a_kw[Channels], a_sq[Channels], a_abs[Channels];
  float peak[Channels];
  for (int c = 0; c < Channels; ++c) {
    const MeterChannelState& st = state.channel[c];
    s1[c] = st.kw[0], s2[c] = st.kw[1], h1[c] = st.kw[2], h2[c] = st.kw[3];
    a_kw[c] = st.acc_kweighted, a_sq[c] = st.acc_square, a_abs[c] = st.acc_rectified;
    peak[c] = st.sample_peak;
  }
  double a_x = state.channel[0].acc_cross;
  int in_hop = state.channel[0].in_hop;
  long long hop = state.channel[0].hop;
  long long n = 0;
  while (n < frames) {
    if (in_hop == 0)
      for (int c = 0; c < Channels; ++c) {
        double kw[4] = {s1[c], s2[c], h1[c], h2[c]};
        meter_hop_start(k, hop, kw, state.channel[c].warm);
        s1[c] = kw[0], s2[c] = kw[1], h1[c] = kw[2], h2[c] = kw[3];
      }
    const long long room = hop_frames - in_hop;
    const long long take = frames - n < room ? frames - n : room;
    if (meter_warm_active(k, hop))
      for (int c = 0; c < Channels; ++c)
        meter_warm_run(k, state.channel[c].warm, x[c], n, n + take);
    for (long long i = n; i < n + take; ++i) {
      float v[Channels];
      for (int c = 0; c < Channels; ++c) v[c] = x[c][i];
      for (int c = 0; c < Channels; ++c) {
        const double y = kweight_step(k, s1[c], s2[c], h1[c], h2[c], v[c]);
        a_kw[c] += y * y;
        a_sq[c] += (double)v[c] * v[c];
        a_abs[c] += abs_of(v[c]);
        peak[c] = max_of(peak[c], abs_of(v[c]));
      }
      if (Channels == 2) a_x += (double)v[0] * v[Channels - 1];
    }
    in_hop += (int)take;
    n += take;
    if (in_hop == hop_frames) {
      MeterHop& h = hops[hop++];
      for (int c = 0; c < Channels; ++c) {
        h.kweighted[c] = a_kw[c], h.square[c] = a_sq[c], h.rectified[c] = a_abs[c];
        a_kw[c] = a_sq[c] = a_abs[c] = 0.0;
      }
      h.cross = a_x;
      h.frames = in_hop;
      a_x = 0.0;
      in_hop = 0;
    }
  }
  for (int c = 0; c < Channels; ++c) {
    MeterChannelState& st = state.channel[c];
    st.kw[0] = s1[c], st.kw[1] = s2[c], st.kw[2] = h1[c], st.kw[3] = h2[c];
    st.acc_kweighted = a_kw[c], st.acc_square = a_sq[c], st.acc_rectified = a_abs[c];
    st.acc_cross = c == 0 ? a_x : 0.0;
    st.sample_peak = peak[c];
    st.in_hop = in_hop;
    st.hop = hop;
    // The history the next segment's true-peak stage reads.
    float h[kTruePeakHistory];
    for (int i = 0; i < kTruePeakHistory; ++i) {
      const long long src = frames - kTruePeakHistory + i;
      h[i] = src >= 0 ? x[c][src] : st.history[i + (int)frames];
    }
    for (int i = 0; i < kTruePeakHistory; ++i) st.history[i] = h[i];
  }
}

TD_HD void meter_segment(const float* left, const float* right, int channels, long long frames,
                         const KWeighting& k, long long hop_frames, MeterState& state,
                         MeterHop* hops) {
  const float* x[2] = {left, right};
  if (channels == 2)
    meter_lanes_segment<2>(x, frames, k, hop_frames, state, hops);
  else
    meter_lanes_segment<1>(x, frames, k, hop_frames, state, hops);
}

// After the last segment: a partial hop, if any, becomes the last hop.
TD_HD void meter_finish(MeterState& st, MeterHop* hops, int channels) {
  const int frames = st.channel[0].in_hop;
  if (frames == 0) return;
  MeterHop& h = hops[st.channel[0].hop];
  for (int c = 0; c < channels; ++c) {
    MeterChannelState& ch = st.channel[c];
    h.kweighted[c] = ch.acc_kweighted;
    h.square[c] = ch.acc_square;
    h.rectified[c] = ch.acc_rectified;
    ch.in_hop = 0;
    ++ch.hop;
  }
  h.cross = st.channel[0].acc_cross;
  h.frames = frames;
}

// A sample-peak hold on one stream (a bus's pre-chain level, for gain staging).
struct PeakJob {
  int stream;
  int slot;              // index into the peak-hold array
  long long begin, end;  // the stream positions that are the song (see MeterJob)
};

// The part [b, e) of a segment at `origin` of `frames` samples inside [begin, end).
TD_HD void job_range(long long origin, long long frames, long long begin, long long end,
                     long long& b, long long& e) {
  b = begin - origin;
  e = end - origin;
  b = b < 0 ? 0 : (b > frames ? frames : b);
  e = e < b ? b : (e > frames ? frames : e);
}

TD_HD float sample_peak_range(const float* x, long long begin, long long end) {
  unsigned m = 0;  // an integer max over the |x| bits (abs_bits): vectorised, any order
  for (long long n = begin; n < end; ++n) m = max_bits(m, abs_bits(x[n]));
  return float_of_bits(m);
}

}  // namespace td
