// CUDA launchers of the FFT stages: the FIR stage (EQ, crossovers; overlap-save with
// batched cuFFT) and the long-term spectra, with the cuFFT plans they keep.
#include <cufft.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "cuda_common.h"

namespace td {
namespace cuda {
namespace {

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
      error_slot() = "cuFFT could not make a plan";
      return false;
    }
    it = c.plans.emplace(key, h).first;
  }
  if (cufftSetStream(it->second, stream) != CUFFT_SUCCESS) {
    error_slot() = "cuFFT could not bind a plan to the stream";
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
    if (error_slot()) return;
    cufftHandle forward, inverse;
    if (!fft_plan(fft_size, (int)batch, CUFFT_R2C, s, forward) ||
        !fft_plan(fft_size, (int)batch, CUFFT_C2R, s, inverse))
      return;
    if (cufftExecR2C(forward, scratch, reinterpret_cast<cufftComplex*>(bins)) != CUFFT_SUCCESS) {
      error_slot() = "cuFFT forward transform failed";
      return;
    }
    const long long products = batch * nbins;
    TD_LAUNCH(fir_multiply_kernel, (unsigned)((products + kThreads - 1) / kThreads), kThreads, s,
              jobs, spectra, nbins, blocks, bins, batch);
    check_launch();
    if (error_slot()) return;
    if (cufftExecC2R(inverse, reinterpret_cast<cufftComplex*>(bins), scratch) != CUFFT_SUCCESS) {
      error_slot() = "cuFFT inverse transform failed";
      return;
    }
  }
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(fir_next_kernel, dim3((unsigned)((keep + kThreads - 1) / kThreads), n), kThreads, s,
              a, jobs + first, states, fft_size, pending_len, blocks * hop, keep,
              next + (long long)first * fft_size);
  });
  if (error_slot()) return;
  for_each_batch(job_count, kMaxGridY, [&](int first, int n) {
    TD_LAUNCH(fir_output_kernel, grid_for(a.frames, n), kThreads, s, a, jobs + first, states,
              fft_size, taps, hop, fill, blocks, scratch + (long long)first * blocks * fft_size);
    check_launch();
    if (error_slot()) return;
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
  tasks_d = (SpectrumTask*)launch_scratch(ScratchUse::kSpectrumTasks,
                                          sizeof(SpectrumTask) * std::max<size_t>(1, tasks.size()));
  rest_d =
      (SpectrumTask*)launch_scratch(ScratchUse::kSpectrumRest, sizeof(SpectrumTask) * rest.size());
  runs_d = (SpectrumRun*)launch_scratch(ScratchUse::kSpectrumRuns, sizeof(SpectrumRun) * batch_max);
  scratch =
      (float*)launch_scratch(ScratchUse::kSpectrumFrames, sizeof(float) * fft_size * batch_max);
  bins = (float2*)launch_scratch(ScratchUse::kSpectrumBins, sizeof(float2) * nbins * batch_max);
  if (error_slot()) return;
  if (e != cudaSuccess) {
    error_slot() = cudaGetErrorString(e);
    return;
  }
  // The task lists live in pageable host memory that is gone when this returns: copied
  // synchronously (the runtime stages pageable memory only for the synchronous copy;
  // a blocking copy also waits for the stream's earlier work).
  if (!tasks.empty())
    keep(cudaMemcpy(tasks_d, tasks.data(), sizeof(SpectrumTask) * tasks.size(),
                    cudaMemcpyHostToDevice));
  keep(cudaMemcpy(rest_d, rest.data(), sizeof(SpectrumTask) * rest.size(), cudaMemcpyHostToDevice));
  if (e != cudaSuccess) error_slot() = cudaGetErrorString(e);
  std::vector<SpectrumRun> runs;
  for (size_t first = 0; first < tasks.size() && !error_slot(); first += kBatch) {
    const int n = (int)std::min<size_t>(kBatch, tasks.size() - first);
    TD_LAUNCH(spectrum_gather_kernel, dim3((unsigned)((fft_size + kThreads - 1) / kThreads), n),
              kThreads, s, a, tasks_d + first, fft_size, skip, window, pending, scratch);
    check_launch();
    if (error_slot()) break;
    cufftHandle forward;
    if (!fft_plan(fft_size, n, CUFFT_R2C, s, forward)) break;
    if (cufftExecR2C(forward, scratch, reinterpret_cast<cufftComplex*>(bins)) != CUFFT_SUCCESS) {
      error_slot() = "cuFFT spectrum transform failed";
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
      error_slot() = "copying the spectrum runs failed";
      break;
    }
    TD_LAUNCH(spectrum_accumulate_kernel,
              dim3((unsigned)((nbins + kThreads - 1) / kThreads), (unsigned)runs.size()), kThreads,
              s, runs_d, bins, nbins, power);
    check_launch();
  }
  // Two slots per job: more than 32767 jobs need several launches (grid y <= 65535).
  if (!error_slot())
    for_each_batch((int)rest.size(), kMaxGridY, [&](int first, int n) {
      TD_LAUNCH(spectrum_pending_kernel, dim3((unsigned)((fft_size + kThreads - 1) / kThreads), n),
                kThreads, s, a, rest_d + first, fft_size, skip, frames, pending);
    });
}

}  // namespace cuda
}  // namespace td
