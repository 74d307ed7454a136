// The emulated device's cuFFT subset (cuFFT API reference: cufftPlan1d, cufftSetStream,
// cufftExecR2C, cufftExecC2R, cufftDestroy) on FFTW in single precision, with the same
// FFTW_ESTIMATE plans as the CPU backend (kernels/fft.h), so transforms round alike.
// cuFFT's packed R2C layout (n/2 + 1 complex bins per transform, batches back to back) is
// FFTW's.
#pragma once
#include "cuda_runtime.h"

using cufftHandle = int;
struct cufftComplex {
  float x, y;
};
enum cufftResult {
  CUFFT_SUCCESS = 0,
  CUFFT_INVALID_PLAN = 1,
  CUFFT_ALLOC_FAILED = 2,
  CUFFT_INVALID_VALUE = 4,
  CUFFT_EXEC_FAILED = 6,
};
enum cufftType { CUFFT_R2C = 0x2a, CUFFT_C2R = 0x2c };

cufftResult cufftPlan1d(cufftHandle* plan, int nx, cufftType type, int batch);
cufftResult cufftSetStream(cufftHandle plan, cudaStream_t stream);
cufftResult cufftExecR2C(cufftHandle plan, float* in, cufftComplex* out);
cufftResult cufftExecC2R(cufftHandle plan, cufftComplex* in, float* out);
cufftResult cufftDestroy(cufftHandle plan);
