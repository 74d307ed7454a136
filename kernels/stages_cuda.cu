// CUDA launchers of the batched stages. Each __global__ function only maps its thread
// index to (job, sample) or to a stream and calls the TD_HD math shared with the CPU
// launchers. Grids are 2-D: x covers the samples, y the jobs of the stage.
#include <cuda_runtime.h>
#include <cufft.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "cuda_launch.h"
#include "launch_policy.h"
#include "stages.h"

namespace td {
namespace cuda {
namespace {

constexpr int kThreads = kCudaThreads;
thread_local const char* g_last_error = nullptr;

// Notes the first failed runtime call of a launcher (its status is what last_error()
// reports; later calls do not overwrite it).
void note(cudaError_t e) {
  if (e != cudaSuccess && !g_last_error) g_last_error = cudaGetErrorString(e);
}

// Notes a failed launch (the runtime keeps a launch error until it is read).
void check_launch() {
  note(cudaGetLastError());
}

constexpr int kMaxGridY = kCudaMaxGridY;

// Runs launch(first, n) over [0, job_count) in batches of at most `per_launch` jobs (the
// grid's y limit), stopping at the first failed launch.
template <class Launch>
void for_each_batch(int job_count, int per_launch, Launch launch) {
  for (int first = 0; first < job_count; first += per_launch) {
    const int n = job_count - first < per_launch ? job_count - first : per_launch;
    launch(first, n);  // may check its own launches and stop early
    if (!g_last_error) check_launch();
    if (g_last_error) return;
  }
}

dim3 grid_for(long long frames, int jobs) {
  return dim3((unsigned)((frames + kThreads - 1) / kThreads), (unsigned)jobs);
}

__global__ void track_input_kernel(StreamArena a, const TrackInputJob* jobs,
                                   const Breakpoint* points) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  const TrackInputJob& job = jobs[blockIdx.y];
  const StereoGains g = track_input_gains(job, points, (double)(a.origin + n));
  const float l = a.stream(job.src_left)[n], r = a.stream(job.src_right)[n];
  a.stream(job.dst_left)[n] = g.left * l;
  a.stream(job.dst_right)[n] = g.right * r;
}

__global__ void sum_kernel(StreamArena a, const SumJob* jobs, const SumTerm* terms) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  const SumJob& job = jobs[blockIdx.y];
  float l = 0.0f, r = 0.0f;
  for (int k = 0; k < job.term_count; ++k) {  // the CPU's order: the same sums
    const SumTerm& t = terms[job.term_offset + k];
    const float x = a.stream(t.stream)[n];
    l += t.gain_left * x;
    r += t.gain_right * x;
  }
  a.stream(job.dst_left)[n] = l;
  a.stream(job.dst_right)[n] = r;
}

__global__ void gain_kernel(StreamArena a, const GainJob* jobs) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  a.stream(jobs[blockIdx.y].stream)[n] *= jobs[blockIdx.y].gain;
}

// Per (job channel, chunk) partial true peaks; max is exact, so any order gives the same.
__global__ void true_peak_kernel(StreamArena a, const MeterJob* jobs, TruePeakFilter f,
                                 float gain_bound, const MeterState* states, long long span,
                                 float* partial, int chunks, long long chunk_frames) {
  const int chunk = blockIdx.x * blockDim.x + threadIdx.x;
  if (chunk >= chunks) return;
  const int j = blockIdx.y / 2, c = blockIdx.y % 2;
  const MeterJob& job = jobs[j];
  float peak = 0.0f;
  if (c < job.channels) {
    const long long begin = chunk * chunk_frames;
    const long long end = begin + chunk_frames < span ? begin + chunk_frames : span;
    const MeterChannelState& st = states[job.state].channel[c];
    const TruePeakInput in{a.stream(c ? job.right : job.left), a.frames, st.history};
    if (begin < end) peak = true_peak_range_pruned(in, f, gain_bound, begin, end, st.floor);
  }
  partial[(long long)blockIdx.y * chunks + chunk] = peak;
}

// The search floor of each job channel: its true peak so far and this segment's sample
// peak (per-chunk maxima, then folded in chunk order by one thread per job channel).
__global__ void floor_partial_kernel(StreamArena a, const MeterJob* jobs, float* partial,
                                     int chunks, long long chunk_frames) {
  const int chunk = blockIdx.x * blockDim.x + threadIdx.x;
  if (chunk >= chunks) return;
  const MeterJob& job = jobs[blockIdx.y / 2];
  const int c = blockIdx.y % 2;
  const long long begin = chunk * chunk_frames;
  const long long end = begin + chunk_frames < a.frames ? begin + chunk_frames : a.frames;
  partial[(long long)blockIdx.y * chunks + chunk] =
      (c < job.channels && begin < end)
          ? sample_peak_range(a.stream(c ? job.right : job.left), begin, end)
          : 0.0f;
}

__global__ void floor_reduce_kernel(const MeterJob* jobs, int job_count, MeterState* states,
                                    const float* partial, int chunks) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 2 * job_count) return;
  MeterChannelState& st = states[jobs[i / 2].state].channel[i % 2];
  float floor = st.true_peak;
  for (int c = 0; c < chunks; ++c) floor = max_of(floor, partial[(long long)i * chunks + c]);
  st.floor = floor;
}

// Folds the partial peaks into the states in chunk order (one thread per job channel).
__global__ void true_peak_reduce_kernel(const MeterJob* jobs, int job_count, MeterState* states,
                                        const float* partial, int chunks) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 2 * job_count) return;
  MeterChannelState& st = states[jobs[i / 2].state].channel[i % 2];
  float peak = max_of(st.true_peak, st.floor);
  for (int c = 0; c < chunks; ++c) peak = max_of(peak, partial[(long long)i * chunks + c]);
  st.true_peak = peak;
}

// The hop sums: a recurrence, one thread per job.
__global__ void meter_kernel(StreamArena a, const MeterJob* jobs, int job_count, KWeighting k,
                             long long hop_frames, MeterState* states, MeterHop* hops,
                             long long hops_per_state) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const MeterJob& job = jobs[j];
  meter_segment(a.stream(job.left), a.stream(job.right), job.channels,
                meter_frames(a.origin, a.frames, job.end), k, hop_frames, states[job.state],
                hops + job.state * hops_per_state);
}

__global__ void peak_partial_kernel(StreamArena a, const PeakJob* jobs, float* partial, int chunks,
                                    long long chunk_frames) {
  const int chunk = blockIdx.x * blockDim.x + threadIdx.x;
  if (chunk >= chunks) return;
  const PeakJob& job = jobs[blockIdx.y];
  long long b, e;
  job_range(a.origin, a.frames, job.begin, job.end, b, e);
  long long begin = chunk * chunk_frames, end = begin + chunk_frames;
  begin = begin < b ? b : begin;
  end = end > e ? e : end;
  partial[(long long)blockIdx.y * chunks + chunk] =
      begin < end ? sample_peak_range(a.stream(job.stream), begin, end) : 0.0f;
}

__global__ void peak_reduce_kernel(const PeakJob* jobs, int job_count, float* peaks,
                                   const float* partial, int chunks) {
  // One thread does all jobs in order: two jobs may share a slot.
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  for (int j = 0; j < job_count; ++j)
    for (int c = 0; c < chunks; ++c)
      peaks[jobs[j].slot] = max_of(peaks[jobs[j].slot], partial[(long long)j * chunks + c]);
}

__global__ void deliver_pcm_kernel(StreamArena a, int left, int right, float gain, uint64_t seed,
                                   int bits, long long frames, int32_t* out) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= frames) return;
  out[2 * n] = quantize_left_aligned(a.stream(left)[n] * gain, tpdf_lsb(seed, 0, n), bits);
  out[2 * n + 1] = quantize_left_aligned(a.stream(right)[n] * gain, tpdf_lsb(seed, 1, n), bits);
}

__global__ void deliver_float_kernel(StreamArena a, int left, int right, float gain,
                                     long long frames, float* out) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= frames) return;
  out[2 * n] = a.stream(left)[n] * gain;
  out[2 * n + 1] = a.stream(right)[n] * gain;
}

// FIR stage (fir.h). t indexes (job, block) as job * blocks + block.
// One-dimensional grids over every sample of every block: a level may have more blocks
// than the grid's y dimension allows.
__global__ void fir_gather_kernel(StreamArena a, const FirJob* jobs, const float* states,
                                  int fft_size, int hop, long long pending_len, long long blocks,
                                  float* scratch, long long batch) {
  const long long g = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (g >= batch * fft_size) return;
  const long long t = g / fft_size, i = g % fft_size;
  const FirJob& job = jobs[t / blocks];
  scratch[t * fft_size + i] =
      fir_virtual(states + job.state, pending_len, a.stream(job.stream), (t % blocks) * hop + i);
}

__global__ void fir_multiply_kernel(const FirJob* jobs, const float* spectra, int bins,
                                    long long blocks, float* z, long long batch) {
  const long long g = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (g >= batch * bins) return;
  const long long t = g / bins, k = g % bins;
  const float* h = spectra + 2 * jobs[t / blocks].spectrum;
  float* c = z + 2 * (t * bins + k);
  const float re = c[0] * h[2 * k] - c[1] * h[2 * k + 1];
  const float im = c[0] * h[2 * k + 1] + c[1] * h[2 * k];
  c[0] = re;
  c[1] = im;
}

__global__ void fir_next_kernel(StreamArena a, const FirJob* jobs, const float* states,
                                int fft_size, long long pending_len, long long start,
                                long long keep, float* next) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= keep) return;
  const FirJob& job = jobs[blockIdx.y];
  next[(long long)blockIdx.y * fft_size + i] =
      fir_virtual(states + job.state, pending_len, a.stream(job.stream), start + i);
}

__global__ void fir_output_kernel(StreamArena a, const FirJob* jobs, const float* states,
                                  int fft_size, int taps, int hop, long long fill, long long blocks,
                                  const float* scratch) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  const FirJob& job = jobs[blockIdx.y];
  const long long p = fill + n;
  // fir_output with the blocks' outputs left where the inverse transform put them.
  float v;
  if (p < hop) {
    v = states[job.state + fft_size + p];
  } else {
    const long long b = (p - hop) / hop, i = (p - hop) % hop;
    v = scratch[((long long)blockIdx.y * blocks + b) * fft_size + taps - 1 + i];
  }
  a.stream(job.stream)[n] = v;
}

__global__ void fir_state_kernel(const FirJob* jobs, float* states, int fft_size, int taps, int hop,
                                 long long blocks, long long keep, const float* next,
                                 const float* scratch) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const FirJob& job = jobs[blockIdx.y];
  if (i < keep) states[job.state + i] = next[(long long)blockIdx.y * fft_size + i];
  if (blocks > 0 && i < hop)
    states[job.state + fft_size + i] =
        scratch[((long long)blockIdx.y * blocks + blocks - 1) * fft_size + taps - 1 + i];
}

__global__ void compressor_kernel(StreamArena a, const CompressorJob* jobs, int job_count,
                                  const CompressorParams* params, CompressorState* states,
                                  float* rings, float* trace, long long trace_hop_frames) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const CompressorJob& job = jobs[j];
  compressor_segment(job, params[job.params], states[job.state], a.stream(job.left),
                     a.stream(job.right), a.stream(job.key_left), a.stream(job.key_right), rings,
                     trace, trace_hop_frames, a.origin, a.frames);
}

// The chunked compressor's passes (dynamics_chunks.h): one thread per (job, chunk) for
// detect and apply, one per job for the fix-up and the statistics.
struct ChunkScratch {
  float* red;  // per job: 2 * frames reductions
  CompressorState* guess;
  CompressorState* end;
  float* edges;
  const long long* edge_at;  // per job: offset into edges
};

__global__ void compressor_detect_kernel(StreamArena a, const CompressorJob* jobs, int job_count,
                                         const CompressorParams* params,
                                         const CompressorState* states, const float* rings,
                                         int count, ChunkScratch k) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= job_count * count) return;
  const int j = t / count, c = t % count;
  const CompressorJob& job = jobs[j];
  float* rl = k.red + (long long)j * 2 * a.frames;
  compressor_detect_chunk(job, params[job.params], states[job.state], a.stream(job.key_left),
                          a.stream(job.key_right), rings, a.origin, a.frames, count, c, rl,
                          rl + a.frames, &k.guess[t], &k.end[t]);
}

__global__ void compressor_fix_kernel(StreamArena a, const CompressorJob* jobs, int job_count,
                                      const CompressorParams* params, CompressorState* states,
                                      float* rings, int count, ChunkScratch k) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const CompressorJob& job = jobs[j];
  float* rl = k.red + (long long)j * 2 * a.frames;
  const float* kl = a.stream(job.key_left);
  const float* kr = a.stream(job.key_right);
  compressor_fix_chunks(job, params[job.params], states[job.state], kl, kr, rings, a.origin,
                        a.frames, count, rl, rl + a.frames, k.guess + (long long)j * count,
                        k.end + (long long)j * count);
  compressor_advance_key_ring(job, kl, kr, rings, a.origin, a.frames);
  for (int c = 0; c <= count; ++c)
    compressor_save_edge(job, a.stream(job.left), a.stream(job.right), rings, a.origin, a.frames,
                         count, c, k.edges + k.edge_at[j] + 2LL * job.lookahead * c);
}

__global__ void compressor_apply_kernel(StreamArena a, const CompressorJob* jobs, int job_count,
                                        const CompressorParams* params, int count, ChunkScratch k) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= job_count * count) return;
  const int j = t / count, c = t % count;
  const CompressorJob& job = jobs[j];
  const float* rl = k.red + (long long)j * 2 * a.frames;
  compressor_apply_chunk(job, params[job.params], a.stream(job.left), a.stream(job.right),
                         k.edges + k.edge_at[j] + 2LL * job.lookahead * c, a.frames, count, c, rl,
                         rl + a.frames);
}

__global__ void compressor_finish_kernel(StreamArena a, const CompressorJob* jobs, int job_count,
                                         CompressorState* states, float* rings, float* trace,
                                         long long trace_hop_frames, int count, ChunkScratch k) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const CompressorJob& job = jobs[j];
  const float* rl = k.red + (long long)j * 2 * a.frames;
  compressor_advance_ring(job, k.edges + k.edge_at[j] + 2LL * job.lookahead * count, rings,
                          a.origin, a.frames);
  compressor_record_segment(job, states[job.state], rl, rl + a.frames, trace, trace_hop_frames,
                            a.origin, a.frames);
}

__global__ void limiter_kernel(StreamArena a, const LimiterJob* jobs, int job_count,
                               const LimiterParams* params, TruePeakFilter f, LimiterState* states,
                               float* rings, float* trace, long long trace_hop_frames) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const LimiterJob& job = jobs[j];
  limiter_segment(job, params[job.params], f, states[job.state], a.stream(job.left),
                  a.stream(job.right), rings, trace, trace_hop_frames, a.origin, a.frames);
}

// The saturation's block-wise steps (saturation.h): blockIdx.y is a channel's SatLines.
struct SatChannelView {
  const SaturationParams* p;
  SaturationChannel* c;
  SatRings r;
  float* x;
};
__device__ SatChannelView sat_view(StreamArena a, const SaturationJob* jobs,
                                   const SaturationParams* params, SaturationState* states,
                                   float* memory, const SatLines& l) {
  const SaturationJob& job = jobs[l.job];
  const SaturationParams& p = params[job.params];
  return {&p, &states[job.state].ch[l.channel],
          sat_rings(p, memory + job.memory + l.channel * sat_channel_floats(p)),
          a.stream(l.channel ? job.right : job.left)};
}

__global__ void sat_gather_kernel(StreamArena a, const SaturationJob* jobs,
                                  const SaturationParams* params, SaturationState* states,
                                  float* memory, const SatLines* lines, float* scratch) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const SatLines& l = lines[blockIdx.y];
  if (i >= l.gather) return;
  const SatChannelView v = sat_view(a, jobs, params, states, memory, l);
  sat_gather(*v.p, *v.c, v.r, l, v.x, a.frames, scratch, i);
}

__global__ void sat_up_kernel(StreamArena a, const SaturationJob* jobs,
                              const SaturationParams* params, const SatLines* lines, float* scratch,
                              int s) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const SatLines& l = lines[blockIdx.y];
  const SaturationParams& p = params[jobs[l.job].params];
  if (p.stages <= s || i >= (a.frames << s)) return;
  sat_up(p, l, scratch, s, i);
}

__global__ void sat_curve_kernel(StreamArena a, const SaturationJob* jobs,
                                 const SaturationParams* params, SaturationState* states,
                                 float* memory, const SatLines* lines, int channels,
                                 float* scratch) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= channels) return;
  const SatChannelView v = sat_view(a, jobs, params, states, memory, lines[k]);
  sat_curve(*v.p, *v.c, lines[k], v.x, a.frames, scratch);
}

__global__ void sat_down_kernel(StreamArena a, const SaturationJob* jobs,
                                const SaturationParams* params, const SatLines* lines,
                                float* scratch, int s) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const SatLines& l = lines[blockIdx.y];
  const SaturationParams& p = params[jobs[l.job].params];
  if (p.stages <= s || i >= (a.frames << s)) return;
  sat_down(p, l, scratch, s, i);
}

__global__ void sat_tail_kernel(StreamArena a, const SaturationJob* jobs,
                                const SaturationParams* params, SaturationState* states,
                                float* memory, const SatLines* lines, int channels,
                                float* scratch) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= channels) return;
  const SatChannelView v = sat_view(a, jobs, params, states, memory, lines[k]);
  sat_tail(*v.p, *v.c, lines[k], a.frames, scratch);
}

__global__ void sat_finish_kernel(StreamArena a, const SaturationJob* jobs,
                                  const SaturationParams* params, SaturationState* states,
                                  float* memory, const SatLines* lines, const float* scratch) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const SatLines& l = lines[blockIdx.y];
  if (i >= l.finish) return;
  const SatChannelView v = sat_view(a, jobs, params, states, memory, l);
  sat_finish(*v.p, v.r, l, v.x, a.frames, scratch, i);
}

// The utility stage (utility.h): blockIdx.y is a job channel (2 job + channel).
__global__ void utility_gather_kernel(StreamArena a, const UtilityJob* jobs,
                                      const UtilityParams* params, const float* memory, float* line,
                                      long long line_stride) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const int c = blockIdx.y % 2;
  const UtilityJob& job = jobs[blockIdx.y / 2];
  const UtilityParams& p = params[job.params];
  if (i >= p.history + a.frames) return;
  line[(long long)blockIdx.y * line_stride + i] =
      utility_line_at(memory + job.memory + (long long)c * p.history,
                      a.stream(c ? job.right : job.left), p.history, i);
}

__global__ void utility_kernel(StreamArena a, const UtilityJob* jobs, const UtilityParams* params,
                               const float* line, long long line_stride) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  const int c = blockIdx.y % 2;
  const UtilityJob& job = jobs[blockIdx.y / 2];
  const UtilityParams& p = params[job.params];
  a.stream(c ? job.right : job.left)[n] =
      utility_sample(p, c ? p.gain_right : p.gain_left, line + blockIdx.y * line_stride, n);
}

__global__ void utility_keep_kernel(StreamArena a, const UtilityJob* jobs,
                                    const UtilityParams* params, float* memory, const float* line,
                                    long long line_stride) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const int c = blockIdx.y % 2;
  const UtilityJob& job = jobs[blockIdx.y / 2];
  const UtilityParams& p = params[job.params];
  if (i >= p.history) return;
  memory[job.memory + (long long)c * p.history + i] =
      line[(long long)blockIdx.y * line_stride + a.frames + i];
}

// The spectrum stage: one frame of one channel of one job per task, in frame order.
struct SpectrumTask {
  int left, right;
  int channel;
  long long slot;         // state * 2 + channel: its pending buffer and its power row
  long long first;        // the frame's first sample in (pending ++ segment part)
  long long pending_len;  // samples pending before this call
};

// A run of consecutive tasks of one slot within a batch: summed by one thread per bin.
struct SpectrumRun {
  int first, count;
  long long slot;
};

__global__ void spectrum_gather_kernel(StreamArena a, const SpectrumTask* tasks, int fft_size,
                                       long long skip, const float* window, const float* pending,
                                       float* scratch) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= fft_size) return;
  const SpectrumTask& t = tasks[blockIdx.y];
  const long long v = t.first + n;
  const float x = v < t.pending_len
                      ? pending[t.slot * fft_size + v]
                      : mid_side_sample(a.stream(t.left)[skip + v - t.pending_len],
                                        a.stream(t.right)[skip + v - t.pending_len], t.channel);
  scratch[(long long)blockIdx.y * fft_size + n] = x * window[n];
}

__global__ void spectrum_accumulate_kernel(const SpectrumRun* runs, const float2* bins, int nbins,
                                           double* power) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= nbins) return;
  const SpectrumRun& r = runs[blockIdx.y];
  double sum = power[r.slot * nbins + k];
  for (int i = 0; i < r.count; ++i) {  // frame order: the CPU's sums
    const float2 c = bins[(long long)(r.first + i) * nbins + k];
    sum += bin_power(c.x, c.y);
  }
  power[r.slot * nbins + k] = sum;
}

// The samples left after the call's whole frames become the slot's pending samples.
__global__ void spectrum_pending_kernel(StreamArena a, const SpectrumTask* rest, int fft_size,
                                        long long skip, long long frames, float* pending) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const SpectrumTask& t = rest[blockIdx.y];  // first: where the rest starts
  const long long v = t.first + i;
  if (v >= t.pending_len + frames || i >= fft_size) return;
  if (v < t.pending_len) return;  // already pending, in place (no whole frame this call)
  pending[t.slot * fft_size + (v % fft_size)] =
      mid_side_sample(a.stream(t.left)[skip + v - t.pending_len],
                      a.stream(t.right)[skip + v - t.pending_len], t.channel);
}

// cuFFT plans by (size, batch, type), owned here and destroyed by release_fft_plans (the
// backend's destructor) or when the cache grows past kMaxPlans. A plan's validity is the
// return code of cufftPlan1d: a handle value of 0 is a valid plan.
struct PlanCache {
  static constexpr size_t kMaxPlans = 32;
  std::mutex m;
  std::map<std::pair<std::pair<int, int>, int>, cufftHandle> plans;
  void clear() {
    for (auto& [key, h] : plans) cufftDestroy(h);
    plans.clear();
  }
};
PlanCache& plan_cache() {
  static PlanCache cache;
  return cache;
}

// A plan of `batch` transforms of `size` points on `stream`; false (and the error noted)
// when cuFFT cannot make or bind it.
bool fft_plan(int size, int batch, cufftType type, cudaStream_t stream, cufftHandle& out) {
  PlanCache& c = plan_cache();
  std::lock_guard<std::mutex> lock(c.m);
  const auto key = std::make_pair(std::make_pair(size, batch), (int)type);
  auto it = c.plans.find(key);
  if (it == c.plans.end()) {
    if (c.plans.size() >= PlanCache::kMaxPlans) c.clear();
    cufftHandle h;
    if (cufftPlan1d(&h, size, type, batch) != CUFFT_SUCCESS) {
      g_last_error = "cuFFT could not make a plan";
      return false;
    }
    it = c.plans.emplace(key, h).first;
  }
  if (cufftSetStream(it->second, stream) != CUFFT_SUCCESS) {
    g_last_error = "cuFFT could not bind a plan to the stream";
    return false;
  }
  out = it->second;
  return true;
}

}  // namespace

void release_fft_plans() {
  PlanCache& c = plan_cache();
  std::lock_guard<std::mutex> lock(c.m);
  c.clear();
}

const char* last_error() {
  const char* e = g_last_error;  // read once: the next launcher starts clean
  g_last_error = nullptr;
  return e;
}

void track_input(const StreamArena& a, const TrackInputJob* jobs, int job_count,
                 const Breakpoint* points, void* stream) {
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(track_input_kernel, grid_for(a.frames, n), kThreads, (cudaStream_t)stream, a,
              jobs + first, points);
  });
}

void sum(const StreamArena& a, const SumJob* jobs, int job_count, const SumTerm* terms,
         void* stream) {
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(sum_kernel, grid_for(a.frames, n), kThreads, (cudaStream_t)stream, a, jobs + first,
              terms);
  });
}

void gain(const StreamArena& a, const GainJob* jobs, int job_count, void* stream) {
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(gain_kernel, grid_for(a.frames, n), kThreads, (cudaStream_t)stream, a, jobs + first);
  });
}

void meters(const StreamArena& a, const MeterJob* jobs, int job_count, const KWeighting& k,
            const TruePeakFilter& f, long long hop_frames, bool last_segment, MeterState* states,
            MeterHop* hops, long long hops_per_state, float* true_peak_partial, int chunks,
            void* stream) {
  if (job_count == 0) return;
  const long long span = a.frames + (last_segment ? kTruePeakHistory : 0);
  const long long chunk_frames = (span + chunks - 1) / chunks;
  for_each_batch(job_count, kMaxGridY / 2, [&](int first, int n) {
    const long long floor_chunk = (a.frames + chunks - 1) / chunks;
    TD_LAUNCH(floor_partial_kernel, dim3((chunks + 127) / 128, 2 * n), 128, (cudaStream_t)stream, a,
              jobs + first, true_peak_partial, chunks, floor_chunk);
    check_launch();
    if (g_last_error) return;
    TD_LAUNCH(floor_reduce_kernel, (2 * n + 127) / 128, 128, (cudaStream_t)stream, jobs + first, n,
              states, true_peak_partial, chunks);
    check_launch();
    if (g_last_error) return;
    TD_LAUNCH(true_peak_kernel, dim3((chunks + 127) / 128, 2 * n), 128, (cudaStream_t)stream, a,
              jobs + first, f, true_peak_gain_bound(f), states, span, true_peak_partial, chunks,
              chunk_frames);
    check_launch();
    if (g_last_error) return;
    TD_LAUNCH(true_peak_reduce_kernel, (2 * n + 127) / 128, 128, (cudaStream_t)stream, jobs + first,
              n, states, true_peak_partial, chunks);
  });
  if (g_last_error) return;
  TD_LAUNCH(meter_kernel, (job_count + 63) / 64, 64, (cudaStream_t)stream, a, jobs, job_count, k,
            hop_frames, states, hops, hops_per_state);
  check_launch();
}

void peak_hold(const StreamArena& a, const PeakJob* jobs, int job_count, float* peaks,
               float* partial, int chunks, void* stream) {
  const long long chunk_frames = (a.frames + chunks - 1) / chunks;
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(peak_partial_kernel, dim3((chunks + 127) / 128, n), 128, (cudaStream_t)stream, a,
              jobs + first, partial, chunks, chunk_frames);
    check_launch();
    if (g_last_error) return;
    TD_LAUNCH(peak_reduce_kernel, 1, 1, (cudaStream_t)stream, jobs + first, n, peaks, partial,
              chunks);
  });
}

void fir(const StreamArena& a, const FirJob* jobs, int job_count, int fft_size, int taps, int hop,
         const float* spectra, float* states, float* scratch, float* bins, float* next,
         void* stream) {
  if (job_count == 0) return;
  cudaStream_t s = (cudaStream_t)stream;
  const long long fill = a.origin % hop;
  const long long pending_len = taps - 1 + fill;
  const long long blocks = (fill + a.frames) / hop;
  const long long fill_after = (fill + a.frames) % hop;
  const long long keep = taps - 1 + fill_after;
  const int nbins = fft_size / 2 + 1;
  const long long batch = (long long)job_count * blocks;
  if (batch > 0) {
    const long long samples = batch * fft_size;
    TD_LAUNCH(fir_gather_kernel, (unsigned)((samples + kThreads - 1) / kThreads), kThreads, s, a,
              jobs, states, fft_size, hop, pending_len, blocks, scratch, batch);
    check_launch();
    if (g_last_error) return;
    cufftHandle forward, inverse;
    if (!fft_plan(fft_size, (int)batch, CUFFT_R2C, s, forward) ||
        !fft_plan(fft_size, (int)batch, CUFFT_C2R, s, inverse))
      return;
    if (cufftExecR2C(forward, scratch, reinterpret_cast<cufftComplex*>(bins)) != CUFFT_SUCCESS) {
      g_last_error = "cuFFT forward transform failed";
      return;
    }
    const long long products = batch * nbins;
    TD_LAUNCH(fir_multiply_kernel, (unsigned)((products + kThreads - 1) / kThreads), kThreads, s,
              jobs, spectra, nbins, blocks, bins, batch);
    check_launch();
    if (g_last_error) return;
    if (cufftExecC2R(inverse, reinterpret_cast<cufftComplex*>(bins), scratch) != CUFFT_SUCCESS) {
      g_last_error = "cuFFT inverse transform failed";
      return;
    }
  }
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(fir_next_kernel, dim3((unsigned)((keep + kThreads - 1) / kThreads), n), kThreads, s,
              a, jobs + first, states, fft_size, pending_len, blocks * hop, keep,
              next + (long long)first * fft_size);
  });
  if (g_last_error) return;
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(fir_output_kernel, grid_for(a.frames, n), kThreads, s, a, jobs + first, states,
              fft_size, taps, hop, fill, blocks, scratch + (long long)first * blocks * fft_size);
    check_launch();
    if (g_last_error) return;
    const long long span = keep > hop ? keep : hop;
    TD_LAUNCH(fir_state_kernel, dim3((unsigned)((span + kThreads - 1) / kThreads), n), kThreads, s,
              jobs + first, states, fft_size, taps, hop, blocks, keep,
              next + (long long)first * fft_size, scratch + (long long)first * blocks * fft_size);
  });
}

void spectra(const StreamArena& a, const SpectrumJob* host_jobs, int job_count, long long skip,
             long long frames, int fft_size, const float* window, float* pending,
             long long* pending_len, double* power, long long* frames_analysed, void* stream) {
  if (job_count == 0 || frames <= 0) return;
  const cudaStream_t s = (cudaStream_t)stream;
  const int nbins = fft_size / 2 + 1;
  // Plan on the host: every whole frame of every slot, then the rest of each slot.
  std::vector<SpectrumTask> tasks, rest;
  for (int j = 0; j < job_count; ++j)
    for (int c = 0; c < 2; ++c) {
      const SpectrumJob& job = host_jobs[j];
      const long long slot = 2LL * job.state + c, had = pending_len[slot];
      const long long whole = (had + frames) / fft_size;
      for (long long k = 0; k < whole; ++k)
        tasks.push_back({job.left, job.right, c, slot, k * fft_size, had});
      rest.push_back({job.left, job.right, c, slot, whole * fft_size, had});
      pending_len[slot] = (had + frames) % fft_size;
      frames_analysed[slot] += whole;
    }
  constexpr int kBatch =
      kCudaSpectrumBatch;  // frames per transform: 32 MiB of scratch at 32768 points
  SpectrumTask* tasks_d = nullptr;
  SpectrumTask* rest_d = nullptr;
  SpectrumRun* runs_d = nullptr;
  float* scratch = nullptr;
  float2* bins = nullptr;
  cudaError_t e = cudaSuccess;
  auto keep = [&](cudaError_t r) {
    if (e == cudaSuccess) e = r;
  };
  const size_t batch_max = std::min<size_t>(kBatch, std::max<size_t>(1, tasks.size()));
  keep(cudaMallocAsync((void**)&tasks_d, sizeof(SpectrumTask) * std::max<size_t>(1, tasks.size()),
                       s));
  keep(cudaMallocAsync((void**)&rest_d, sizeof(SpectrumTask) * rest.size(), s));
  keep(cudaMallocAsync((void**)&runs_d, sizeof(SpectrumRun) * batch_max, s));
  keep(cudaMallocAsync((void**)&scratch, sizeof(float) * fft_size * batch_max, s));
  keep(cudaMallocAsync((void**)&bins, sizeof(float2) * nbins * batch_max, s));
  if (e != cudaSuccess) {
    g_last_error = cudaGetErrorString(e);
    return;
  }
  // The task lists live in pageable host memory that is gone when this returns: copied
  // synchronously (the runtime stages pageable memory only for the synchronous copy;
  // a blocking copy also waits for the stream's earlier work).
  if (!tasks.empty())
    keep(cudaMemcpy(tasks_d, tasks.data(), sizeof(SpectrumTask) * tasks.size(),
                    cudaMemcpyHostToDevice));
  keep(cudaMemcpy(rest_d, rest.data(), sizeof(SpectrumTask) * rest.size(), cudaMemcpyHostToDevice));
  if (e != cudaSuccess) g_last_error = cudaGetErrorString(e);
  std::vector<SpectrumRun> runs;
  for (size_t first = 0; first < tasks.size() && !g_last_error; first += kBatch) {
    const int n = (int)std::min<size_t>(kBatch, tasks.size() - first);
    TD_LAUNCH(spectrum_gather_kernel, dim3((unsigned)((fft_size + kThreads - 1) / kThreads), n),
              kThreads, s, a, tasks_d + first, fft_size, skip, window, pending, scratch);
    check_launch();
    if (g_last_error) break;
    cufftHandle forward;
    if (!fft_plan(fft_size, n, CUFFT_R2C, s, forward)) break;
    if (cufftExecR2C(forward, scratch, reinterpret_cast<cufftComplex*>(bins)) != CUFFT_SUCCESS) {
      g_last_error = "cuFFT spectrum transform failed";
      break;
    }
    runs.clear();
    for (int i = 0; i < n; ++i) {
      const long long slot = tasks[first + i].slot;
      if (runs.empty() || runs.back().slot != slot)
        runs.push_back({i, 1, slot});
      else
        ++runs.back().count;
    }
    // `runs` is rewritten by the next batch: a synchronous copy.
    if (cudaMemcpy(runs_d, runs.data(), sizeof(SpectrumRun) * runs.size(),
                   cudaMemcpyHostToDevice) != cudaSuccess) {
      g_last_error = "copying the spectrum runs failed";
      break;
    }
    TD_LAUNCH(spectrum_accumulate_kernel,
              dim3((unsigned)((nbins + kThreads - 1) / kThreads), (unsigned)runs.size()), kThreads,
              s, runs_d, bins, nbins, power);
    check_launch();
  }
  // Two slots per job: more than 32767 jobs need several launches (grid y <= 65535).
  if (!g_last_error)
    for_each_batch((int)rest.size(), kMaxGridY, [&](int first, int n) {
      TD_LAUNCH(spectrum_pending_kernel, dim3((unsigned)((fft_size + kThreads - 1) / kThreads), n),
                kThreads, s, a, rest_d + first, fft_size, skip, frames, pending);
    });
  note(cudaFreeAsync(tasks_d, s));
  note(cudaFreeAsync(rest_d, s));
  note(cudaFreeAsync(runs_d, s));
  note(cudaFreeAsync(scratch, s));
  note(cudaFreeAsync(bins, s));
}

void compressor(const StreamArena& a, const CompressorJob* jobs, const CompressorJob* host_jobs,
                int job_count, const CompressorParams* params, const CompressorParams* host_params,
                CompressorState* states, float* rings, float* trace, long long trace_hop_frames,
                int chunks, void* stream) {
  if (job_count == 0) return;
  const cudaStream_t s = (cudaStream_t)stream;
  int lanes = chunks;
  if (chunks <= 0) {
    // Four warps' worth of recurrences per multiprocessor fill the device.
    int device = 0, sms = 1;
    note(cudaGetDevice(&device));
    note(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    lanes = 128 * sms;
  }
  long long warmup = 0;
  for (int j = 0; j < job_count; ++j) {
    const long long w = compressor_warmup_frames(host_params[host_jobs[j].params]);
    warmup = w > warmup ? w : warmup;
  }
  const int count =
      chunks > 0 ? chunks : compressor_chunk_count(job_count, lanes, a.frames, warmup);
  if (count <= 1) {
    TD_LAUNCH(compressor_kernel, (job_count + 63) / 64, 64, s, a, jobs, job_count, params, states,
              rings, trace, trace_hop_frames);
    check_launch();
    return;
  }
  std::vector<long long> edge_at(job_count);
  long long edge_floats = 0;
  for (int j = 0; j < job_count; ++j) {
    edge_at[j] = edge_floats;
    edge_floats += 2LL * host_jobs[j].lookahead * (count + 1);
  }
  ChunkScratch k{};
  const size_t tasks = (size_t)job_count * count;
  long long* edge_at_d = nullptr;
  cudaError_t e = cudaSuccess;
  auto keep = [&](cudaError_t r) {
    if (e == cudaSuccess) e = r;
  };
  keep(cudaMallocAsync((void**)&k.red, sizeof(float) * 2 * (size_t)a.frames * job_count, s));
  keep(cudaMallocAsync((void**)&k.guess, sizeof(CompressorState) * tasks, s));
  keep(cudaMallocAsync((void**)&k.end, sizeof(CompressorState) * tasks, s));
  keep(cudaMallocAsync((void**)&k.edges,
                       sizeof(float) * (size_t)(edge_floats > 0 ? edge_floats : 1), s));
  keep(cudaMallocAsync((void**)&edge_at_d, sizeof(long long) * job_count, s));
  if (e != cudaSuccess) {
    g_last_error = cudaGetErrorString(e);
    return;
  }
  // edge_at is pageable and gone when this returns: a synchronous copy.
  keep(
      cudaMemcpy(edge_at_d, edge_at.data(), sizeof(long long) * job_count, cudaMemcpyHostToDevice));
  k.edge_at = edge_at_d;
  if (e != cudaSuccess) g_last_error = cudaGetErrorString(e);
  if (!g_last_error) {
    const int task_blocks = (int)((tasks + 63) / 64), job_blocks = (job_count + 63) / 64;
    TD_LAUNCH(compressor_detect_kernel, task_blocks, 64, s, a, jobs, job_count, params, states,
              rings, count, k);
    TD_LAUNCH(compressor_fix_kernel, job_blocks, 64, s, a, jobs, job_count, params, states, rings,
              count, k);
    TD_LAUNCH(compressor_apply_kernel, task_blocks, 64, s, a, jobs, job_count, params, count, k);
    TD_LAUNCH(compressor_finish_kernel, job_blocks, 64, s, a, jobs, job_count, states, rings, trace,
              trace_hop_frames, count, k);
    check_launch();
  }
  note(cudaFreeAsync(k.red, s));
  note(cudaFreeAsync(k.guess, s));
  note(cudaFreeAsync(k.end, s));
  note(cudaFreeAsync(k.edges, s));
  note(cudaFreeAsync(edge_at_d, s));
}

void limiter(const StreamArena& a, const LimiterJob* jobs, int job_count,
             const LimiterParams* params, const TruePeakFilter& f, LimiterState* states,
             float* rings, float* trace, long long trace_hop_frames, void* stream) {
  if (job_count == 0) return;
  TD_LAUNCH(limiter_kernel, (job_count + 63) / 64, 64, (cudaStream_t)stream, a, jobs, job_count,
            params, f, states, rings, trace, trace_hop_frames);
  check_launch();
}

void saturation(const StreamArena& a, const SaturationJob* jobs, const SaturationJob* host_jobs,
                int job_count, const SaturationParams* params, const SaturationParams* host_params,
                SaturationState* states, float* memory, void* stream) {
  if (job_count == 0) return;
  const cudaStream_t s = (cudaStream_t)stream;
  const int channels = 2 * job_count;
  std::vector<SatLines> lines(channels);
  long long total = 0, gather = 1, finish = 1;
  int most = 0;
  for (int k = 0; k < channels; ++k) {
    const SaturationParams& p = host_params[host_jobs[k / 2].params];
    lines[k] = sat_lines(p, k / 2, k % 2, a.frames, total);
    gather = std::max(gather, lines[k].gather);
    finish = std::max(finish, lines[k].finish);
    most = std::max(most, p.stages);
  }
  SatLines* lines_d = nullptr;
  float* scratch = nullptr;
  note(cudaMallocAsync((void**)&lines_d, sizeof(SatLines) * channels, s));
  note(cudaMallocAsync((void**)&scratch, sizeof(float) * (size_t)std::max(1LL, total), s));
  // `lines` is pageable and gone when this returns: a synchronous copy.
  if (!g_last_error)
    note(cudaMemcpy(lines_d, lines.data(), sizeof(SatLines) * channels, cudaMemcpyHostToDevice));
  if (!g_last_error) {
    for_each_batch(channels, kMaxGridY, [&](int first, int n) {
      TD_LAUNCH(sat_gather_kernel, grid_for(gather, n), kThreads, s, a, jobs, params, states,
                memory, lines_d + first, scratch);
    });
    for (int st = 0; st < most && !g_last_error; ++st)
      for_each_batch(channels, kMaxGridY, [&](int first, int n) {
        TD_LAUNCH(sat_up_kernel, grid_for(a.frames << st, n), kThreads, s, a, jobs, params,
                  lines_d + first, scratch, st);
      });
    if (!g_last_error) {
      TD_LAUNCH(sat_curve_kernel, (channels + 63) / 64, 64, s, a, jobs, params, states, memory,
                lines_d, channels, scratch);
      check_launch();
    }
    for (int st = most - 1; st >= 0 && !g_last_error; --st)
      for_each_batch(channels, kMaxGridY, [&](int first, int n) {
        TD_LAUNCH(sat_down_kernel, grid_for(a.frames << st, n), kThreads, s, a, jobs, params,
                  lines_d + first, scratch, st);
      });
    if (!g_last_error) {
      TD_LAUNCH(sat_tail_kernel, (channels + 63) / 64, 64, s, a, jobs, params, states, memory,
                lines_d, channels, scratch);
      check_launch();
    }
    if (!g_last_error)
      for_each_batch(channels, kMaxGridY, [&](int first, int n) {
        TD_LAUNCH(sat_finish_kernel, grid_for(finish, n), kThreads, s, a, jobs, params, states,
                  memory, lines_d + first, scratch);
      });
  }
  note(cudaFreeAsync(lines_d, s));
  note(cudaFreeAsync(scratch, s));
}

void utility(const StreamArena& a, const UtilityJob* jobs, int job_count,
             const UtilityParams* params, float* memory, float* line, long long line_stride,
             void* stream) {
  const cudaStream_t s = (cudaStream_t)stream;
  for_each_batch(job_count, kMaxGridY / 2, [&](int first, int n) {
    TD_LAUNCH(utility_gather_kernel, grid_for(line_stride, 2 * n), kThreads, s, a, jobs + first,
              params, memory, line, line_stride);
    TD_LAUNCH(utility_kernel, grid_for(a.frames, 2 * n), kThreads, s, a, jobs + first, params, line,
              line_stride);
    if (line_stride > a.frames)  // some job keeps a history
      TD_LAUNCH(utility_keep_kernel, grid_for(line_stride - a.frames, 2 * n), kThreads, s, a,
                jobs + first, params, memory, line, line_stride);
  });
}

void deliver_pcm(const StreamArena& a, int left, int right, float gain, uint64_t seed, int bits,
                 long long frames, int32_t* out, void* stream) {
  TD_LAUNCH(deliver_pcm_kernel, grid_for(frames, 1), kThreads, (cudaStream_t)stream, a, left, right,
            gain, seed, bits, frames, out);
  check_launch();
}

void deliver_float(const StreamArena& a, int left, int right, float gain, long long frames,
                   float* out, void* stream) {
  TD_LAUNCH(deliver_float_kernel, grid_for(frames, 1), kThreads, (cudaStream_t)stream, a, left,
            right, gain, frames, out);
  check_launch();
}

}  // namespace cuda
}  // namespace td
