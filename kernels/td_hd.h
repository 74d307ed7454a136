// TD_HD marks per-sample DSP math that is compiled for both the CPU and the GPU.
// Under nvcc it expands to __host__ __device__; under a plain C++ compiler to nothing,
// so the CPU build needs no CUDA toolkit and runs exactly the same source.
#pragma once
#include <math.h>  // the float math (powf, log2f, ...) every kernel uses, on both compilers

#if defined(__CUDACC__)
#define TD_HD __host__ __device__ __forceinline__
#else
#define TD_HD inline
#endif
