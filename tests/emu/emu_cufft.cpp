#include <fftw3.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "cufft.h"
#include "kernels/fft.h"

namespace {

struct Plan {
  int n;
  cufftType type;
  int batch;
};

std::mutex g_mutex;
std::map<cufftHandle, Plan> g_plans;
int g_next = 1;

bool find(cufftHandle h, Plan& p) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_plans.find(h);
  if (it == g_plans.end()) return false;
  p = it->second;
  return true;
}

// Device memory is host memory here; the transforms copy through FFTW-aligned buffers,
// the alignment the CPU backend's plans were made for.
struct Aligned {
  float* real;
  fftwf_complex* complex;
  explicit Aligned(int n)
      : real(fftwf_alloc_real((size_t)n)), complex(fftwf_alloc_complex((size_t)n / 2 + 1)) {}
  ~Aligned() {
    fftwf_free(real);
    fftwf_free(complex);
  }
};

}  // namespace

cufftResult cufftPlan1d(cufftHandle* plan, int nx, cufftType type, int batch) {
  if (!plan || nx < 2 || batch < 1 || (type != CUFFT_R2C && type != CUFFT_C2R))
    return CUFFT_INVALID_VALUE;
  td::fft_plans(nx);  // the CPU backend's plans of this size
  std::lock_guard<std::mutex> lock(g_mutex);
  *plan = g_next++;
  g_plans[*plan] = {nx, type, batch};
  return CUFFT_SUCCESS;
}

cufftResult cufftSetStream(cufftHandle plan, cudaStream_t) {
  Plan p;
  return find(plan, p) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}

cufftResult cufftExecR2C(cufftHandle plan, float* in, cufftComplex* out) {
  Plan p;
  if (!find(plan, p) || p.type != CUFFT_R2C) return CUFFT_INVALID_PLAN;
  const td::FftPlanPair& f = td::fft_plans(p.n);
  const int bins = p.n / 2 + 1;
  Aligned buf(p.n);
  for (int b = 0; b < p.batch; ++b) {
    std::memcpy(buf.real, in + (size_t)b * p.n, sizeof(float) * p.n);
    fftwf_execute_dft_r2c(static_cast<fftwf_plan>(f.forward), buf.real, buf.complex);
    std::memcpy(out + (size_t)b * bins, buf.complex, sizeof(cufftComplex) * bins);
  }
  return CUFFT_SUCCESS;
}

cufftResult cufftExecC2R(cufftHandle plan, cufftComplex* in, float* out) {
  Plan p;
  if (!find(plan, p) || p.type != CUFFT_C2R) return CUFFT_INVALID_PLAN;
  const td::FftPlanPair& f = td::fft_plans(p.n);
  const int bins = p.n / 2 + 1;
  Aligned buf(p.n);
  for (int b = 0; b < p.batch; ++b) {
    std::memcpy(buf.complex, in + (size_t)b * bins, sizeof(cufftComplex) * bins);
    fftwf_execute_dft_c2r(static_cast<fftwf_plan>(f.inverse), buf.complex, buf.real);
    std::memcpy(out + (size_t)b * p.n, buf.real, sizeof(float) * p.n);
  }
  return CUFFT_SUCCESS;
}

cufftResult cufftDestroy(cufftHandle plan) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_plans.erase(plan) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}
