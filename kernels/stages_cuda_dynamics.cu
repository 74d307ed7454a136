// CUDA launchers of the recurrences of dynamics: compressors and limiters (one thread per
// job, or cut into chunks with a fix-up: dynamics_chunks.h, limiter_chunks.h).
#include <algorithm>
#include <vector>

#include "cuda_common.h"
#include "limiter_chunks.h"

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

// The chunked limiter's passes (limiter_chunks.h): one thread per (job, chunk) for hold,
// smooth, gains and output, one per job for the start, the fix-up and the statistics.
struct LimiterScratch {
  float* hold;     // per job: frames (then the applied gains)
  float* smooth;   // per job: frames
  float* pending;  // per job: pending_floats
  float* queues;   // per task: queue_floats
  float* edges;    // per task: edge_floats
  LimiterChunk* out;
  long long pending_floats, queue_floats, edge_floats;
};

__global__ void limiter_start_kernel(const LimiterJob* jobs, int job_count,
                                     const LimiterParams* params, LimiterState* states,
                                     float* rings) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const LimiterParams& p = params[jobs[j].params];
  LimiterState& st = states[jobs[j].state];
  if (!st.started) limiter_start(p, st, limiter_ring(p, rings + jobs[j].ring));
}

__global__ void limiter_hold_kernel(StreamArena a, const LimiterJob* jobs, int job_count,
                                    const LimiterParams* params, TruePeakFilter f,
                                    const LimiterState* states, float* rings, int count,
                                    LimiterScratch k) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= job_count * count) return;
  const int j = t / count, c = t % count;
  const LimiterJob& job = jobs[j];
  limiter_hold_chunk(params[job.params], f, states[job.state], rings + job.ring, a.stream(job.left),
                     a.stream(job.right), a.frames, count, c, k.hold + (long long)j * a.frames,
                     k.queues + t * k.queue_floats, &k.out[t], nullptr);
}

__global__ void limiter_smooth_kernel(StreamArena a, const LimiterJob* jobs, int job_count,
                                      const LimiterParams* params, const LimiterState* states,
                                      int count, LimiterScratch k) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= job_count * count) return;
  const int j = t / count, c = t % count;
  const LimiterJob& job = jobs[j];
  limiter_smooth_chunk(params[job.params], states[job.state], k.hold + (long long)j * a.frames,
                       a.frames, count, c, k.smooth + (long long)j * a.frames, &k.out[t]);
}

__global__ void limiter_fix_kernel(StreamArena a, const LimiterJob* jobs, int job_count,
                                   const LimiterParams* params, LimiterState* states, float* rings,
                                   int count, LimiterScratch k) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const LimiterJob& job = jobs[j];
  const LimiterParams& p = params[job.params];
  LimiterState& st = states[job.state];
  const long long t0 = (long long)j * count, last = t0 + count - 1;
  limiter_fix_chunks(p, st, k.hold + (long long)j * a.frames, k.smooth + (long long)j * a.frames,
                     a.frames, count, k.out + t0);
  for (int c = 0; c < count; ++c)
    limiter_save_edge(p, st, rings + job.ring, a.stream(job.left), a.stream(job.right), a.frames,
                      count, c, k.edges + (t0 + c) * k.edge_floats);
  limiter_advance_input(p, st, rings + job.ring, a.stream(job.left), a.stream(job.right), a.frames,
                        k.out[last], k.queues + last * k.queue_floats, count == 1);
}

__global__ void limiter_output_kernel(StreamArena a, const LimiterJob* jobs, int job_count,
                                      const LimiterParams* params, const LimiterState* states,
                                      float* rings, int count, LimiterScratch k) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= job_count * count) return;
  const int j = t / count, c = t % count;
  const LimiterJob& job = jobs[j];
  float* applied = k.hold + (long long)j * a.frames;
  limiter_gain_chunk(params[job.params], states[job.state], rings + job.ring,
                     k.smooth + (long long)j * a.frames, a.frames, count, c, applied,
                     k.pending + j * k.pending_floats, &k.out[t]);
  limiter_output_chunk(params[job.params], a.stream(job.left), a.stream(job.right),
                       k.edges + t * k.edge_floats, applied, a.frames, count, c);
}

__global__ void limiter_finish_kernel(StreamArena a, const LimiterJob* jobs, int job_count,
                                      const LimiterParams* params, LimiterState* states,
                                      float* rings, float* trace, long long trace_hop_frames,
                                      int count, LimiterScratch k) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= job_count) return;
  const LimiterJob& job = jobs[j];
  limiter_finish_segment(job, params[job.params], states[job.state], rings + job.ring,
                         k.smooth + (long long)j * a.frames, k.hold + (long long)j * a.frames,
                         k.pending + j * k.pending_floats, k.out[(long long)j * count + count - 1],
                         trace, trace_hop_frames, a.origin, a.frames);
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

void limiter(const StreamArena& a, const LimiterJob* jobs, const LimiterJob* host_jobs,
             int job_count, const LimiterParams* params, const LimiterParams* host_params,
             const TruePeakFilter& f, LimiterState* states, float* rings, float* trace,
             long long trace_hop_frames, int chunks, void* stream) {
  if (job_count == 0) return;
  const cudaStream_t s = (cudaStream_t)stream;
  long long warmup = 0, history = 0;
  LimiterScratch k{};
  for (int j = 0; j < job_count; ++j) {
    const LimiterParams& p = host_params[host_jobs[j].params];
    warmup = std::max(warmup, limiter_warmup_frames(p));
    history = std::max(history, limiter_history_frames(p));
    k.queue_floats = std::max(k.queue_floats, 2LL * (p.lookahead + 2 * kLimiterReach + 2));
    k.edge_floats = std::max(k.edge_floats, 2LL * (p.lookahead + p.pad + kLimiterExtraDelay));
    k.pending_floats = std::max(k.pending_floats, (long long)p.pad + 1);
  }
  int lanes = chunks;
  if (chunks <= 0) {  // as the compressor: four warps of recurrences per multiprocessor
    int device = 0, sms = 1;
    note(cudaGetDevice(&device));
    note(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    lanes = 128 * sms;
  }
  const int count =
      chunks > 0 ? chunks : limiter_chunk_count(job_count, lanes, a.frames, warmup, history);
  if (count <= 1 || a.frames < count * 2 * history) {
    TD_LAUNCH(limiter_kernel, (job_count + 63) / 64, 64, s, a, jobs, job_count, params, f, states,
              rings, trace, trace_hop_frames);
    check_launch();
    return;
  }
  const size_t tasks = (size_t)job_count * count;
  const size_t floats = (size_t)job_count * (2 * a.frames + k.pending_floats) +
                        tasks * (k.queue_floats + k.edge_floats);
  k.hold = (float*)launch_scratch(ScratchUse::kLimiterArrays, sizeof(float) * floats);
  k.out = (LimiterChunk*)launch_scratch(ScratchUse::kLimiterChunks, sizeof(LimiterChunk) * tasks);
  if (error_slot()) return;
  k.smooth = k.hold + (size_t)job_count * a.frames;
  k.pending = k.smooth + (size_t)job_count * a.frames;
  k.queues = k.pending + (size_t)job_count * k.pending_floats;
  k.edges = k.queues + tasks * k.queue_floats;
  const int task_blocks = (int)((tasks + 63) / 64), job_blocks = (job_count + 63) / 64;
  TD_LAUNCH(limiter_start_kernel, job_blocks, 64, s, jobs, job_count, params, states, rings);
  TD_LAUNCH(limiter_hold_kernel, task_blocks, 64, s, a, jobs, job_count, params, f, states, rings,
            count, k);
  TD_LAUNCH(limiter_smooth_kernel, task_blocks, 64, s, a, jobs, job_count, params, states, count,
            k);
  TD_LAUNCH(limiter_fix_kernel, job_blocks, 64, s, a, jobs, job_count, params, states, rings, count,
            k);
  TD_LAUNCH(limiter_output_kernel, task_blocks, 64, s, a, jobs, job_count, params, states, rings,
            count, k);
  TD_LAUNCH(limiter_finish_kernel, job_blocks, 64, s, a, jobs, job_count, params, states, rings,
            trace, trace_hop_frames, count, k);
  check_launch();
}

}  // namespace cuda
}  // namespace td
