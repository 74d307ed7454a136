// CUDA launchers of the batched stages. Each __global__ function only maps its thread
// index to (job, sample) or to a stream and calls the TD_HD math shared with the CPU
// launchers. Grids are 2-D: x covers the samples, y the jobs of the stage.
#include <cuda_runtime.h>

#include "stages.h"

namespace td {
namespace cuda {
namespace {

constexpr int kThreads = 256;
thread_local const char* g_last_error = nullptr;

void check_launch() {
  const cudaError_t e = cudaGetLastError();
  g_last_error = e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

// The grid's y dimension is limited to 65535: larger job lists go in several launches.
constexpr int kMaxGridY = 65535;

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

// A recurrence: one thread per stream.
__global__ void kweight_kernel(StreamArena a, const int* streams, int count, KWeighting k,
                               long long hop_frames, double* energies) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const long long hops = (a.frames + hop_frames - 1) / hop_frames;
  kweight_hop_energies(a.stream(streams[i]), a.frames, k, hop_frames, energies + i * hops);
}

// Per (stream, chunk) partial maxima; max is exact, so any order gives the same result.
__global__ void peaks_kernel(StreamArena a, const int* streams, TruePeakFilter f, float gain_bound,
                             float* sample_partial, float* true_partial, int chunks,
                             long long chunk_frames) {
  const int chunk = blockIdx.x * blockDim.x + threadIdx.x;
  if (chunk >= chunks) return;
  const float* x = a.stream(streams[blockIdx.y]);
  const long long span = a.frames + kTruePeakTaps - 1;
  const long long begin = chunk * chunk_frames;
  const long long end = begin + chunk_frames < span ? begin + chunk_frames : span;
  float m = 0.0f;
  for (long long n = begin; n < end && n < a.frames; ++n) m = max_of(m, abs_of(x[n]));
  sample_partial[blockIdx.y * chunks + chunk] = m;
  true_partial[blockIdx.y * chunks + chunk] =
      true_peak_range_pruned(x, a.frames, f, gain_bound, begin, end);
}

__global__ void deliver_pcm_kernel(StreamArena a, int left, int right, float gain, uint64_t seed,
                                   int bits, int32_t* out) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  out[2 * n] = quantize_left_aligned(a.stream(left)[n] * gain, tpdf_lsb(seed, 0, n), bits);
  out[2 * n + 1] = quantize_left_aligned(a.stream(right)[n] * gain, tpdf_lsb(seed, 1, n), bits);
}

__global__ void deliver_float_kernel(StreamArena a, int left, int right, float gain, float* out) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  out[2 * n] = a.stream(left)[n] * gain;
  out[2 * n + 1] = a.stream(right)[n] * gain;
}

}  // namespace

const char* last_error() {
  return g_last_error;
}

void track_input(const StreamArena& a, const TrackInputJob* jobs, int job_count,
                 const Breakpoint* points, void* stream) {
  for (int first = 0; first < job_count; first += kMaxGridY) {
    const int n = job_count - first < kMaxGridY ? job_count - first : kMaxGridY;
    track_input_kernel<<<grid_for(a.frames, n), kThreads, 0, (cudaStream_t)stream>>>(
        a, jobs + first, points);
    check_launch();
    if (g_last_error) return;
  }
}

void sum(const StreamArena& a, const SumJob* jobs, int job_count, const SumTerm* terms,
         void* stream) {
  for (int first = 0; first < job_count; first += kMaxGridY) {
    const int n = job_count - first < kMaxGridY ? job_count - first : kMaxGridY;
    sum_kernel<<<grid_for(a.frames, n), kThreads, 0, (cudaStream_t)stream>>>(a, jobs + first,
                                                                             terms);
    check_launch();
    if (g_last_error) return;
  }
}

void gain(const StreamArena& a, const GainJob* jobs, int job_count, void* stream) {
  for (int first = 0; first < job_count; first += kMaxGridY) {
    const int n = job_count - first < kMaxGridY ? job_count - first : kMaxGridY;
    gain_kernel<<<grid_for(a.frames, n), kThreads, 0, (cudaStream_t)stream>>>(a, jobs + first);
    check_launch();
    if (g_last_error) return;
  }
}

void kweight_energies(const StreamArena& a, const int* streams, int count, const KWeighting& k,
                      long long hop_frames, double* energies, void* stream) {
  if (count == 0) return;
  kweight_kernel<<<(count + 63) / 64, 64, 0, (cudaStream_t)stream>>>(a, streams, count, k,
                                                                     hop_frames, energies);
  check_launch();
}

void peaks(const StreamArena& a, const int* streams, int count, const TruePeakFilter& f,
           float* sample_peak_partial, float* true_peak_partial, int chunks, void* stream) {
  if (count == 0) return;
  const long long span = a.frames + kTruePeakTaps - 1;
  const long long chunk_frames = (span + chunks - 1) / chunks;
  for (int first = 0; first < count; first += kMaxGridY) {
    const int n = count - first < kMaxGridY ? count - first : kMaxGridY;
    peaks_kernel<<<dim3((chunks + 127) / 128, n), 128, 0, (cudaStream_t)stream>>>(
        a, streams + first, f, true_peak_gain_bound(f),
        sample_peak_partial + (long long)first * chunks,
        true_peak_partial + (long long)first * chunks, chunks, chunk_frames);
    check_launch();
    if (g_last_error) return;
  }
}

void deliver_pcm(const StreamArena& a, int left, int right, float gain, uint64_t seed, int bits,
                 int32_t* out, void* stream) {
  deliver_pcm_kernel<<<grid_for(a.frames, 1), kThreads, 0, (cudaStream_t)stream>>>(
      a, left, right, gain, seed, bits, out);
  check_launch();
}

void deliver_float(const StreamArena& a, int left, int right, float gain, float* out,
                   void* stream) {
  deliver_float_kernel<<<grid_for(a.frames, 1), kThreads, 0, (cudaStream_t)stream>>>(a, left, right,
                                                                                     gain, out);
  check_launch();
}

}  // namespace cuda
}  // namespace td
