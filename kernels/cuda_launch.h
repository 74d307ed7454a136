// One launch macro for every kernel of stages_cuda.cu: `<<<grid, block, 0, stream>>>` under
// nvcc, the emulated device's launch (tests/emu: thread by thread on the CPU, in a shuffled
// order, configurations checked as a GPU checks them) in the EMU build.
#pragma once

#if defined(TOPDOWN_CUDA_EMU)
#include "emu_launch.h"
#define TD_LAUNCH(kernel, grid, block, stream, ...) \
  ::td_emu::launch(#kernel, kernel, dim3(grid), dim3(block), (cudaStream_t)(stream), __VA_ARGS__)
#else
#define TD_LAUNCH(kernel, grid, block, stream, ...) \
  kernel<<<(grid), (block), 0, (cudaStream_t)(stream)>>>(__VA_ARGS__)
#endif
