// CPU launchers of the batched stages: OpenMP threads over (job, chunk) pairs, with the
// per-sample loop left simple enough for the compiler to vectorise. Each output sample is
// written by exactly one iteration and every reduction runs in a fixed order, so results
// do not depend on the thread count.
#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "fft.h"
#include "stages.h"

namespace td {
namespace cpu {
namespace {

constexpr long long kChunk = 1 << 15;  // samples per task: big enough to amortise, small
                                       // enough to balance a few long streams on 2+ cores

long long chunks_of(long long frames) {
  return (frames + kChunk - 1) / kChunk;
}

}  // namespace

void track_input(const StreamArena& a, const TrackInputJob* jobs, int job_count,
                 const Breakpoint* points) {
  const long long chunks = chunks_of(a.frames);
  const long long tasks = chunks * job_count;
#pragma omp parallel for schedule(dynamic, 4)
  for (long long t = 0; t < tasks; ++t) {
    const TrackInputJob& job = jobs[t / chunks];
    const long long begin = (t % chunks) * kChunk, end = std::min(a.frames, begin + kChunk);
    const float* in_l = a.stream(job.src_left) + begin;
    const float* in_r = a.stream(job.src_right) + begin;
    float* out_l = a.stream(job.dst_left) + begin;
    float* out_r = a.stream(job.dst_right) + begin;
    const long long len = end - begin;
    const double origin = (double)(a.origin + begin);
    if (job.pan_env_count == 0) {
      // Values that do not change within the job are computed once (the same functions
      // as per sample, so the same numbers): the pan gains always, the clip gain too when
      // it is not automated.
      const StereoGains p = track_pan_gains(job, points, origin);
      if (job.gain_env_count == 0) {
        const float g = track_gain(job, points, origin);
        const float gl = g * p.left, gr = g * p.right;
        for (long long i = 0; i < len; ++i) {
          const float l = in_l[i], r = in_r[i];
          out_l[i] = gl * l;
          out_r[i] = gr * r;
        }
      } else {
        for (long long i = 0; i < len; ++i) {
          const float g = track_gain(job, points, origin + i);
          const float l = in_l[i], r = in_r[i];
          out_l[i] = (g * p.left) * l;
          out_r[i] = (g * p.right) * r;
        }
      }
    } else {
      for (long long i = 0; i < len; ++i) {
        const StereoGains g = track_input_gains(job, points, origin + i);
        const float l = in_l[i], r = in_r[i];
        out_l[i] = g.left * l;
        out_r[i] = g.right * r;
      }
    }
  }
}

void sum(const StreamArena& a, const SumJob* jobs, int job_count, const SumTerm* terms) {
  const long long chunks = chunks_of(a.frames);
  const long long tasks = chunks * job_count;
#pragma omp parallel for schedule(dynamic, 4)
  for (long long t = 0; t < tasks; ++t) {
    const SumJob& job = jobs[t / chunks];
    const long long begin = (t % chunks) * kChunk, end = std::min(a.frames, begin + kChunk);
    float* out_l = a.stream(job.dst_left) + begin;
    float* out_r = a.stream(job.dst_right) + begin;
    const long long len = end - begin;
    std::fill(out_l, out_l + len, 0.0f);
    std::fill(out_r, out_r + len, 0.0f);
    // Term by term over a chunk that stays in cache: each input is read once for both
    // outputs, and the additions happen in the same order for every sample and run (the
    // CUDA kernel adds in the same order).
    for (int k = 0; k < job.term_count; ++k) {
      const SumTerm& term = terms[job.term_offset + k];
      const float* in = a.stream(term.stream) + begin;
      const float gl = term.gain_left, gr = term.gain_right;
      if (gr == 0.0f) {
        for (long long i = 0; i < len; ++i) out_l[i] += gl * in[i];
      } else if (gl == 0.0f) {
        for (long long i = 0; i < len; ++i) out_r[i] += gr * in[i];
      } else {
        for (long long i = 0; i < len; ++i) {
          out_l[i] += gl * in[i];
          out_r[i] += gr * in[i];
        }
      }
    }
  }
}

void gain(const StreamArena& a, const GainJob* jobs, int job_count) {
  const long long chunks = chunks_of(a.frames);
  const long long tasks = chunks * job_count;
#pragma omp parallel for schedule(dynamic, 4)
  for (long long t = 0; t < tasks; ++t) {
    const GainJob& job = jobs[t / chunks];
    if (job.gain == 1.0f) continue;
    const long long begin = (t % chunks) * kChunk, end = std::min(a.frames, begin + kChunk);
    float* x = a.stream(job.stream);
    const float g = job.gain;
    for (long long i = begin; i < end; ++i) x[i] *= g;
  }
}

namespace {

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
  double s1[L], s2[L], h1[L], h2[L], a_kw[L], a_sq[L], a_abs[L];
  float peak[L];
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
    long long take = common - n;
    for (int j = 0; j < J; ++j) take = std::min(take, hop_frames - in_hop[j]);
    for (long long i = n; i < n + take; ++i) {
      float v[L];
      for (int l = 0; l < L; ++l) v[l] = x[l][i];
      for (int l = 0; l < L; ++l) {
        const double y = kweight_step(k, s1[l], s2[l], h1[l], h2[l], v[l]);
        a_kw[l] += y * y;
        a_sq[l] += (double)v[l] * v[l];
        a_abs[l] += abs_of(v[l]);
        peak[l] = max_of(peak[l], abs_of(v[l]));
      }
      for (int j = 0; j < J; ++j) a_x[j] += (double)v[2 * j] * v[2 * j + 1];
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
    part[t] =
        begin < end ? sample_peak_range(a.stream(c ? job.right : job.left), begin, end) : 0.0f;
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
    part[t] = true_peak_range_pruned(in, f, bound, begin, end, st.floor);
  }
  for (long long t = 0; t < tasks; ++t) {
    MeterChannelState& st = states[jobs[t / (2 * chunks)].state].channel[(t / chunks) % 2];
    st.true_peak = max_of(st.true_peak, max_of(st.floor, part[t]));
  }
  // The hop sums (a recurrence): one task per job with its channels in SIMD lanes, or,
  // when the level has fewer jobs than threads, one task per channel. Same bits either way.
  const int threads = omp_get_max_threads();
  if (job_count >= threads) {
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
        meter_jobs_segment<4>(a, g, k, hop_frames, states, hops, hops_per_state);
      else if (n == 3)
        meter_jobs_segment<3>(a, g, k, hop_frames, states, hops, hops_per_state);
      else if (n == 2)
        meter_jobs_segment<2>(a, g, k, hop_frames, states, hops, hops_per_state);
      else
        meter_jobs_segment<1>(a, g, k, hop_frames, states, hops, hops_per_state);
    }
  } else {
#pragma omp parallel for schedule(dynamic, 1)
    for (int t = 0; t < 2 * job_count; ++t) {
      const MeterJob& job = jobs[t / 2];
      const int c = t % 2;
      if (c >= job.channels) continue;
      const float* x = a.stream(c ? job.right : job.left);
      const float* other = (c == 0 && job.channels == 2) ? a.stream(job.right) : nullptr;
      meter_channel_segment(x, other, meter_frames(a.origin, a.frames, job.end), c, k, hop_frames,
                            states[job.state].channel[c], hops + job.state * hops_per_state);
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
    partial[t] = begin < end ? sample_peak_range(a.stream(job.stream), begin, end) : 0.0f;
  }
  for (long long t = 0; t < (long long)job_count * chunks; ++t)
    peaks[jobs[t / chunks].slot] = max_of(peaks[jobs[t / chunks].slot], partial[t]);
}

void fir(const StreamArena& a, const FirJob* jobs, int job_count, int fft_size, int taps, int hop,
         const float* spectra, float* states) {
  const long long fill = a.origin % hop;
  const long long pending_len = taps - 1 + fill;
  const long long blocks = (fill + a.frames) / hop;
  const int bins = fft_size / 2 + 1;
  const FftPlanPair& plans = fft_plans(fft_size);
  // The transformed blocks' outputs, hop samples each: kept between calls (a launch calls
  // this every segment), so its pages are not faulted in and zeroed every time. The
  // caller's thread owns it; the parallel regions below share it through `y`.
  thread_local std::vector<float> y_store;
  if (y_store.size() < (size_t)job_count * blocks * hop)
    y_store.resize((size_t)job_count * blocks * hop);
  float* const y = y_store.data();
#pragma omp parallel
  {
    float* x = fftwf_alloc_real((size_t)fft_size);
    fftwf_complex* c = fftwf_alloc_complex((size_t)bins);
#pragma omp for schedule(dynamic, 1)
    for (long long t = 0; t < (long long)job_count * blocks; ++t) {
      const FirJob& job = jobs[t / blocks];
      const long long b = t % blocks;
      const float* pending = states + job.state;
      const float* in = a.stream(job.stream);
      // V[b hop .. b hop + fft_size): fir_virtual, as two copies.
      const long long from_pending = std::clamp<long long>(pending_len - b * hop, 0, fft_size);
      if (from_pending > 0) std::copy(pending + b * hop, pending + b * hop + from_pending, x);
      std::copy(in + (b * hop + from_pending - pending_len),
                in + (b * hop + fft_size - pending_len), x + from_pending);
      fftwf_execute_dft_r2c(static_cast<fftwf_plan>(plans.forward), x, c);
      // The spectrum product, written out so that it vectorises and never calls the
      // library's NaN-careful complex multiply.
      const float* h = spectra + 2 * job.spectrum;
      float* z = reinterpret_cast<float*>(c);
      for (int k = 0; k < bins; ++k) {
        const float re = z[2 * k] * h[2 * k] - z[2 * k + 1] * h[2 * k + 1];
        const float im = z[2 * k] * h[2 * k + 1] + z[2 * k + 1] * h[2 * k];
        z[2 * k] = re;
        z[2 * k + 1] = im;
      }
      fftwf_execute_dft_c2r(static_cast<fftwf_plan>(plans.inverse), c, x);
      // Overlap-save: the first taps - 1 outputs wrapped around; the last hop are valid.
      std::copy(x + taps - 1, x + fft_size, y + t * hop);
    }
    fftwf_free(x);
    fftwf_free(c);
  }
  // Per job: the new pending samples (read from the input before it is overwritten), the
  // outputs, then the last block's output as the new `ready`.
  const long long fill_after = (fill + a.frames) % hop;
  const long long keep = taps - 1 + fill_after;
#pragma omp parallel
  {
    std::vector<float> next((size_t)keep);
#pragma omp for schedule(dynamic, 1)
    for (int j = 0; j < job_count; ++j) {
      float* pending = states + jobs[j].state;
      float* ready = pending + fft_size;
      float* io = a.stream(jobs[j].stream);
      for (long long i = 0; i < keep; ++i)
        next[i] = fir_virtual(pending, pending_len, io, blocks * hop + i);
      const float* yj = y + (size_t)j * blocks * hop;
      // fir_output, as two copies.
      const long long from_ready = std::min<long long>(hop - fill, a.frames);
      std::copy(ready + fill, ready + fill + from_ready, io);
      std::copy(yj, yj + (a.frames - from_ready), io + from_ready);
      std::copy(next.begin(), next.end(), pending);
      if (blocks > 0) std::copy(yj + (blocks - 1) * hop, yj + blocks * hop, ready);
    }
  }
}

namespace {

// Pass 3 of dynamics_chunks.h for chunk c (compressor_apply_chunk's arithmetic): the gain
// factors of the chunk first, in SIMD lanes (compressor_factor is a select and td_exp2),
// then the in-place, backwards product with the delayed input. Each factor depends on its
// own reduction only, so the bits are those of compressor_output.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void compressor_factors(
    const CompressorParams& p, const float* red_l, const float* red_r, long long n, float* fl,
    float* fr) {
  for (long long i = 0; i < n; ++i) {
    fl[i] = compressor_factor(p, red_l[i]);
    fr[i] = compressor_factor(p, red_r[i]);
  }
}

void compressor_apply(const CompressorJob& job, const CompressorParams& p, float* xl, float* xr,
                      const float* edge, long long frames, int count, int c, const float* red_l,
                      const float* red_r) {
  const long long L = job.lookahead;
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  thread_local std::vector<float> factors;
  std::vector<float>& f = factors;
  if ((long long)f.size() < 2 * (e - b)) f.resize((size_t)(2 * (e - b)));
  float* fl = f.data();
  float* fr = fl + (e - b);
  compressor_factors(p, red_l + b, red_r + b, e - b, fl, fr);
  const long long split = std::min(e, b + L);  // before it the input comes from the edge
  for (long long n = e - 1; n >= split; --n) {
    xl[n] = xl[n - L] * fl[n - b];
    xr[n] = xr[n - L] * fr[n - b];
  }
  for (long long n = split - 1; n >= b; --n) {
    const long long k = n - b;  // edge index: m - (b - L) with m = n - L
    xl[n] = edge[k] * fl[n - b];
    xr[n] = edge[L + k] * fr[n - b];
  }
}

}  // namespace

long long compressor(const StreamArena& a, const CompressorJob* jobs, int job_count,
                     const CompressorParams* params, CompressorState* states, float* rings,
                     float* trace, long long trace_hop_frames, int chunks) {
  long long warmup = 0;
  for (int j = 0; j < job_count; ++j)
    warmup = std::max(warmup, compressor_warmup_frames(params[jobs[j].params]));
  // One chunk per job when the jobs fill the workers: the three passes then still separate
  // the recurrence (pass 1) from the per-sample gains (pass 3, vectorised), and pass 2 has
  // nothing to fix.
  const int count =
      chunks > 0 ? chunks
                 : compressor_chunk_count(job_count, omp_get_max_threads(), a.frames, warmup);
  // Chunked (dynamics_chunks.h): detect, fix, apply.
  const long long frames = a.frames;
  // The reductions, kept from call to call (fresh pages every segment cost more than the
  // arithmetic; bound here, in the calling thread, not in the workers).
  thread_local std::vector<float> red_pool;
  std::vector<float>& red = red_pool;
  if (red.size() < (size_t)job_count * 2 * frames) red.resize((size_t)job_count * 2 * frames);
  std::vector<CompressorState> guess((size_t)job_count * count), end((size_t)job_count * count);
  long long lookahead_total = 0;
  std::vector<long long> edge_at(job_count);
  for (int j = 0; j < job_count; ++j) {
    edge_at[j] = lookahead_total;
    lookahead_total += 2LL * jobs[j].lookahead * (count + 1);
  }
  std::vector<float> edges((size_t)std::max(1LL, lookahead_total));
  auto red_l = [&](int j) { return red.data() + (size_t)j * 2 * frames; };
  auto red_r = [&](int j) { return red_l(j) + frames; };
#pragma omp parallel for schedule(dynamic, 1)
  for (int t = 0; t < job_count * count; ++t) {
    const int j = t / count, c = t % count;
    const CompressorJob& job = jobs[j];
    compressor_detect_chunk(job, params[job.params], states[job.state], a.stream(job.key_left),
                            a.stream(job.key_right), rings, a.origin, frames, count, c, red_l(j),
                            red_r(j), &guess[t], &end[t]);
  }
  long long rerun = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : rerun)
  for (int j = 0; j < job_count; ++j) {
    const CompressorJob& job = jobs[j];
    const float* kl = a.stream(job.key_left);
    const float* kr = a.stream(job.key_right);
    rerun += compressor_fix_chunks(job, params[job.params], states[job.state], kl, kr, rings,
                                   a.origin, frames, count, red_l(j), red_r(j),
                                   &guess[(size_t)j * count], &end[(size_t)j * count]);
    compressor_advance_key_ring(job, kl, kr, rings, a.origin, frames);
    for (int c = 0; c <= count; ++c)
      compressor_save_edge(job, a.stream(job.left), a.stream(job.right), rings, a.origin, frames,
                           count, c, edges.data() + edge_at[j] + 2LL * job.lookahead * c);
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int t = 0; t < job_count * count; ++t) {
    const int j = t / count, c = t % count;
    const CompressorJob& job = jobs[j];
    compressor_apply(job, params[job.params], a.stream(job.left), a.stream(job.right),
                     edges.data() + edge_at[j] + 2LL * job.lookahead * c, frames, count, c,
                     red_l(j), red_r(j));
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int j = 0; j < job_count; ++j) {
    const CompressorJob& job = jobs[j];
    compressor_advance_ring(job, edges.data() + edge_at[j] + 2LL * job.lookahead * count, rings,
                            a.origin, frames);
    compressor_record_segment(job, states[job.state], red_l(j), red_r(j), trace, trace_hop_frames,
                              a.origin, frames);
  }
  return rerun;
}

void limiter(const StreamArena& a, const LimiterJob* jobs, int job_count,
             const LimiterParams* params, const TruePeakFilter& f, LimiterState* states,
             float* rings, float* trace, long long trace_hop_frames) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int j = 0; j < job_count; ++j) {
    const LimiterJob& job = jobs[j];
    limiter_segment(job, params[job.params], f, states[job.state], a.stream(job.left),
                    a.stream(job.right), rings, trace, trace_hop_frames, a.origin, a.frames);
  }
}

void limiter_whole(const LimiterParams& p, const TruePeakFilter& f, const float* in_l,
                   const float* in_r, long long frames, float* out_l, float* out_r, float* gain) {
  const long long delay = p.lookahead + p.pad + kLimiterExtraDelay;
  std::vector<float> ring((size_t)limiter_ring_floats(p.lookahead, p.pad), 0.0f);
  LimiterState st{};
  for (long long n = 0; n < frames + delay; ++n) {
    float l, r;
    const float g = limiter_step(p, f, st, ring.data(), n < frames ? in_l[n] : 0.0f,
                                 n < frames ? in_r[n] : 0.0f, l, r);
    if (n < delay) continue;
    out_l[n - delay] = l;
    out_r[n - delay] = r;
    gain[n - delay] = g;
  }
}

void utility(const StreamArena& a, const UtilityJob* jobs, int job_count,
             const UtilityParams* params, float* memory) {
  const int lines = 2 * job_count;
  std::vector<std::vector<float>> line(lines);
  auto parts = [&](int c, const UtilityParams*& p, float*& stream, float*& history, float& g) {
    const UtilityJob& job = jobs[c / 2];
    p = &params[job.params];
    stream = a.stream(c % 2 ? job.right : job.left);
    history = memory + job.memory + (long long)(c % 2) * p->history;
    g = c % 2 ? p->gain_right : p->gain_left;
  };
#pragma omp parallel for schedule(dynamic, 1)
  for (int c = 0; c < lines; ++c) {
    const UtilityParams* p;
    float *stream, *history, g;
    parts(c, p, stream, history, g);
    line[c].resize((size_t)(p->history + a.frames));
    for (long long i = 0; i < p->history + a.frames; ++i)
      line[c][i] = utility_line_at(history, stream, p->history, i);
  }
  // Every output sample is independent: chunks of all lines in one parallel loop.
  constexpr long long kChunk = 1 << 14;
  const long long chunks = (a.frames + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (long long t = 0; t < lines * chunks; ++t) {
    const int c = (int)(t / chunks);
    const UtilityParams* p;
    float *stream, *history, g;
    parts(c, p, stream, history, g);
    const long long begin = (t % chunks) * kChunk, end = std::min(a.frames, begin + kChunk);
    for (long long n = begin; n < end; ++n) stream[n] = utility_sample(*p, g, line[c].data(), n);
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int c = 0; c < lines; ++c) {
    const UtilityParams* p;
    float *stream, *history, g;
    parts(c, p, stream, history, g);
    std::copy(line[c].begin() + a.frames, line[c].end(), history);
  }
}

namespace {
// Dither and quantisation of frames [b, e): compiled for AVX-512 (its 64-bit multiplies
// vectorise the counter-based generator), AVX2 and the baseline; integer hashing and
// float ops without contraction round alike in each.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void deliver_pcm_range(
    const float* l, const float* r, float gain, uint64_t seed, int bits, long long b, long long e,
    int32_t* out) {
  for (long long n = b; n < e; ++n) {
    out[2 * n] = quantize_left_aligned(l[n] * gain, tpdf_lsb(seed, 0, (uint64_t)n), bits);
    out[2 * n + 1] = quantize_left_aligned(r[n] * gain, tpdf_lsb(seed, 1, (uint64_t)n), bits);
  }
}
}  // namespace

void deliver_pcm(const StreamArena& a, int left, int right, float gain, uint64_t seed, int bits,
                 long long frames, int32_t* out) {
  const long long chunks = chunks_of(frames);
#pragma omp parallel for schedule(static)
  for (long long c = 0; c < chunks; ++c)
    deliver_pcm_range(a.stream(left), a.stream(right), gain, seed, bits, c * kChunk,
                      std::min(frames, (c + 1) * kChunk), out);
}

void deliver_float(const StreamArena& a, int left, int right, float gain, long long frames,
                   float* out) {
  const float* l = a.stream(left);
  const float* r = a.stream(right);
#pragma omp parallel for schedule(static)
  for (long long n = 0; n < frames; ++n) {
    out[2 * n] = l[n] * gain;
    out[2 * n + 1] = r[n] * gain;
  }
}

}  // namespace cpu
}  // namespace td
