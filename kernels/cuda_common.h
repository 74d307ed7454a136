// What every CUDA launcher file shares: the launch constants, the first-error record that
// cuda::last_error() reports, and the grid helpers. Private to kernels/stages_cuda*.cu.
#pragma once
#include <cuda_runtime.h>

#include "cuda_launch.h"
#include "launch_policy.h"
#include "stages.h"

namespace td {
namespace cuda {

constexpr int kThreads = kCudaThreads;
constexpr int kMaxGridY = kCudaMaxGridY;

// The first failed runtime call or launch of the calling thread since last_error() was
// read (a function, not an extern thread_local: UBSan misreads those across files).
const char*& error_slot();

// Notes the first failed runtime call of a launcher (its status is what last_error()
// reports; later calls do not overwrite it).
inline void note(cudaError_t e) {
  if (e != cudaSuccess && !error_slot()) error_slot() = cudaGetErrorString(e);
}

// Notes a failed launch (the runtime keeps a launch error until it is read).
inline void check_launch() {
  note(cudaGetLastError());
}

// Runs launch(first, n) over [0, job_count) in batches of at most `per_launch` jobs (the
// grid's y limit), stopping at the first failed launch.
template <class Launch>
void for_each_batch(int job_count, int per_launch, Launch launch) {
  for (int first = 0; first < job_count; first += per_launch) {
    const int n = job_count - first < per_launch ? job_count - first : per_launch;
    launch(first, n);  // may check its own launches and stop early
    if (!error_slot()) check_launch();
    if (error_slot()) return;
  }
}

// The launchers' scratch memory, allocated once and kept: one growing buffer per use,
// freed by release_scratch() when the backend goes away. Growing frees the old buffer
// first (cudaFree waits for the device: no queued kernel still reads it). nullptr, with the
// error noted, when the device is out of memory.
enum class ScratchUse {
  kCompressorReductions,
  kCompressorGuesses,
  kCompressorEnds,
  kCompressorEdges,
  kCompressorEdgeAt,
  kSpectrumTasks,
  kSpectrumRest,
  kSpectrumRuns,
  kSpectrumFrames,
  kSpectrumBins,
  kSaturationLines,
  kSaturationScratch,
  kLimiterArrays,
  kLimiterChunks,
  kMeterChunks,
  kMeterTrailing,
  kCount
};
void* launch_scratch(ScratchUse use, size_t bytes);

inline dim3 grid_for(long long frames, int jobs) {
  return dim3((unsigned)((frames + kThreads - 1) / kThreads), (unsigned)jobs);
}

}  // namespace cuda
}  // namespace td
