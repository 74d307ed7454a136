// CUDA launchers of the saturation (block-wise: saturation.h), the utility stage and the
// console's summing stage.
#include <algorithm>
#include <vector>

#include "cuda_common.h"

namespace td {
namespace cuda {
namespace {

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

// Stage s of the FIR stages, one thread per output: up-sampling (down = 0) or down.
__global__ void sat_fir_kernel(StreamArena a, const SaturationJob* jobs,
                               const SaturationParams* params, const SatLines* lines,
                               float* scratch, int s, int down) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const SatLines& l = lines[blockIdx.y];
  const SaturationParams& p = params[jobs[l.job].params];
  if (p.stages <= s || i >= (a.frames << s)) return;
  if (down)
    sat_down(p, l, scratch, s, i);
  else
    sat_up(p, l, scratch, s, i);
}

// The steps with state, one thread per channel: the curve (tail = 0) or the DC blocker and
// the dry mix (tail = 1).
__global__ void sat_channel_kernel(StreamArena a, const SaturationJob* jobs,
                                   const SaturationParams* params, SaturationState* states,
                                   float* memory, const SatLines* lines, int channels,
                                   float* scratch, int tail) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= channels) return;
  const SatChannelView v = sat_view(a, jobs, params, states, memory, lines[k]);
  if (tail)
    sat_tail(*v.p, *v.c, lines[k], a.frames, scratch);
  else
    sat_curve(*v.p, *v.c, lines[k], v.x, a.frames, scratch);
}

// The curve where it is memoryless, one thread per sample (the others: sat_channel_kernel).
__global__ void sat_curve_kernel(StreamArena a, const SaturationJob* jobs,
                                 const SaturationParams* params, SaturationState* states,
                                 float* memory, const SatLines* lines, float* scratch) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const SatLines& l = lines[blockIdx.y];
  const SatChannelView v = sat_view(a, jobs, params, states, memory, l);
  if (!sat_is_memoryless(*v.p) || i >= (a.frames << v.p->stages)) return;
  sat_curve_at(*v.p, l, v.x, scratch, i);
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

// The console's summing stage (console.h): blockIdx.y is a job channel (2 job + channel).
__global__ void console_kernel(StreamArena a, const ConsoleJob* jobs, const ConsoleParams* params,
                               const float* memory) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= a.frames) return;
  const int c = blockIdx.y % 2;
  const ConsoleJob& job = jobs[blockIdx.y / 2];
  float* x = a.stream(c ? job.right : job.left);
  const float* key = a.stream(c ? job.key_right : job.key_left);
  x[n] = console_sample(params[job.params], x[n], key[n], n ? key[n - 1] : memory[job.memory + c],
                        c, a.origin + n);
}

__global__ void console_keep_kernel(StreamArena a, const ConsoleJob* jobs, int channels,
                                    float* memory) {
  const int k = blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= channels || a.frames <= 0) return;
  const ConsoleJob& job = jobs[k / 2];
  memory[job.memory + k % 2] = a.stream(k % 2 ? job.key_right : job.key_left)[a.frames - 1];
}

}  // namespace

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
  lines_d = (SatLines*)launch_scratch(ScratchUse::kSaturationLines, sizeof(SatLines) * channels);
  scratch = (float*)launch_scratch(ScratchUse::kSaturationScratch,
                                   sizeof(float) * (size_t)std::max(1LL, total));
  // `lines` is pageable and gone when this returns: a synchronous copy.
  if (!error_slot())
    note(cudaMemcpy(lines_d, lines.data(), sizeof(SatLines) * channels, cudaMemcpyHostToDevice));
  if (!error_slot()) {
    for_each_batch(channels, kMaxGridY, [&](int first, int n) {
      TD_LAUNCH(sat_gather_kernel, grid_for(gather, n), kThreads, s, a, jobs, params, states,
                memory, lines_d + first, scratch);
    });
    for (int st = 0; st < most && !error_slot(); ++st)
      for_each_batch(channels, kMaxGridY, [&](int first, int n) {
        TD_LAUNCH(sat_fir_kernel, grid_for(a.frames << st, n), kThreads, s, a, jobs, params,
                  lines_d + first, scratch, st, 0);
      });
    if (!error_slot())
      for_each_batch(channels, kMaxGridY, [&](int first, int n) {
        TD_LAUNCH(sat_curve_kernel, grid_for(a.frames << most, n), kThreads, s, a, jobs, params,
                  states, memory, lines_d + first, scratch);
      });
    if (!error_slot()) {
      TD_LAUNCH(sat_channel_kernel, (channels + 63) / 64, 64, s, a, jobs, params, states, memory,
                lines_d, channels, scratch, 0);
      check_launch();
    }
    for (int st = most - 1; st >= 0 && !error_slot(); --st)
      for_each_batch(channels, kMaxGridY, [&](int first, int n) {
        TD_LAUNCH(sat_fir_kernel, grid_for(a.frames << st, n), kThreads, s, a, jobs, params,
                  lines_d + first, scratch, st, 1);
      });
    if (!error_slot()) {
      TD_LAUNCH(sat_channel_kernel, (channels + 63) / 64, 64, s, a, jobs, params, states, memory,
                lines_d, channels, scratch, 1);
      check_launch();
    }
    if (!error_slot())
      for_each_batch(channels, kMaxGridY, [&](int first, int n) {
        TD_LAUNCH(sat_finish_kernel, grid_for(finish, n), kThreads, s, a, jobs, params, states,
                  memory, lines_d + first, scratch);
      });
  }
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

void console(const StreamArena& a, const ConsoleJob* jobs, int job_count,
             const ConsoleParams* params, float* memory, void* stream) {
  const cudaStream_t s = (cudaStream_t)stream;
  for_each_batch(job_count, kMaxGridY / 2, [&](int first, int n) {
    TD_LAUNCH(console_kernel, grid_for(a.frames, 2 * n), kThreads, s, a, jobs + first, params,
              memory);
    TD_LAUNCH(console_keep_kernel, (2 * n + 63) / 64, 64, s, a, jobs + first, 2 * n, memory);
  });
}

}  // namespace cuda
}  // namespace td
