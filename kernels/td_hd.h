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

// TD_SIMD before a loop whose iterations are independent: the CPU compiler vectorises that
// loop rather than an enclosing or an inner one (OpenMP's simd construct; the arithmetic
// and its order within each iteration are unchanged, so are the bits). Nothing on the GPU.
#if defined(__CUDACC__) || !defined(_OPENMP)
#define TD_SIMD
#else
#define TD_SIMD _Pragma("omp simd")
#endif
