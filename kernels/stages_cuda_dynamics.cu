// CUDA launchers of the recurrences of dynamics: compressors (one thread per job, or cut
// into chunks with a fix-up: dynamics_chunks.h) and limiters.
#include <algorithm>
#include <vector>

#include "cuda_common.h"

namespace td {
namespace cuda {
namespace {

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

}  // namespace

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
  k.red = (float*)launch_scratch(ScratchUse::kCompressorReductions,
                                 sizeof(float) * 2 * (size_t)a.frames * job_count);
  k.guess = (CompressorState*)launch_scratch(ScratchUse::kCompressorGuesses,
                                             sizeof(CompressorState) * tasks);
  k.end = (CompressorState*)launch_scratch(ScratchUse::kCompressorEnds,
                                           sizeof(CompressorState) * tasks);
  k.edges = (float*)launch_scratch(ScratchUse::kCompressorEdges,
                                   sizeof(float) * (size_t)(edge_floats > 0 ? edge_floats : 1));
  edge_at_d =
      (long long*)launch_scratch(ScratchUse::kCompressorEdgeAt, sizeof(long long) * job_count);
  if (error_slot()) return;
  if (e != cudaSuccess) {
    error_slot() = cudaGetErrorString(e);
    return;
  }
  // edge_at is pageable and gone when this returns: a synchronous copy.
  keep(
      cudaMemcpy(edge_at_d, edge_at.data(), sizeof(long long) * job_count, cudaMemcpyHostToDevice));
  k.edge_at = edge_at_d;
  if (e != cudaSuccess) error_slot() = cudaGetErrorString(e);
  if (!error_slot()) {
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
}

void limiter(const StreamArena& a, const LimiterJob* jobs, int job_count,
             const LimiterParams* params, const TruePeakFilter& f, LimiterState* states,
             float* rings, float* trace, long long trace_hop_frames, void* stream) {
  if (job_count == 0) return;
  TD_LAUNCH(limiter_kernel, (job_count + 63) / 64, 64, (cudaStream_t)stream, a, jobs, job_count,
            params, f, states, rings, trace, trace_hop_frames);
  check_launch();
}

}  // namespace cuda
}  // namespace td
