// CPU launchers of the batched stages (the meters' in meters_cpu.cpp, the dynamics' in
// dynamics_cpu.cpp, the saturation's in saturation_cpu.cpp): OpenMP threads over (job,
// chunk) pairs, with the
// per-sample loop left simple enough for the compiler to vectorise. Each output sample is
// written by exactly one iteration and every reduction runs in a fixed order, so results
// do not depend on the thread count.
#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "cpu_chunks.h"
#include "fft.h"
#include "stages.h"

namespace td {
namespace cpu {

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

namespace {
// One term of a sum over a chunk, compiled for AVX-512, AVX2 and the baseline (no FMA
// contraction: the same bits in each).
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void add_term(
    float* out_l, float* out_r, const float* in, float gl, float gr, long long len) {
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
}  // namespace

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
      add_term(out_l, out_r, a.stream(term.stream) + begin, term.gain_left, term.gain_right, len);
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

void console(const StreamArena& a, const ConsoleJob* jobs, int job_count,
             const ConsoleParams* params, float* memory) {
  // Every output sample is independent: chunks of all channels in one parallel loop.
  constexpr long long kChunk = 1 << 14;
  const long long chunks = (a.frames + kChunk - 1) / kChunk;
  const long long lines = 2LL * job_count;
#pragma omp parallel for schedule(static)
  for (long long t = 0; t < lines * chunks; ++t) {
    const int c = (int)(t / chunks) % 2;
    const ConsoleJob& job = jobs[t / chunks / 2];
    const ConsoleParams& p = params[job.params];
    float* x = a.stream(c ? job.right : job.left);
    const float* key = a.stream(c ? job.key_right : job.key_left);
    const float first = memory[job.memory + c];
    const long long begin = (t % chunks) * kChunk, end = std::min(a.frames, begin + kChunk);
    for (long long n = begin; n < end; ++n)
      x[n] = console_sample(p, x[n], key[n], n ? key[n - 1] : first, c, a.origin + n);
  }
  if (a.frames > 0)
    for (int j = 0; j < job_count; ++j)
      for (int c = 0; c < 2; ++c)
        memory[jobs[j].memory + c] =
            a.stream(c ? jobs[j].key_right : jobs[j].key_left)[a.frames - 1];
}

namespace {
// Dither and quantisation of frames [b, e): compiled for AVX-512 (its 64-bit multiplies
// vectorise the counter-based generator), AVX2 and the baseline; integer hashing and
// float ops without contraction round alike in each.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"))) void deliver_pcm_range(
    const float* l, const float* r, float gain, uint64_t seed, int bits, long long first,
    long long b, long long e, int32_t* out) {
  for (long long n = b; n < e; ++n) {
    float dl, dr;
    tpdf_lsb_pair(seed, (uint64_t)(first + n), dl, dr);
    out[2 * n] = quantize_left_aligned(l[n] * gain, dl, bits);
    out[2 * n + 1] = quantize_left_aligned(r[n] * gain, dr, bits);
  }
}
}  // namespace

void deliver_pcm_pair(const float* l, const float* r, float gain, uint64_t seed, int bits,
                      long long first, long long frames, int32_t* out) {
  const long long chunks = chunks_of(frames);
#pragma omp parallel for schedule(static)
  for (long long c = 0; c < chunks; ++c)
    deliver_pcm_range(l, r, gain, seed, bits, first, c * kChunk, std::min(frames, (c + 1) * kChunk),
                      out);
}

void deliver_float_pair(const float* l, const float* r, float gain, long long frames, float* out) {
#pragma omp parallel for schedule(static)
  for (long long n = 0; n < frames; ++n) {
    out[2 * n] = l[n] * gain;
    out[2 * n + 1] = r[n] * gain;
  }
}

void deliver_pcm(const StreamArena& a, int left, int right, float gain, uint64_t seed, int bits,
                 long long begin, long long first, long long frames, int32_t* out) {
  deliver_pcm_pair(a.stream(left) + begin, a.stream(right) + begin, gain, seed, bits, first, frames,
                   out);
}

void deliver_float(const StreamArena& a, int left, int right, float gain, long long begin,
                   long long frames, float* out) {
  deliver_float_pair(a.stream(left) + begin, a.stream(right) + begin, gain, frames, out);
}

}  // namespace cpu
}  // namespace td
