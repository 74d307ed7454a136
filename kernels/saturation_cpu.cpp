// CPU launcher of the saturation (block-wise: saturation.h). The FIR stages run many
// outputs side by side, one SIMD lane per output, each summing its taps in sat_dot's order;
// the memoryless curve runs in SIMD lanes too. So the bits are those of sat_up, sat_down
// and sat_shape (the per-sample form and the CUDA launcher), at any thread count.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "stages.h"

namespace td {
namespace cpu {
namespace {

// Compiled for AVX-512, AVX2 and the x86-64-v2 baseline; no FMA contraction in any of them
// (-ffp-contract=off), so every clone rounds alike.
#define TD_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

constexpr int kLanes = 64;            // outputs per block: a few vector registers of accumulators
constexpr long long kTask = 1 << 13;  // elements per task (a multiple of kLanes)
// The accumulators as GCC vectors: written as a float array, GCC kept them on the stack and
// every tap paid a store-to-load round trip. Each lane still sums its taps in sat_dot's order
// with no contraction, so the bits are unchanged. The interleaving of the up stage's two
// phases and the down stage's reads of every second sample are shuffles for the same reason:
// as element loops they cost more than the filters.
constexpr int kWidth = 16, kVectors = kLanes / kWidth;
typedef float Lanes __attribute__((vector_size(4 * kWidth)));
typedef float UnalignedLanes __attribute__((vector_size(4 * kWidth), aligned(4)));
// The helpers take and give vectors by reference only: a 64-byte vector passed by value to a
// function compiled without AVX-512 (the other clones) changes the ABI, which clang refuses.
inline void load_lanes(const float* x, Lanes& v) {
  v = *reinterpret_cast<const UnalignedLanes*>(x);
}
inline void store_lanes(float* x, const Lanes& v) {
  *reinterpret_cast<UnalignedLanes*>(x) = v;
}
// v = x[0], x[2], ..., x[30].
inline void even_lanes(const float* x, Lanes& v) {
  Lanes lo, hi;
  load_lanes(x, lo);
  load_lanes(x + kWidth, hi);
  v = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
// a[0], b[0], a[1], b[1], ...: the first 16 at x, the last 16 at x + 16.
inline void store_interleaved(float* x, const Lanes& a, const Lanes& b) {
  store_lanes(
      x, __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
  store_lanes(x + kWidth, __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13,
                                                  29, 14, 30, 15, 31));
}

// Outputs [b, e) of up stage s (sat_up's).
TD_SIMD_CLONES void sat_up_block(const SaturationParams& p, const SatLines& l, float* scratch,
                                 int s, long long b, long long e) {
  const float* in = scratch + l.up[s];
  float* out = s + 1 < p.stages ? scratch + l.up[s + 1] + (p.taps[s + 1] + 1) / 2 - 1
                                : scratch + l.down[p.stages - 1] + p.taps[p.stages - 1] - 1;
  for (long long i0 = b; i0 < e; i0 += kLanes) {
    const int m = (int)std::min<long long>(kLanes, e - i0);
    Lanes acc[2][kVectors] = {};
    for (int ph = 0; ph < 2; ++ph) {
      const int first = p.up_first[s][ph], count = p.up_count[s][ph];
      const float* h = p.up[s][ph] + first;
      const float* x = in + i0 + first;
      for (int k = 0; k < count; ++k) {
        const float hk = h[k];
        for (int v = 0; v < kVectors; ++v) {
          Lanes xv;
          load_lanes(x + k + kWidth * v, xv);
          acc[ph][v] += hk * xv;
        }
      }
    }
    float* o = out + 2 * i0;
    if (m == kLanes) {
      for (int v = 0; v < kVectors; ++v) {
        const Lanes even = 2.0f * acc[0][v], odd = 2.0f * acc[1][v];
        store_interleaved(o + 2 * kWidth * v, even, odd);
      }
    } else {
      for (int j = 0; j < m; ++j) {
        o[2 * j] = 2.0f * acc[0][j / kWidth][j % kWidth];
        o[2 * j + 1] = 2.0f * acc[1][j / kWidth][j % kWidth];
      }
    }
  }
}

// Outputs [b, e) of down stage s (sat_down's): the window's two phases de-interleaved
// first, so that the lanes read contiguous samples.
TD_SIMD_CLONES void sat_down_block(const SaturationParams& p, const SatLines& l, float* scratch,
                                   int s, long long b, long long e) {
  const float* in = scratch + l.down[s];
  float* out = s > 0 ? scratch + l.down[s - 1] + p.taps[s - 1] - 1 : scratch + l.base;
  const int first = p.down_first[s], count = p.down_count[s], centre = p.down_centre[s];
  const float* h = p.down_taps[s];
  const float hc = p.down_centre_tap[s];
  float odd[kLanes + kSatMaxTaps];
  for (long long i0 = b; i0 < e; i0 += kLanes) {
    const int m = (int)std::min<long long>(kLanes, e - i0);
    const float* w = in + 2 * i0;
    // Shuffled in whole vectors while one reads no sample past w[first + 2 (m + count - 1)].
    int j = 0;
    for (; j + kWidth < m + count; j += kWidth) {
      Lanes v;
      even_lanes(w + first + 2 * j, v);
      store_lanes(odd + j, v);
    }
    for (; j < m + count; ++j) odd[j] = w[first + 2 * j];
    for (j = m + count; j < kLanes + count; ++j) odd[j] = 0.0f;
    Lanes acc[kVectors] = {};
    for (int k = 0; k < count; ++k) {
      const float hk = h[k];
      for (int v = 0; v < kVectors; ++v) {
        Lanes xv;
        load_lanes(odd + k + kWidth * v, xv);
        acc[v] += hk * xv;
      }
    }
    if (m == kLanes) {
      for (int v = 0; v < kVectors; ++v) {
        Lanes centre_v;
        even_lanes(w + centre + 2 * kWidth * v, centre_v);
        store_lanes(out + i0 + kWidth * v, acc[v] + hc * centre_v);
      }
    } else {
      for (j = 0; j < m; ++j) out[i0 + j] = acc[j / kWidth][j % kWidth] + hc * w[centre + 2 * j];
    }
  }
}

// The memoryless curve over n samples in place (sat_memoryless, the model a constant),
// inlined into one clone set per model (clang's target_clones takes no templates).
template <int Model>
__attribute__((always_inline)) inline void sat_curve_loop(const SaturationParams& p, float* v,
                                                          long long n) {
  const float g = p.drive, bias = p.bias, fb = p.f_bias, norm = p.norm;
  for (long long i = 0; i < n; ++i) v[i] = (sat_curve<float>(Model, g * v[i] + bias) - fb) * norm;
}
TD_SIMD_CLONES void sat_curve_soft(const SaturationParams& p, float* v, long long n) {
  sat_curve_loop<0>(p, v, n);
}
TD_SIMD_CLONES void sat_curve_hard(const SaturationParams& p, float* v, long long n) {
  sat_curve_loop<1>(p, v, n);
}
TD_SIMD_CLONES void sat_curve_tube(const SaturationParams& p, float* v, long long n) {
  sat_curve_loop<2>(p, v, n);
}
TD_SIMD_CLONES void sat_curve_tape(const SaturationParams& p, float* v, long long n) {
  sat_curve_loop<3>(p, v, n);
}

void sat_curve_memoryless(const SaturationParams& p, float* v, long long n) {
  switch (p.model) {
    case 0:
      return sat_curve_soft(p, v, n);
    case 1:
      return sat_curve_hard(p, v, n);
    case 2:
      return sat_curve_tube(p, v, n);
    default:
      return sat_curve_tape(p, v, n);
  }
}

// sat_gather and sat_finish of one channel as copies (the same layout, section by section;
// the per-element forms decode an index per sample, which suits a GPU thread, not a loop).
void sat_gather_copies(const SaturationParams& p, const SaturationChannel& c, const SatRings& r,
                       const SatLines& l, const float* x, long long frames, float* scratch) {
  for (int s = 0; s < p.stages; ++s) {
    const int half = (p.taps[s] + 1) / 2, n = p.taps[s];
    std::copy(r.up[s] + c.up_pos[s] + 1, r.up[s] + c.up_pos[s] + half, scratch + l.up[s]);
    std::copy(r.down[s] + c.down_pos[s] + 1, r.down[s] + c.down_pos[s] + n, scratch + l.down[s]);
  }
  for (int i = 0; i < p.wet_latency; ++i)
    scratch[l.dry + i] = r.dry[(c.dry_pos + 1 + i) % (p.wet_latency + 1)];
  for (int i = 0; i < p.pad; ++i) scratch[l.pad + i] = r.pad[(c.pad_pos + 1 + i) % (p.pad + 1)];
  if (p.stages > 0) std::copy(x, x + frames, scratch + l.up[0] + (p.taps[0] + 1) / 2 - 1);
  std::copy(x, x + frames, scratch + l.dry + p.wet_latency);
}

void sat_finish_copies(const SaturationParams& p, const SatRings& r, const SatLines& l, float* x,
                       long long frames, const float* scratch) {
  std::copy(scratch + l.pad, scratch + l.pad + frames, x);
  for (int s = 0; s < p.stages; ++s) {
    const int half = (p.taps[s] + 1) / 2, n = p.taps[s];
    const float* up = scratch + l.up[s] + (frames << s);
    const float* down = scratch + l.down[s] + (frames << (s + 1));
    r.up[s][0] = r.up[s][half] = 0.0f;
    std::copy(up, up + half - 1, r.up[s] + 1);
    std::copy(up, up + half - 1, r.up[s] + half + 1);
    r.down[s][0] = r.down[s][n] = 0.0f;
    std::copy(down, down + n - 1, r.down[s] + 1);
    std::copy(down, down + n - 1, r.down[s] + n + 1);
  }
  std::copy(scratch + l.dry + frames, scratch + l.dry + frames + p.wet_latency, r.dry + 1);
  std::copy(scratch + l.pad + frames, scratch + l.pad + frames + p.pad, r.pad + 1);
}

void saturation_piece(const StreamArena& a, const SaturationJob* jobs, int job_count,
                      const SaturationParams* params, SaturationState* states, float* memory) {
  // The lines of every channel in one scratch array (saturation.h); the FIR stages and the
  // memoryless curve in parallel over (channel, chunk), a curve with state and the DC
  // blocker in order per channel.
  const long long frames = a.frames;
  const int channels = 2 * job_count;
  std::vector<SatLines> lines(channels);
  long long total = 0;
  int most = 0;
  for (int k = 0; k < channels; ++k) {
    const SaturationParams& p = params[jobs[k / 2].params];
    lines[k] = sat_lines(p, k / 2, k % 2, frames, total);
    most = std::max(most, p.stages);
  }
  // Kept from call to call (per calling thread): fresh pages every segment cost more than
  // the filtering. The up blocks read up to kLanes + taps samples past a line's end (lanes
  // whose outputs are dropped): the slack keeps the last line's reads inside.
  thread_local std::vector<float> pool;
  std::vector<float>& scratch = pool;
  const long long slack = kLanes + kSatMaxTaps;
  if ((long long)scratch.size() < total + slack) scratch.assign((size_t)(total + slack), 0.0f);
  struct Parts {
    const SaturationParams* p;
    SaturationChannel* c;
    SatRings r;
    float* x;
  };
  std::vector<Parts> q(channels);
  for (int k = 0; k < channels; ++k) {
    const SaturationJob& job = jobs[k / 2];
    const SaturationParams& p = params[job.params];
    q[k] = Parts{&p, &states[job.state].ch[k % 2],
                 sat_rings(p, memory + job.memory + (k % 2) * sat_channel_floats(p)),
                 a.stream(k % 2 ? job.right : job.left)};
  }
  // Runs body(channel, b, e) over [0, count(channel)) of every channel in parallel chunks.
  auto each = [&](auto count, auto body) {
    std::vector<std::pair<int, long long>> tasks;
    for (int k = 0; k < channels; ++k)
      for (long long b = 0; b < count(k); b += kTask) tasks.emplace_back(k, b);
#pragma omp parallel for schedule(dynamic, 1)
    for (long long t = 0; t < (long long)tasks.size(); ++t) {
      const int k = tasks[t].first;
      body(k, tasks[t].second, std::min(count(k), tasks[t].second + kTask));
    }
  };
  float* sc = scratch.data();
#pragma omp parallel for schedule(dynamic, 1)
  for (int k = 0; k < channels; ++k)
    sat_gather_copies(*q[k].p, *q[k].c, q[k].r, lines[k], q[k].x, frames, sc);
  for (int s = 0; s < most; ++s)
    each([&](int k) { return q[k].p->stages > s ? frames << s : 0LL; },
         [&](int k, long long b, long long e) { sat_up_block(*q[k].p, lines[k], sc, s, b, e); });
  // The curve: per chunk where it is memoryless, else per channel in order.
  auto curve_line = [&](int k) {
    const SaturationParams& p = *q[k].p;
    return p.stages == 0 ? sc + lines[k].base
                         : sc + lines[k].down[p.stages - 1] + p.taps[p.stages - 1] - 1;
  };
  each([&](int k) { return sat_is_memoryless(*q[k].p) ? frames << q[k].p->stages : 0LL; },
       [&](int k, long long b, long long e) {
         const SaturationParams& p = *q[k].p;
         float* v = curve_line(k);
         if (p.stages == 0) std::copy(q[k].x + b, q[k].x + e, v + b);
         sat_curve_memoryless(p, v + b, e - b);
       });
#pragma omp parallel for schedule(dynamic, 1)
  for (int k = 0; k < channels; ++k) sat_curve(*q[k].p, *q[k].c, lines[k], q[k].x, frames, sc);
  for (int s = most - 1; s >= 0; --s)
    each([&](int k) { return q[k].p->stages > s ? frames << s : 0LL; },
         [&](int k, long long b, long long e) { sat_down_block(*q[k].p, lines[k], sc, s, b, e); });
#pragma omp parallel for schedule(dynamic, 1)
  for (int k = 0; k < channels; ++k) sat_tail(*q[k].p, *q[k].c, lines[k], frames, sc);
#pragma omp parallel for schedule(dynamic, 1)
  for (int k = 0; k < channels; ++k)
    sat_finish_copies(*q[k].p, q[k].r, lines[k], q[k].x, frames, sc);
}

}  // namespace

void saturation(const StreamArena& a, const SaturationJob* jobs, int job_count,
                const SaturationParams* params, SaturationState* states, float* memory) {
  // In pieces of the segment, one after the other, so that a piece's oversampled lines stay
  // in the caches from one FIR stage to the next (a whole segment's went out to memory and
  // back at every stage, and the stages waited on it). The rings carry each channel from
  // piece to piece as from segment to segment: the bits do not depend on the piece length.
  // A piece is 2^14 frames, or longer where that leaves fewer than two tasks per thread at
  // the first stage. Measured: 6 tape channels at 4x, 11 segments on 2 threads, 0.15 s in
  // whole segments, 0.09 s in pieces; 48 channels 1.1 s -> 0.75 s.
  const long long per_channel =
      (2LL * omp_get_max_threads() + 2 * job_count - 1) / std::max(1, 2 * job_count);
  const long long piece = std::max(1LL << 14, kTask * per_channel);
  for (long long b = 0; b < a.frames; b += piece) {
    StreamArena part = a;
    part.data = a.data + b;
    part.origin = a.origin + b;
    part.frames = std::min(piece, a.frames - b);
    saturation_piece(part, jobs, job_count, params, states, memory);
  }
}

}  // namespace cpu
}  // namespace td
