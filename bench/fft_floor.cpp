// The lower bound of an overlap-save FIR stage on this machine: FFTW's raw single-precision
// throughput for the transforms alone (one forward and one inverse of each block, on all
// cores, the same plans the stage uses, no gathering, no spectrum product, no I/O).
// Usage: fft_floor FFT_SIZE BLOCKS  -> prints the seconds.
#include <fftw3.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kernels/fft.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fft_floor FFT_SIZE BLOCKS\n");
    return 1;
  }
  const int n = std::atoi(argv[1]);
  const long long blocks = std::atoll(argv[2]);
  const td::FftPlanPair& plans = td::fft_plans(n);
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel
  {
    float* x = fftwf_alloc_real(n);
    fftwf_complex* c = fftwf_alloc_complex(n / 2 + 1);
    for (int i = 0; i < n; ++i) x[i] = (float)((i * 7919) % 1000) * 1e-3f;
#pragma omp for schedule(dynamic, 1)
    for (long long b = 0; b < blocks; ++b) {
      fftwf_execute_dft_r2c(static_cast<fftwf_plan>(plans.forward), x, c);
      fftwf_execute_dft_c2r(static_cast<fftwf_plan>(plans.inverse), c, x);
      for (int i = 0; i < n; ++i) x[i] *= 1.0f / n;  // keep the data bounded
    }
    fftwf_free(x);
    fftwf_free(c);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.4f\n", s);
  return 0;
}
