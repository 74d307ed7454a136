// CUDA launchers of the batched stages (the mixer, the meters, delivery; the others in
// stages_cuda_fft.cu, stages_cuda_dynamics.cu and stages_cuda_saturation.cu). Each
// __global__ function only maps its thread index to (job, sample) or to a stream and calls
// the TD_HD math shared with the CPU launchers. Grids are 2-D: x covers the samples, y the
// jobs of the stage; every launch goes through TD_LAUNCH (cuda_launch.h).
#include <algorithm>
#include <mutex>
#include <vector>

#include "cuda_common.h"
#include "meter_chunks.h"

namespace td {
namespace cuda {
namespace {

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

// The chunked hop sums (meter_chunks.h): one thread per (job, channel, chunk), then one per
// (job, channel) to gather the chunks.
__global__ void meter_chunk_kernel(StreamArena a, const MeterJob* jobs, int job_count, KWeighting k,
                                   long long hop_frames, const MeterState* states, MeterHop* hops,
                                   long long hops_per_state, int want, MeterChunk* out,
                                   MeterChannelState* trailing) {
  const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= 2LL * job_count * want) return;
  const int j = (int)(t / (2 * want)), c = (int)((t / want) % 2), chunk = (int)(t % want);
  const MeterJob& job = jobs[j];
  if (c >= job.channels) return;
  const long long frames = meter_frames(a.origin, a.frames, job.end);
  const MeterChannelState& st = states[job.state].channel[c];
  const int count = meter_chunks_of(k, st, want, frames, hop_frames);
  if (chunk >= count) return;
  const float* x = a.stream(c ? job.right : job.left);
  const float* other = (c == 0 && job.channels == 2) ? a.stream(job.right) : nullptr;
  meter_channel_chunk(x, other, frames, c, k, hop_frames, st, count, chunk,
                      hops + job.state * hops_per_state, out + t, trailing + 2 * j + c);
}

__global__ void meter_finish_kernel(StreamArena a, const MeterJob* jobs, int job_count,
                                    KWeighting k, long long hop_frames, MeterState* states,
                                    int want, const MeterChunk* out,
                                    const MeterChannelState* trailing) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= 2 * job_count) return;
  const MeterJob& job = jobs[t / 2];
  const int c = t % 2;
  if (c >= job.channels) return;
  const long long frames = meter_frames(a.origin, a.frames, job.end);
  MeterChannelState& st = states[job.state].channel[c];
  const int count = meter_chunks_of(k, st, want, frames, hop_frames);
  meter_channel_finish(c ? a.stream(job.right) : a.stream(job.left), frames, st, count,
                       out + (long long)t * want, trailing[t]);
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
                                   int bits, long long begin, long long first, long long frames,
                                   int32_t* out) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= frames) return;
  float dl, dr;
  tpdf_lsb_pair(seed, (uint64_t)(first + n), dl, dr);
  out[2 * n] = quantize_left_aligned(a.stream(left)[begin + n] * gain, dl, bits);
  out[2 * n + 1] = quantize_left_aligned(a.stream(right)[begin + n] * gain, dr, bits);
}

__global__ void deliver_float_kernel(StreamArena a, int left, int right, float gain,
                                     long long begin, long long frames, float* out) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= frames) return;
  out[2 * n] = a.stream(left)[begin + n] * gain;
  out[2 * n + 1] = a.stream(right)[begin + n] * gain;
}

}  // namespace

const char*& error_slot() {
  thread_local const char* error = nullptr;
  return error;
}

namespace {
struct ScratchBuffers {
  std::mutex m;
  void* ptr[(int)ScratchUse::kCount] = {};
  size_t bytes[(int)ScratchUse::kCount] = {};
};
ScratchBuffers& scratch_buffers() {
  static ScratchBuffers b;
  return b;
}
}  // namespace

void* launch_scratch(ScratchUse use, size_t bytes) {
  ScratchBuffers& b = scratch_buffers();
  std::lock_guard<std::mutex> lock(b.m);
  const int u = (int)use;
  bytes = bytes > 0 ? bytes : 1;
  if (b.bytes[u] < bytes) {
    if (b.ptr[u]) note(cudaFree(b.ptr[u]));
    b.ptr[u] = nullptr;
    b.bytes[u] = 0;
    if (cudaMalloc(&b.ptr[u], bytes) != cudaSuccess) {
      note(cudaErrorMemoryAllocation);
      b.ptr[u] = nullptr;
      return nullptr;
    }
    b.bytes[u] = bytes;
  }
  return b.ptr[u];
}

void release_scratch() {
  ScratchBuffers& b = scratch_buffers();
  std::lock_guard<std::mutex> lock(b.m);
  for (int u = 0; u < (int)ScratchUse::kCount; ++u) {
    if (b.ptr[u]) cudaFree(b.ptr[u]);
    b.ptr[u] = nullptr;
    b.bytes[u] = 0;
  }
}

const char* last_error() {
  const char* e = error_slot();  // read once: the next launcher starts clean
  error_slot() = nullptr;
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
    if (error_slot()) return;
    TD_LAUNCH(floor_reduce_kernel, (2 * n + 127) / 128, 128, (cudaStream_t)stream, jobs + first, n,
              states, true_peak_partial, chunks);
    check_launch();
    if (error_slot()) return;
    TD_LAUNCH(true_peak_kernel, dim3((chunks + 127) / 128, 2 * n), 128, (cudaStream_t)stream, a,
              jobs + first, f, true_peak_gain_bound(f), states, span, true_peak_partial, chunks,
              chunk_frames);
    check_launch();
    if (error_slot()) return;
    TD_LAUNCH(true_peak_reduce_kernel, (2 * n + 127) / 128, 128, (cudaStream_t)stream, jobs + first,
              n, states, true_peak_partial, chunks);
  });
  if (error_slot()) return;
  // The hop sums: one thread per job, or, with fewer channels than four warps per
  // multiprocessor, per (job, channel, chunk) (meter_chunks.h; the same bits).
  int device = 0, sms = 1;
  note(cudaGetDevice(&device));
  note(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const int lanes = 128 * sms;
  if (2 * job_count >= lanes) {
    TD_LAUNCH(meter_kernel, (job_count + 63) / 64, 64, (cudaStream_t)stream, a, jobs, job_count, k,
              hop_frames, states, hops, hops_per_state);
    check_launch();
    return;
  }
  const int want = (lanes + 2 * job_count - 1) / (2 * job_count);
  const long long tasks = 2LL * job_count * want;
  auto* out = (MeterChunk*)launch_scratch(ScratchUse::kMeterChunks, sizeof(MeterChunk) * tasks);
  auto* trailing = (MeterChannelState*)launch_scratch(
      ScratchUse::kMeterTrailing, sizeof(MeterChannelState) * 2 * (size_t)job_count);
  if (error_slot()) return;
  TD_LAUNCH(meter_chunk_kernel, (unsigned)((tasks + 63) / 64), 64, (cudaStream_t)stream, a, jobs,
            job_count, k, hop_frames, states, hops, hops_per_state, want, out, trailing);
  TD_LAUNCH(meter_finish_kernel, (2 * job_count + 63) / 64, 64, (cudaStream_t)stream, a, jobs,
            job_count, k, hop_frames, states, want, out, trailing);
  check_launch();
}

void peak_hold(const StreamArena& a, const PeakJob* jobs, int job_count, float* peaks,
               float* partial, int chunks, void* stream) {
  const long long chunk_frames = (a.frames + chunks - 1) / chunks;
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(peak_partial_kernel, dim3((chunks + 127) / 128, n), 128, (cudaStream_t)stream, a,
              jobs + first, partial, chunks, chunk_frames);
    check_launch();
    if (error_slot()) return;
    TD_LAUNCH(peak_reduce_kernel, 1, 1, (cudaStream_t)stream, jobs + first, n, peaks, partial,
              chunks);
  });
}

void deliver_pcm(const StreamArena& a, int left, int right, float gain, uint64_t seed, int bits,
                 long long begin, long long first, long long frames, int32_t* out, void* stream) {
  TD_LAUNCH(deliver_pcm_kernel, grid_for(frames, 1), kThreads, (cudaStream_t)stream, a, left, right,
            gain, seed, bits, begin, first, frames, out);
  check_launch();
}

void deliver_float(const StreamArena& a, int left, int right, float gain, long long begin,
                   long long frames, float* out, void* stream) {
  TD_LAUNCH(deliver_float_kernel, grid_for(frames, 1), kThreads, (cudaStream_t)stream, a, left,
            right, gain, begin, frames, out);
  check_launch();
}

}  // namespace cuda
}  // namespace td
