// CPU launchers of the compressor (kernels/dynamics.h, dynamics_chunks.h: detect, fix,
// apply) and the limiter (kernels/limiter.h, limiter_chunks.h).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "cpu_chunks.h"
#include "limiter_chunks.h"
#include "stages.h"

namespace td {
namespace cpu {

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

// Plain peak detection (both channels linked, no key filter, no key delay): the static
// reduction x_L of a sample depends on that sample's key only, so it is computed over a
// block first, in SIMD lanes (compressor_reduction's arithmetic with its branches as
// selects: the same bits), and only the smoothing (smooth_reduction) stays a recurrence.
bool plain_peak(const CompressorJob& job, const CompressorParams& p) {
  return !p.rms && p.link >= 1.0f && !key_filter_active(job.key_filter) && job.key_delay == 0;
}

__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void static_reductions(
    const CompressorParams& p, const float* kl, const float* kr, long long n, float* x_l) {
  const bool ranged = p.range_db > 0.0f;
  for (long long i = 0; i < n; ++i) {
    const float pl = kl[i] * kl[i], pr = kr[i] * kr[i];
    const float loud = pl > pr ? pl : pr;
    const float x = level_db_of(loud);
    float r = x - compressor_curve_db(p, x);
    r = ranged && r > p.range_db ? p.range_db : r;
    x_l[i] = loud > p.knee_start_power ? r : 0.0f;
  }
}

// An opto's attack and release coefficients for each memory value (dynamics.h's, with
// the logarithm of the constant coefficient taken once: the same value, so the same bits).
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void opto_coefficients(
    float log2_attack, float log2_release, const float* memory, long long n, float* attack,
    float* release) {
  for (long long i = 0; i < n; ++i) {
    attack[i] = opto_attack(log2_attack, memory[i]);
    release[i] = opto_release(log2_release, memory[i]);
  }
}

// compressor_detect_chunk for a plain peak job: the same states and reductions.
void detect_chunk_plain(const CompressorParams& p, const CompressorState& carried, const float* kl,
                        const float* kr, long long frames, int count, int c, float* red_l,
                        float* red_r, CompressorState* guess, CompressorState* end) {
  const long long b = chunk_begin(frames, count, c), e = chunk_begin(frames, count, c + 1);
  const long long warm = compressor_warmup_frames(p);
  const long long w0 = b > warm ? b - warm : 0;
  CompressorState s;
  if (w0 == 0)
    s = carried;
  else
    memset(&s, 0, sizeof s);
  // The opto's coefficients depend on its memory only, not on the reduction: with the
  // memory's own (cheap) recurrence run first, both candidates are computed in lanes and
  // the reduction's recurrence only selects one (smooth_reduction's arithmetic, in order).
  const bool opto = p.opto && !p.auto_release;
  const float log2_attack = td_log2(p.attack), log2_release = td_log2(p.release);
  // [from, to) in blocks: the static reductions, then the smoothing; recorded or not.
  auto run = [&](long long from, long long to, bool record) {
    constexpr long long kBlock = 2048;
    float x_l[kBlock], memory[kBlock], attack[kBlock], release[kBlock];
    for (long long n0 = from; n0 < to; n0 += kBlock) {
      const long long n1 = std::min(to, n0 + kBlock);
      static_reductions(p, kl + n0, kr + n0, n1 - n0, x_l);
      if (opto) {
        CompressorChannel& c = s.ch[0];
        float m = c.memory;
        for (long long i = 0; i < n1 - n0; ++i) {
          memory[i] = reduction_memory_step(p, m, x_l[i]);  // what the coefficients see
          m = released_memory(memory[i]);
        }
        opto_coefficients(log2_attack, log2_release, memory, n1 - n0, attack, release);
        float y = c.reduction;
        for (long long n = n0; n < n1; ++n) {
          const long long i = n - n0;
          const float a = x_l[i] > y ? attack[i] : release[i];
          y = reduction_step(a, y, x_l[i]);
          if (record) red_l[n] = red_r[n] = y;
        }
        c.reduction = y;
        c.memory = m;
      } else if (!p.auto_release) {
        // smooth_reduction's arithmetic with fixed coefficients: the attack/release choice
        // flips on most cycles of a compressed waveform, so it is a select (hinted as
        // unpredictable) rather than a branch that mispredicts on every flip.
        CompressorChannel& c = s.ch[0];
        const float attack = p.attack, release = p.release;
        const float attack_x = 1.0f - attack, release_x = 1.0f - release;
        float y = c.reduction;
        for (long long n = n0; n < n1; ++n) {
          const float x = x_l[n - n0];
          const bool up = __builtin_expect_with_probability(x > y, 1, 0.5);
          const float r = (up ? attack : release) * y + (up ? attack_x : release_x) * x;
          y = __builtin_expect_with_probability(r < 1e-6f, 1, 0.5) ? 0.0f : r;
          if (record) red_l[n] = red_r[n] = y;
        }
        c.reduction = y;
      } else {
        for (long long n = n0; n < n1; ++n) {
          const float y = smooth_reduction(p, s.ch[0], x_l[n - n0]);
          if (record) red_l[n] = red_r[n] = y;
        }
      }
      // Linked: the right channel's detector mirrors the left's after every sample.
      s.ch[1].reduction = s.ch[0].reduction, s.ch[1].memory = s.ch[0].memory;
    }
  };
  run(w0, b, false);
  *guess = s;
  run(b, e, true);
  *end = s;
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
    if (plain_peak(job, params[job.params]))
      detect_chunk_plain(params[job.params], states[job.state], a.stream(job.key_left),
                         a.stream(job.key_right), frames, count, c, red_l(j), red_r(j), &guess[t],
                         &end[t]);
    else
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

long long limiter(const StreamArena& a, const LimiterJob* jobs, int job_count,
                  const LimiterParams* params, const TruePeakFilter& f, LimiterState* states,
                  float* rings, float* trace, long long trace_hop_frames, int chunks) {
  long long warmup = 0, history = 0;
  int queue_floats = 0;
  long long edge_floats = 0, pending_floats = 0;
  for (int j = 0; j < job_count; ++j) {
    const LimiterParams& p = params[jobs[j].params];
    warmup = std::max(warmup, limiter_warmup_frames(p));
    history = std::max(history, limiter_history_frames(p));
    queue_floats = std::max(queue_floats, 2 * (p.lookahead + 2 * kLimiterReach + 2));
    edge_floats = std::max(edge_floats, 2LL * (p.lookahead + p.pad + kLimiterExtraDelay));
    pending_floats = std::max(pending_floats, (long long)p.pad + 1);
  }
  const long long frames = a.frames;
  const int count =
      chunks > 0 ? chunks
                 : limiter_chunk_count(job_count, omp_get_max_threads(), frames, warmup, history);
  if (count <= 1 || frames < count * 2 * history) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int j = 0; j < job_count; ++j) {
      const LimiterJob& job = jobs[j];
      limiter_segment(job, params[job.params], f, states[job.state], a.stream(job.left),
                      a.stream(job.right), rings, trace, trace_hop_frames, a.origin, frames);
    }
    return 0;
  }
  // Chunked (limiter_chunks.h). The per-sample arrays are kept from call to call (bound in
  // the calling thread, as the compressor's).
  thread_local std::vector<float> pool;
  const size_t tasks = (size_t)job_count * count;
  const size_t need =
      (size_t)job_count * (2 * frames + pending_floats) + tasks * (queue_floats + edge_floats);
  if (pool.size() < need) pool.resize(need);
  float* hold = pool.data();                                     // per job: frames (then applied)
  float* smooth = hold + (size_t)job_count * frames;             // per job: frames
  float* pending = smooth + (size_t)job_count * frames;          // per job: pending_floats
  float* queues = pending + (size_t)job_count * pending_floats;  // per task
  float* edges = queues + tasks * queue_floats;                  // per task
  std::vector<LimiterChunk> out(tasks);
  for (int j = 0; j < job_count; ++j) {
    const LimiterParams& p = params[jobs[j].params];
    LimiterState& st = states[jobs[j].state];
    if (!st.started) limiter_start(p, st, limiter_ring(p, rings + jobs[j].ring));
  }
  auto job_of = [&](size_t t) -> const LimiterJob& { return jobs[t / count]; };
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t t = 0; t < tasks; ++t) {
    const LimiterJob& job = job_of(t);
    const size_t j = t / count;
    limiter_hold_chunk(params[job.params], f, states[job.state], rings + job.ring,
                       a.stream(job.left), a.stream(job.right), frames, count, (int)(t % count),
                       hold + j * frames, queues + t * queue_floats, &out[t]);
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t t = 0; t < tasks; ++t) {
    const LimiterJob& job = job_of(t);
    const size_t j = t / count;
    limiter_smooth_chunk(params[job.params], states[job.state], hold + j * frames, frames, count,
                         (int)(t % count), smooth + j * frames, &out[t]);
  }
  long long rerun = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : rerun)
  for (int j = 0; j < job_count; ++j) {
    const LimiterJob& job = jobs[j];
    const LimiterParams& p = params[job.params];
    LimiterState& st = states[job.state];
    const size_t t0 = (size_t)j * count, last = t0 + count - 1;
    rerun += limiter_fix_chunks(p, st, hold + (size_t)j * frames, smooth + (size_t)j * frames,
                                frames, count, &out[t0]);
    for (int c = 0; c < count; ++c)
      limiter_save_edge(p, st, rings + job.ring, a.stream(job.left), a.stream(job.right), frames,
                        count, c, edges + (t0 + c) * edge_floats);
    limiter_advance_input(p, st, rings + job.ring, a.stream(job.left), a.stream(job.right), frames,
                          out[last], queues + last * queue_floats, count == 1);
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t t = 0; t < tasks; ++t) {
    const LimiterJob& job = job_of(t);
    const size_t j = t / count;
    const int c = (int)(t % count);
    limiter_gain_chunk(params[job.params], states[job.state], rings + job.ring, smooth + j * frames,
                       frames, count, c, hold + j * frames, pending + j * pending_floats, &out[t]);
    limiter_output_chunk(params[job.params], a.stream(job.left), a.stream(job.right),
                         edges + t * edge_floats, hold + j * frames, frames, count, c);
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (int j = 0; j < job_count; ++j) {
    const LimiterJob& job = jobs[j];
    limiter_finish_segment(job, params[job.params], states[job.state], rings + job.ring,
                           smooth + (size_t)j * frames, hold + (size_t)j * frames,
                           pending + (size_t)j * pending_floats, out[(size_t)j * count + count - 1],
                           trace, trace_hop_frames, a.origin, frames);
  }
  return rerun;
}

void limiter_pass(const LimiterParams& p, const TruePeakFilter& f, LimiterState& st, float* ring,
                  const float* in_l, const float* in_r, long long count, float* out_l, float* out_r,
                  float* gain) {
  for (long long n = 0; n < count; ++n)
    gain[n] = limiter_step(p, f, st, ring, in_l[n], in_r[n], out_l[n], out_r[n]);
}

}  // namespace cpu
}  // namespace td
