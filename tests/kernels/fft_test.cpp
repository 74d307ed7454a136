// The CPU's FFT plans (kernels/fft.h): FFTW takes the shipped wisdom, and the plans it
// makes from it transform correctly.
#include "kernels/fft.h"

#include <fftw3.h>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdio>
#include <string>
#include <vector>

namespace td {
namespace {

// The FFTW version the shipped wisdom was measured with: its first line names it.
std::string wisdom_version() {
  const std::string text =
#include "kernels/fftw_wisdom.inc"
      ;
  const size_t at = text.find("(fftw-");
  return text.substr(at + 1, text.find(' ', at) - at - 1);  // "fftw-3.3.10"
}

TEST(FftPlans, TheShippedWisdomIsTakenByTheFftwItWasMeasuredWith) {
  const std::string have = fftwf_version;  // "fftw-3.3.10-sse2-avx"
  if (have.rfind(wisdom_version() + "-", 0) != 0 && have != wisdom_version())
    GTEST_SKIP() << "wisdom of " << wisdom_version() << ", library " << have
                 << ": plans by estimate (scripts/make_fftw_wisdom.sh remakes it)";
  EXPECT_TRUE(fft_wisdom_loaded());
}

// Every size the stages use, against a direct DFT in double precision. A float FFT's error
// grows like log2(N) float epsilons of the signal's RMS (Schatzman, "Accuracy of the
// discrete Fourier transform and the fast Fourier transform", SIAM J. Sci. Comput. 1996);
// 2e-6 of the RMS bin magnitude allows about 17 epsilons at 2^14 points.
TEST(FftPlans, WisdomPlansAgreeWithADirectDft) {
  for (int n : {256, 4096, 16384}) {
    std::vector<float> x(n);
    unsigned state = 12345;
    for (float& v : x) {
      state = state * 1664525u + 1013904223u;
      v = (float)((state >> 8) * (1.0 / 16777216.0) - 0.5);
    }
    const FftPlanPair& p = fft_plans(n);
    float* in = fftwf_alloc_real((size_t)n);
    fftwf_complex* out = fftwf_alloc_complex((size_t)n / 2 + 1);
    std::copy(x.begin(), x.end(), in);
    fftwf_execute_dft_r2c(static_cast<fftwf_plan>(p.forward), in, out);
    double err = 0.0;
    for (int k = 0; k <= n / 2; k += (k < 8 ? 1 : 37)) {  // a spread of bins
      std::complex<double> sum = 0.0;
      for (int t = 0; t < n; ++t)
        sum += (double)x[t] * std::polar(1.0, -2.0 * M_PI * (double)((long long)k * t % n) / n);
      const std::complex<double> got(out[k][0], out[k][1]);
      err = std::max(err, std::abs(got - sum));
    }
    const double rms_bin = std::sqrt(n / 12.0);  // uniform(-0.5, 0.5): variance 1/12 per sample
    EXPECT_LT(err, 2e-6 * rms_bin) << n << " points";
    std::printf("%d points: largest bin error %.3g of the RMS bin\n", n, err / rms_bin);
    // And back: the inverse of the forward is n times the input.
    fftwf_execute_dft_c2r(static_cast<fftwf_plan>(p.inverse), out, in);
    double back = 0.0;
    for (int t = 0; t < n; ++t) back = std::max(back, std::fabs((double)in[t] / n - x[t]));
    EXPECT_LT(back, 1e-6) << n << " points";
    fftwf_free(in);
    fftwf_free(out);
  }
}

}  // namespace
}  // namespace td
