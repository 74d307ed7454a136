#include "fir_design.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace td {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Kaiser window shape: beta 9 puts the side lobes near -90 dB, under the test's floor,
// with a main lobe narrow enough that the tap rule above meets +-0.1 dB.
constexpr double kKaiserBeta = 9.0;

std::mutex& design_planner_mutex() {
  static std::mutex m;
  return m;
}

int next_pow2(long long n) {
  int p = 1;
  while (p < n) p <<= 1;
  return p;
}

double kaiser(double x) {
  return kaiser_window(x, kKaiserBeta);
}

// Real data of length m (even) from its m/2 + 1 Hermitian bins: x = IDFT(X), normalised.
std::vector<double> inverse_real(std::vector<std::complex<double>> bins, int m) {
  std::vector<double> out(m);
  fftw_plan plan;
  {
    std::lock_guard<std::mutex> lock(design_planner_mutex());
    plan = fftw_plan_dft_c2r_1d(m, reinterpret_cast<fftw_complex*>(bins.data()), out.data(),
                                FFTW_ESTIMATE);
  }
  if (!plan) throw std::runtime_error("FFTW could not plan a design transform");
  fftw_execute(plan);
  {
    std::lock_guard<std::mutex> lock(design_planner_mutex());
    fftw_destroy_plan(plan);
  }
  for (double& v : out) v /= m;
  return out;
}

std::vector<std::complex<double>> forward_real(std::vector<double> x) {
  const int m = (int)x.size();
  std::vector<std::complex<double>> out(m / 2 + 1);
  fftw_plan plan;
  {
    std::lock_guard<std::mutex> lock(design_planner_mutex());
    plan = fftw_plan_dft_r2c_1d(m, x.data(), reinterpret_cast<fftw_complex*>(out.data()),
                                FFTW_ESTIMATE);
  }
  if (!plan) throw std::runtime_error("FFTW could not plan a design transform");
  fftw_execute(plan);
  {
    std::lock_guard<std::mutex> lock(design_planner_mutex());
    fftw_destroy_plan(plan);
  }
  return out;
}

}  // namespace

double bessel_i0(double x) {
  const double q = 0.25 * x * x;
  double term = 1.0, sum = 1.0;
  for (int k = 1; k < 500 && term > 1e-17 * sum; ++k) {
    term *= q / ((double)k * k);
    sum += term;
  }
  return sum;
}

double kaiser_window(double x, double beta) {
  const double r = 1.0 - x * x;
  return bessel_i0(beta * std::sqrt(std::max(0.0, r))) / bessel_i0(beta);
}

int fir_taps_for(double duration_s, double sample_rate) {
  const double half = std::ceil(0.5 * std::min(duration_s, kFirMaxSeconds) * sample_rate);
  return (int)std::max<long long>(2 * (long long)half + 1, kFirMinTaps);
}

FirShape fir_shape(int taps, FirPhase phase) {
  FirShape s;
  s.taps = taps;
  // Overlap-save costs about N log2 N per hop of N - taps + 1 new samples: the smallest FFT
  // (2x the taps) spends half of each transform on the overlap. Up to 2^17 points (512 KiB
  // of floats, still in a core's cache) a longer FFT at the same taps is cheaper per
  // sample: 2047 taps on 2^14 points cost 0.67 of 2^12, 22401 on 2^17 0.84 of 2^16.
  const int smallest = next_pow2(2LL * taps);
  auto cost = [&](int n) { return n * std::log2((double)n) / (n - taps + 1); };
  s.fft_size = smallest;
  for (int n = 2 * smallest; n <= std::max(smallest, 1 << 17) && n <= 4 * smallest; n *= 2)
    if (cost(n) < cost(s.fft_size)) s.fft_size = n;
  s.hop = s.fft_size - taps + 1;
  s.delay = phase == FirPhase::kLinear ? (taps - 1) / 2 : 0;
  return s;
}

std::vector<double> design_fir(const std::function<double(double)>& magnitude, double sample_rate,
                               const FirShape& shape, FirPhase phase) {
  const int taps = shape.taps;
  std::vector<double> h(taps, 0.0);
  if (phase == FirPhase::kLinear) {
    // The zero-phase impulse response of the sampled magnitude on a grid 8x finer than the
    // FIR is long, so its circular wrap-around is negligible; then centred and windowed.
    const int m = std::max(4096, next_pow2(8LL * taps));
    std::vector<std::complex<double>> bins(m / 2 + 1);
    for (int k = 0; k <= m / 2; ++k) bins[k] = magnitude((double)k * sample_rate / m);
    const std::vector<double> ideal = inverse_real(std::move(bins), m);
    const int d = (taps - 1) / 2;
    h[d] = ideal[0];
    for (int n = 1; n <= d; ++n) {
      // Exactly symmetric (the two halves are equal in exact arithmetic).
      const double v = 0.5 * (ideal[n] + ideal[m - n]) * kaiser((double)n / (d + 1));
      h[d + n] = h[d - n] = v;
    }
    return h;
  }
  // Minimum phase: log magnitude -> real cepstrum -> fold onto n >= 0 -> exp -> impulse
  // response. A finer grid (32x) keeps the cepstrum's aliasing small; the log is floored
  // at -240 dB, far below anything the tests or the ear resolve.
  const int m = std::max(8192, next_pow2(32LL * taps));
  std::vector<std::complex<double>> logmag(m / 2 + 1);
  for (int k = 0; k <= m / 2; ++k)
    logmag[k] = std::log(std::max(magnitude((double)k * sample_rate / m), 1e-12));
  std::vector<double> c = inverse_real(std::move(logmag), m);
  for (int n = 1; n < m / 2; ++n) c[n] *= 2.0;
  for (int n = m / 2 + 1; n < m; ++n) c[n] = 0.0;
  std::vector<std::complex<double>> spec = forward_real(std::move(c));
  for (auto& z : spec) z = std::exp(z);
  const std::vector<double> hmin = inverse_real(std::move(spec), m);
  for (int n = 0; n < taps; ++n) h[n] = hmin[n] * kaiser((double)n / taps);
  return h;
}

std::vector<std::complex<float>> fir_spectrum(const std::vector<double>& taps, int fft_size) {
  std::vector<double> x(fft_size, 0.0);
  std::copy(taps.begin(), taps.end(), x.begin());
  const std::vector<std::complex<double>> bins = forward_real(std::move(x));
  std::vector<std::complex<float>> out(bins.size());
  for (size_t k = 0; k < bins.size(); ++k) out[k] = std::complex<float>(bins[k] / (double)fft_size);
  return out;
}

std::complex<double> fir_response(const std::vector<double>& taps, double f_hz,
                                  double sample_rate) {
  const double w = 2.0 * kPi * f_hz / sample_rate;
  std::complex<double> sum = 0.0;
  // Recurrence-free: cos/sin per tap keeps the error at rounding level for long FIRs.
  for (size_t n = 0; n < taps.size(); ++n)
    sum += taps[n] * std::complex<double>(std::cos(w * n), -std::sin(w * n));
  return sum;
}

}  // namespace td
