// Segment lengths, grid shapes and chunk counts of both backends, in one place: what the
// launchers and the backends size themselves by, and what the renderer plans memory with.
#pragma once

namespace td {

// The work arena's length. CPU: 2^18 frames (5.5 s at 48 kHz): a level's working set stays
// in the tens of MiB while each OpenMP task (one chunk of one job) still has enough samples
// to amortise its start. GPU: 2^21 frames (44 s): a launch over a level's jobs has millions
// of threads, enough to fill an H100, while a 24-track level stays near 400 MiB.
constexpr long long kCpuSegmentFrames = 1LL << 18;
constexpr long long kGpuSegmentFrames = 1LL << 21;
// The most a batch's CPU launch groups (its estimate: arenas, kept masters, meters), below
// the memory budget (host/render/render.cpp says why).
constexpr double kCpuLaunchBytes = 256.0 * (1 << 20);

// CUDA launches: threads per block, and the grid's y limit (larger job lists go in several
// launches: for_each_batch in stages_cuda.cu).
constexpr int kCudaThreads = 256;
constexpr int kCudaMaxGridY = 65535;
// Chunks per job channel of the true-peak and sample-peak searches (their partial maxima
// are reduced on the device), and frames per batched spectrum transform.
constexpr int kCudaMeterChunks = 1024;
constexpr int kCudaPeakChunks = 256;
constexpr int kCudaSpectrumBatch = 256;

}  // namespace td
