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

// limiter_need4 of the windows w[i .. i + 15] for i in [0, n) (w holds n + 15 driven
// samples), eight side by side: each lane's arithmetic is the scalar's, so are the bits.
// The TD_HD body inlined into each clone (GCC's flatten); clang, which refuses flatten
// here and an 8-float vector at the baseline's ABI, runs four (its build only needs to run).
#if defined(__clang__)
constexpr int kNeedLanes = 4;
#define TD_NEED_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
constexpr int kNeedLanes = 8;
#define TD_NEED_CLONES __attribute__((flatten, target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
TD_NEED_CLONES void limiter_needs4(const LimiterParams& p, const TruePeakFilter& f, const float* wl,
                                   const float* wr, long long n, float* need) {
  typedef float Lanes __attribute__((vector_size(kNeedLanes * sizeof(float))));
  typedef float LoadLanes __attribute__((vector_size(kNeedLanes * sizeof(float)), aligned(4)));
  long long i = 0;
  for (; i + kNeedLanes <= n; i += kNeedLanes) {
    Lanes xl[kTruePeakTaps], xr[kTruePeakTaps];
    for (int j = 0; j < kTruePeakTaps; ++j) {
      xl[j] = *reinterpret_cast<const LoadLanes*>(wl + i + j);
      xr[j] = *reinterpret_cast<const LoadLanes*>(wr + i + j);
    }
    *reinterpret_cast<LoadLanes*>(need + i) = limiter_need4(p, f, xl, xr);
  }
  for (; i < n; ++i) need[i] = limiter_need4(p, f, wl + i, wr + i);
}

// Pass 1 of limiter_chunks.h for chunk c, its needs computed first in SIMD lanes when the
// interpolator has four phases (limiter_needs4), else one at a time: the same holds.
void limiter_hold_lanes(const LimiterParams& p, const TruePeakFilter& f, const LimiterState& st,
                        float* ring, const float* xl, const float* xr, long long frames, int count,
                        int c, float* hold, float* queue, LimiterChunk* out) {
  if (f.phases != 4) {
    limiter_hold_chunk(p, f, st, ring, xl, xr, frames, count, c, hold, queue, out, nullptr);
    return;
  }
  const LimiterRing r = limiter_ring(p, ring);
  const long long m0 = limiter_needs_begin(p, frames, count, c);
  const long long e = chunk_begin(frames, count, c + 1);
  const long long n = e - m0, history = kTruePeakTaps - 1;
  thread_local std::vector<float> scratch;
  if ((long long)scratch.size() < 3 * (n + history)) scratch.resize((size_t)(3 * (n + history)));
  float* wl = scratch.data();
  float* wr = wl + (n + history);
  float* need = wr + (n + history);
  for (long long m = m0 - history; m < e; ++m)
    limiter_input(p, st, r, xl, xr, m, &wl[m - (m0 - history)], &wr[m - (m0 - history)]);
  limiter_needs4(p, f, wl, wr, n, need);
  limiter_hold_chunk(p, f, st, ring, xl, xr, frames, count, c, hold, queue, out, need);
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
  if (count <= 1) {
    // A task per job: the delivery's pass in place (blocks of one chunk's passes, the
    // at-rest shortcut over quiet stretches, steps for a short segment), then the
    // statistics from its gains.
    thread_local std::vector<float> gains;
#pragma omp parallel for schedule(dynamic, 1)
    for (int j = 0; j < job_count; ++j) {
      const LimiterJob& job = jobs[j];
      std::vector<float>& g = gains;
      if ((long long)g.size() < frames) g.resize((size_t)frames);
      float* xl = a.stream(job.left);
      float* xr = a.stream(job.right);
      limiter_pass(params[job.params], f, states[job.state], rings + job.ring, xl, xr, frames, xl,
                   xr, g.data());
      limiter_record_segment(job, states[job.state], g.data(), trace, trace_hop_frames, a.origin,
                             frames);
    }
    return 0;
  }
  // Chunks shorter than the passes' history: one step at a time.
  if (frames < count * 2 * history) {
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
    limiter_hold_lanes(params[job.params], f, states[job.state], rings + job.ring,
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

namespace {

// Whether the limiter is at rest: unity gain everywhere (smooth, the moving average's terms,
// the pad's gains, the hold's minimum) and no loud sample in the interpolator's window. From
// rest, a stretch without a loud sample leaves every need at 1 and so every gain at 1.
bool limiter_at_rest(const LimiterParams& p, const LimiterState& st, const LimiterRing& r) {
  if (!st.started || st.hot != 0) return false;
  // Every term is at most 1, so the sum is L units only when all are 1 (limiter_box_q);
  // the newest term is smooth itself.
  if (st.box_q != (long long)p.lookahead * limiter_box_q(1.0f)) return false;
  if (limiter_gain_of_box(p, st.box_q) != 1.0f) return false;
  for (int i = 0; i <= p.pad; ++i)
    if (r.gains[i] != 1.0f) return false;
  return st.queue_len == 1 && r.queue_value[st.queue_head] == 1.0f;
}

// No driven sample of [0, n) is loud (limiter_loud, in lanes).
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) bool limiter_quiet(
    const LimiterParams& p, const float* xl, const float* xr, long long n) {
  int loud = 0;
  for (long long i = 0; i < n; ++i) loud |= limiter_loud(p, xl[i] * p.drive, xr[i] * p.drive);
  return loud == 0;
}

// The at-rest shortcut for n inputs (n >= the delay line's size): what n steps do from
// rest over quiet input, without the steps. The output is the delayed driven input (times
// a gain of exactly 1), the delay line takes the inputs, and the hold's queue holds the
// last need (1) alone, where each step's push leaves it.
void limiter_rest(const LimiterParams& p, LimiterState& st, float* ring, const float* in_l,
                  const float* in_r, long long n, float* out_l, float* out_r, float* gain,
                  float* edge) {
  const LimiterRing r = limiter_ring(p, ring);
  limiter_save_edge(p, st, ring, in_l, in_r, n, 1, 0, edge);
  LimiterChunk last{};
  last.queue_head = st.queue_head;
  last.queue_len = 1;
  limiter_advance_input(p, st, ring, in_l, in_r, n, last, nullptr, true);
  std::fill(gain, gain + n, 1.0f);
  if (out_l != in_l) std::copy(in_l, in_l + n, out_l);
  if (out_r != in_r) std::copy(in_r, in_r + n, out_r);
  limiter_output_chunk(p, out_l, out_r, edge, gain, n, 1, 0);
  r.queue_index[st.queue_head] = (int)((st.count + n - 1) & 0x3fffffff);
  st.count += n;
  st.box_pos = (int)(st.count % p.lookahead);
  st.gain_pos = (int)(st.count % (p.pad + 1));
}

// One piece as one chunk of limiter_chunks.h, pass by pass (each a tight loop, the needs in
// SIMD lanes): the same bits as the steps. `gain` holds the hold values, then the gains.
void limiter_piece(const LimiterParams& p, const TruePeakFilter& f, LimiterState& st, float* ring,
                   const float* in_l, const float* in_r, long long count, float* out_l,
                   float* out_r, float* gain, float* smooth, float* edge, float* pending,
                   float* queue) {
  LimiterChunk chunk{};
  limiter_hold_lanes(p, f, st, ring, in_l, in_r, count, 1, 0, gain, queue, &chunk);
  limiter_smooth_chunk(p, st, gain, count, 1, 0, smooth, &chunk);
  limiter_fix_chunks(p, st, gain, smooth, count, 1, &chunk);
  limiter_save_edge(p, st, ring, in_l, in_r, count, 1, 0, edge);
  limiter_advance_input(p, st, ring, in_l, in_r, count, chunk, queue, true);
  limiter_gain_chunk(p, st, ring, smooth, count, 1, 0, gain, pending, &chunk);
  if (out_l != in_l) std::copy(in_l, in_l + count, out_l);
  if (out_r != in_r) std::copy(in_r, in_r + count, out_r);
  limiter_output_chunk(p, out_l, out_r, edge, gain, count, 1, 0);
  limiter_finish_rings(p, st, ring, smooth, gain, pending, chunk, count);
}

}  // namespace

long long limiter_pass(const LimiterParams& p, const TruePeakFilter& f, LimiterState& st,
                       float* ring, const float* in_l, const float* in_r, long long count,
                       float* out_l, float* out_r, float* gain) {
  const LimiterRing r = limiter_ring(p, ring);
  if (!st.started) limiter_start(p, st, r);
  // Blocks: at rest and quiet, the shortcut; else one chunk's passes, or for a block
  // shorter than their history, the steps. Every way gives the steps' bits.
  const long long history = limiter_history_frames(p);
  const long long block = std::max(4096LL, 2 * history), delay = r.size - 1;
  thread_local std::vector<float> pool;
  const size_t need = (size_t)block + 2 * delay + (p.pad + 1) + 2 * (r.queue + 1);
  if (pool.size() < need) pool.resize(need);
  float* smooth = pool.data();
  float* edge = smooth + block;
  float* pending = edge + 2 * delay;
  float* queue = pending + (p.pad + 1);  // unused by a first chunk, but a valid address
  long long rested = 0;
  for (long long b = 0; b < count; b += block) {
    const long long n = std::min(block, count - b);
    if (n >= r.size && limiter_at_rest(p, st, r) && limiter_quiet(p, in_l + b, in_r + b, n)) {
      limiter_rest(p, st, ring, in_l + b, in_r + b, n, out_l + b, out_r + b, gain + b, edge);
      rested += n;
    } else if (n >= 2 * history) {
      limiter_piece(p, f, st, ring, in_l + b, in_r + b, n, out_l + b, out_r + b, gain + b, smooth,
                    edge, pending, queue);
    } else {
      for (long long i = b; i < b + n; ++i)
        gain[i] = limiter_step(p, f, st, ring, in_l[i], in_r[i], out_l[i], out_r[i]);
    }
  }
  return rested;
}

}  // namespace cpu
}  // namespace td
