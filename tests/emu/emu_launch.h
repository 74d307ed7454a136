// Kernel launches on the emulated device (TD_LAUNCH in kernels/cuda_launch.h). A launch
// is checked as a GPU checks it (no zero sizes, grid y and z at most 65535, at most 1024
// threads per block), then runs every thread of the grid: blocks in a shuffled order,
// spread over the host's cores, the threads of a block in a shuffled order. In race mode
// (TD_EMU_RACE=1) each launch runs twice from the same snapshot of device memory, once in
// order and once in reverse, one thread at a time, and the process stops if the two leave
// different memory: a kernel whose result depends on the order of its threads.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>

#include "cuda_runtime.h"

namespace td_emu {

// Runs body(block, thread) over the grid, or records the launch error.
void run_grid(const char* name, dim3 grid, dim3 block, cudaStream_t stream,
              const std::function<void()>& body);

template <class... Params, class... Args>
void launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream,
            Args&&... args) {
  const std::tuple<Params...> bound(std::forward<Args>(args)...);
  run_grid(name, grid, block, stream, [&] { std::apply(kernel, bound); });
}

// Launches per kernel name in this process (for the test that every kernel runs).
std::map<std::string, long long> launch_counts();
// Device allocations alive now (a leak check).
long long live_allocations();

}  // namespace td_emu
