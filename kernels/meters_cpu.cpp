// CPU launchers of the meters and the peak holds (kernels/meters.h, true_peak.h): true
// peaks in parallel chunks, the hop sums with up to four stereo jobs side by side.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "cpu_chunks.h"
#include "meter_chunks.h"
#include "stages.h"

// Compiled for AVX-512, AVX2 and the baseline, with the TD_HD bodies they call inlined
// into each clone (GCC's flatten: an out-of-line body would run at the baseline's width).
// clang refuses flatten beside target_clones; its build (the fuzzers) only needs to run.
#if defined(__clang__)
#define TD_CLONES_INLINED __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define TD_CLONES_INLINED \
  __attribute__((flatten, target_clones("arch=x86-64-v4", "avx2", "default")))
#endif

namespace td {
namespace cpu {

namespace {

// GCC vectors for the lanes of J jobs: one job's 2 channels in 2 doubles, up to 4 jobs'
// in 8 (one AVX-512 register; its fixed latency is the wider vector's cost).
template <int L>
struct MeterLanes {
  static_assert(L > 2 && L <= 8, "up to 4 stereo jobs");
  typedef double Doubles __attribute__((vector_size(8 * sizeof(double))));
  typedef float Floats __attribute__((vector_size(8 * sizeof(float))));
};
template <>
struct MeterLanes<4> {
  typedef double Doubles __attribute__((vector_size(4 * sizeof(double))));
  typedef float Floats __attribute__((vector_size(4 * sizeof(float))));
};
template <>
struct MeterLanes<2> {
  typedef double Doubles __attribute__((vector_size(2 * sizeof(double))));
  typedef float Floats __attribute__((vector_size(2 * sizeof(float))));
};

// J stereo meter jobs side by side, their 2 J channels as independent lanes of one loop:
// the K-weighting is a recurrence whose latency bounds one channel, and 2 J chains in
// flight hide it. Each lane's arithmetic is meter_lanes_segment's, in the same order, and
// each job keeps its own hop phase: the same bits as one job at a time. The jobs advance
// together over the frames they all have; a job with more (near the song's end) finishes
// alone.
template <int J>
void meter_jobs_segment(const StreamArena& a, const MeterJob* const* group, const KWeighting& k,
                        long long hop_frames, MeterState* states, MeterHop* hops,
                        long long hops_per_state) {
  constexpr int L = 2 * J;
  const float* x[L];
  // The lanes' state in GCC vectors (MeterLanes): written as arrays, GCC vectorised 6
  // lanes as a mix of narrow and scalar code with spills. Lanes past L (3 jobs in 8) run
  // zeros and are dropped; each lane's operations are the scalar loop's.
  typedef typename MeterLanes<L>::Doubles Lanes;
  typedef typename MeterLanes<L>::Floats LaneFloats;
  Lanes s1 = {}, s2 = {}, h1 = {}, h2 = {}, a_kw = {}, a_sq = {}, a_abs = {};
  LaneFloats peak = {};
  double a_x[J];
  int in_hop[J];
  long long hop[J], frames[J];
  long long common = 1LL << 62;
  for (int j = 0; j < J; ++j) {
    const MeterJob& job = *group[j];
    const MeterState& st = states[job.state];
    frames[j] = meter_frames(a.origin, a.frames, job.end);
    common = std::min(common, frames[j]);
    for (int c = 0; c < 2; ++c) {
      const int l = 2 * j + c;
      const MeterChannelState& ch = st.channel[c];
      x[l] = a.stream(c ? job.right : job.left);
      s1[l] = ch.kw[0], s2[l] = ch.kw[1], h1[l] = ch.kw[2], h2[l] = ch.kw[3];
      a_kw[l] = ch.acc_kweighted, a_sq[l] = ch.acc_square, a_abs[l] = ch.acc_rectified;
      peak[l] = ch.sample_peak;
    }
    a_x[j] = st.channel[0].acc_cross;
    in_hop[j] = st.channel[0].in_hop;
    hop[j] = st.channel[0].hop;
  }
  long long n = 0;
  while (n < common) {
    for (int j = 0; j < J; ++j) {
      if (in_hop[j] != 0) continue;
      for (int c = 0; c < 2; ++c) {
        const int l = 2 * j + c;
        double kw[4] = {s1[l], s2[l], h1[l], h2[l]};
        meter_hop_start(k, hop[j], kw, states[group[j]->state].channel[c].warm);
        s1[l] = kw[0], s2[l] = kw[1], h1[l] = kw[2], h2[l] = kw[3];
      }
    }
    long long take = common - n;
    for (int j = 0; j < J; ++j) take = std::min(take, hop_frames - in_hop[j]);
    for (int j = 0; j < J; ++j)  // the warm-ups before a restart, beside the lanes
      if (meter_warm_active(k, hop[j]))
        for (int c = 0; c < 2; ++c)
          meter_warm_run(k, states[group[j]->state].channel[c].warm, x[2 * j + c], n, n + take);
    for (long long i = n; i < n + take; ++i) {
      LaneFloats v = {};
      for (int l = 0; l < L; ++l) v[l] = x[l][i];
      const Lanes d = __builtin_convertvector(v, Lanes);
      const Lanes y = kweight_step(k, s1, s2, h1, h2, d);
      a_kw += y * y;
      a_sq += d * d;
      const LaneFloats mag = v < 0.0f ? -v : v;  // abs_of
      a_abs += __builtin_convertvector(mag, Lanes);
      peak = peak > mag ? peak : mag;  // max_of(peak, |v|)
      for (int j = 0; j < J; ++j) a_x[j] += d[2 * j] * d[2 * j + 1];
    }
    n += take;
    for (int j = 0; j < J; ++j) {
      in_hop[j] += (int)take;
      if (in_hop[j] != hop_frames) continue;
      MeterHop& h = hops[group[j]->state * hops_per_state + hop[j]++];
      for (int c = 0; c < 2; ++c) {
        const int l = 2 * j + c;
        h.kweighted[c] = a_kw[l], h.square[c] = a_sq[l], h.rectified[c] = a_abs[l];
        a_kw[l] = a_sq[l] = a_abs[l] = 0.0;
      }
      h.cross = a_x[j];
      h.frames = in_hop[j];
      a_x[j] = 0.0;
      in_hop[j] = 0;
    }
  }
  for (int j = 0; j < J; ++j) {
    MeterState& st = states[group[j]->state];
    for (int c = 0; c < 2; ++c) {
      const int l = 2 * j + c;
      MeterChannelState& ch = st.channel[c];
      ch.kw[0] = s1[l], ch.kw[1] = s2[l], ch.kw[2] = h1[l], ch.kw[3] = h2[l];
      ch.acc_kweighted = a_kw[l], ch.acc_square = a_sq[l], ch.acc_rectified = a_abs[l];
      ch.acc_cross = c == 0 ? a_x[j] : 0.0;
      ch.sample_peak = peak[l];
      ch.in_hop = in_hop[j];
      ch.hop = hop[j];
      // The history the next segment's true-peak stage reads (meter_lanes_segment's).
      float h[kTruePeakHistory];
      for (int i = 0; i < kTruePeakHistory; ++i) {
        const long long src = common - kTruePeakHistory + i;
        h[i] = src >= 0 ? x[l][src] : ch.history[i + (int)common];
      }
      for (int i = 0; i < kTruePeakHistory; ++i) ch.history[i] = h[i];
    }
    if (frames[j] > common)  // the rest of a longer job, alone
      meter_segment(x[2 * j] + common, x[2 * j + 1] + common, 2, frames[j] - common, k, hop_frames,
                    st, hops + group[j]->state * hops_per_state);
  }
}

// meter_jobs_segment for 1 .. 4 jobs, compiled for AVX-512, AVX2 and the baseline (no FMA
// contraction: the same bits in each): the 2 J lanes' double biquads in wide registers.
#define TD_METER_JOBS(J)                                                                    \
  TD_CLONES_INLINED void meter_jobs##J(                                                     \
      const StreamArena& a, const MeterJob* const* group, const KWeighting& k,              \
      long long hop_frames, MeterState* states, MeterHop* hops, long long hops_per_state) { \
    meter_jobs_segment<J>(a, group, k, hop_frames, states, hops, hops_per_state);           \
  }
TD_METER_JOBS(1)
TD_METER_JOBS(2)
TD_METER_JOBS(3)
TD_METER_JOBS(4)
#undef TD_METER_JOBS

// The pruned true peak of one chunk, compiled for AVX-512, AVX2 and the baseline (no FMA
// contraction in any: the same bits), so that true_peak_block4's 16 outputs are one
// register.
TD_CLONES_INLINED float true_peak_chunk(const TruePeakInput& in, const TruePeakFilter& f,
                                        float bound, long long begin, long long end, float floor) {
  return true_peak_range_pruned(in, f, bound, begin, end, floor);
}

// sample_peak_range compiled for AVX-512, AVX2 and the baseline (a max is exact in any
// width): the sample peaks of the meters and the pre-chain peak holds.
TD_CLONES_INLINED float peak_of(const float* x, long long begin, long long end) {
  return sample_peak_range(x, begin, end);
}

}  // namespace

void meters(const StreamArena& a, const MeterJob* jobs, int job_count, const KWeighting& k,
            const TruePeakFilter& f, long long hop_frames, bool last_segment, MeterState* states,
            MeterHop* hops, long long hops_per_state) {
  // True peaks first: they read the history the hop stage then replaces. On the song's
  // last segment the filter's tail after the last sample is included.
  const long long span = a.frames + (last_segment ? kTruePeakHistory : 0);
  const long long chunks = (span + kChunk - 1) / kChunk;
  const long long tasks = (long long)job_count * 2 * chunks;
  std::vector<float> part(tasks, 0.0f);
  // The floor: the true peak so far and this segment's sample peak.
#pragma omp parallel for schedule(static)
  for (long long t = 0; t < tasks; ++t) {
    const MeterJob& job = jobs[t / (2 * chunks)];
    const int c = (int)((t / chunks) % 2);
    if (c >= job.channels) continue;
    const long long begin = (t % chunks) * kChunk, end = std::min(a.frames, begin + kChunk);
    part[t] = begin < end ? peak_of(a.stream(c ? job.right : job.left), begin, end) : 0.0f;
  }
  for (long long t = 0; t < tasks; ++t) {
    MeterChannelState& st = states[jobs[t / (2 * chunks)].state].channel[(t / chunks) % 2];
    if (t % chunks == 0) st.floor = st.true_peak;
    st.floor = max_of(st.floor, part[t]);
  }
  const float bound = true_peak_gain_bound(f);
#pragma omp parallel for schedule(dynamic, 2)
  for (long long t = 0; t < tasks; ++t) {
    const MeterJob& job = jobs[t / (2 * chunks)];
    const int c = (int)((t / chunks) % 2);
    part[t] = 0.0f;
    if (c >= job.channels) continue;
    const long long begin = (t % chunks) * kChunk, end = std::min(span, begin + kChunk);
    const MeterChannelState& st = states[job.state].channel[c];
    const TruePeakInput in{a.stream(c ? job.right : job.left), a.frames, st.history};
    part[t] = true_peak_chunk(in, f, bound, begin, end, st.floor);
  }
  for (long long t = 0; t < tasks; ++t) {
    MeterChannelState& st = states[jobs[t / (2 * chunks)].state].channel[(t / chunks) % 2];
    st.true_peak = max_of(st.true_peak, max_of(st.floor, part[t]));
  }
  // The hop sums (a recurrence): tasks of up to 4 jobs with their channels in SIMD lanes,
  // or, when the level has too few jobs to occupy the threads that way (fewer than a
  // quarter of them: a lone master on 8 threads or more), each channel cut into chunks.
  // Same bits either way. A task of one stereo job (a master on 2 cores) takes about half
  // the time the two channels' scalar chunks take on two threads.
  const int threads = omp_get_max_threads();
  if (4 * job_count >= threads) {
    // Stereo jobs in groups of up to 4 (meter_jobs_segment), as many groups as threads or
    // more; mono jobs alone.
    std::vector<const MeterJob*> stereo, mono;
    for (int j = 0; j < job_count; ++j) (jobs[j].channels == 2 ? stereo : mono).push_back(&jobs[j]);
    const int per = std::clamp(((int)stereo.size() + threads - 1) / threads, 1, 4);
    const int groups = ((int)stereo.size() + per - 1) / per;
    const int tasks = groups + (int)mono.size();
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < tasks; ++t) {
      if (t >= groups) {
        const MeterJob& job = *mono[t - groups];
        meter_segment(a.stream(job.left), a.stream(job.right), 1,
                      meter_frames(a.origin, a.frames, job.end), k, hop_frames, states[job.state],
                      hops + job.state * hops_per_state);
        continue;
      }
      const MeterJob* const* g = stereo.data() + t * per;
      const int n = std::min(per, (int)stereo.size() - t * per);
      if (n == 4)
        meter_jobs4(a, g, k, hop_frames, states, hops, hops_per_state);
      else if (n == 3)
        meter_jobs3(a, g, k, hop_frames, states, hops, hops_per_state);
      else if (n == 2)
        meter_jobs2(a, g, k, hop_frames, states, hops, hops_per_state);
      else
        meter_jobs1(a, g, k, hop_frames, states, hops, hops_per_state);
    }
  } else {
    // Fewer channels than threads: each channel cut into chunks at the K-weighting's
    // restarts (meter_chunks.h), one task per (job, channel, chunk); the same bits.
    const int want = (threads + 2 * job_count - 1) / (2 * job_count);
    const int tasks = 2 * job_count * want;
    std::vector<MeterChunk> out((size_t)tasks);
    std::vector<MeterChannelState> trailing((size_t)2 * job_count);
    auto count_of = [&](int job, int c) {
      return meter_chunks_of(k, states[jobs[job].state].channel[c], want,
                             meter_frames(a.origin, a.frames, jobs[job].end), hop_frames);
    };
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < tasks; ++t) {
      const int j = t / (2 * want), c = (t / want) % 2, chunk = t % want;
      const MeterJob& job = jobs[j];
      if (c >= job.channels || chunk >= count_of(j, c)) continue;
      const float* x = a.stream(c ? job.right : job.left);
      const float* other = (c == 0 && job.channels == 2) ? a.stream(job.right) : nullptr;
      meter_channel_chunk(x, other, meter_frames(a.origin, a.frames, job.end), c, k, hop_frames,
                          states[job.state].channel[c], count_of(j, c), chunk,
                          hops + job.state * hops_per_state, &out[(size_t)t],
                          &trailing[(size_t)(2 * j + c)]);
    }
    for (int t = 0; t < 2 * job_count; ++t) {
      const MeterJob& job = jobs[t / 2];
      const int c = t % 2;
      if (c >= job.channels) continue;
      const int count = count_of(t / 2, c);
      meter_channel_finish(a.stream(c ? job.right : job.left),
                           meter_frames(a.origin, a.frames, job.end), states[job.state].channel[c],
                           count, &out[(size_t)t * want], trailing[(size_t)t]);
    }
  }
}

void peak_hold(const StreamArena& a, const PeakJob* jobs, int job_count, float* peaks) {
  const long long chunks = chunks_of(a.frames);
  std::vector<float> partial((size_t)job_count * chunks);
#pragma omp parallel for schedule(dynamic, 4)
  for (long long t = 0; t < (long long)job_count * chunks; ++t) {
    const PeakJob& job = jobs[t / chunks];
    long long b, e;
    job_range(a.origin, a.frames, job.begin, job.end, b, e);
    const long long begin = std::max(b, (t % chunks) * kChunk);
    const long long end = std::min(e, (t % chunks) * kChunk + kChunk);
    partial[t] = begin < end ? peak_of(a.stream(job.stream), begin, end) : 0.0f;
  }
  for (long long t = 0; t < (long long)job_count * chunks; ++t)
    peaks[jobs[t / chunks].slot] = max_of(peaks[jobs[t / chunks].slot], partial[t]);
}

}  // namespace cpu
}  // namespace td
