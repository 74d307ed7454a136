#include "align/measure.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <mutex>

namespace td {
namespace {

using cd = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

// FFTW's planner is not thread-safe: every plan of this file is made and destroyed under
// this one lock.
std::mutex planning;

// Double-precision real FFT of x zero-padded to n (FFTW_ESTIMATE: the same every run).
std::vector<cd> spectrum(const std::vector<double>& x, int n) {
  double* in = fftw_alloc_real(n);
  fftw_complex* out = fftw_alloc_complex(n / 2 + 1);
  fftw_plan p;
  {
    std::lock_guard<std::mutex> lock(planning);
    p = fftw_plan_dft_r2c_1d(n, in, out, FFTW_ESTIMATE);
  }
  std::fill(in, in + n, 0.0);
  std::copy(x.begin(), x.end(), in);
  fftw_execute(p);
  std::vector<cd> s((size_t)n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) s[(size_t)k] = {out[k][0], out[k][1]};
  {
    std::lock_guard<std::mutex> lock(planning);
    fftw_destroy_plan(p);
  }
  fftw_free(in);
  fftw_free(out);
  return s;
}

// The band-limited (PHAT-weighted) correlation at a fractional lag tau: the inverse DFT of
// the whitened cross-spectrum evaluated between its samples (sum over the half spectrum).
double correlation_at(const std::vector<cd>& g, int n, double tau) {
  double acc = g[0].real();
  const double w = 2.0 * kPi * tau / n;
  // e^{jwk} by rotation (double: the drift over a million steps is about 1e-10), exact
  // again every 4096 bins.
  const cd step = std::polar(1.0, w);
  cd rot = step;
  for (size_t k = 1; k + 1 < g.size(); ++k) {
    acc += 2.0 * (g[k] * rot).real();
    rot = (k + 1) % 4096 == 0 ? std::polar(1.0, w * (double)(k + 1)) : rot * step;
  }
  acc += (g.back() * std::polar(1.0, w * (double)(g.size() - 1))).real();
  return acc / n;
}

double energy_below(const std::vector<cd>& s, int n, int rate, double hz) {
  double e = 0.0;
  for (size_t k = 1; k < s.size() && (double)k * rate / n < hz; ++k) e += std::norm(s[k]);
  return e;
}

}  // namespace

AlignMeasurement measure_alignment(const std::vector<float>& reference,
                                   const std::vector<float>& track, int rate, double max_delay_ms,
                                   long long window) {
  AlignMeasurement m;
  const long long len = (long long)std::min(reference.size(), track.size());
  if (len < 16) return m;
  // The window: around the reference's loudest second (where both have signal).
  long long begin = 0;
  if (len > window) {
    double best = -1.0;
    for (long long b = 0; b + rate <= len; b += rate / 2) {
      double e = 0.0;
      for (long long i = b; i < b + rate; ++i) e += (double)reference[i] * reference[i];
      if (e > best) best = e, begin = b;
    }
    begin = std::clamp(begin + rate / 2 - window / 2, 0LL, len - window);
  }
  const long long w = std::min(len, window);
  std::vector<double> x((size_t)w), y((size_t)w);
  for (long long i = 0; i < w; ++i) x[i] = reference[begin + i], y[i] = track[begin + i];
  int n = 1;
  while (n < 2 * w) n *= 2;  // zero-padded: the correlation does not wrap
  const std::vector<cd> X = spectrum(x, n), Y = spectrum(y, n);
  // Whitened cross-spectrum G = Y conj(X) / |Y conj(X)| over bins where both have signal.
  std::vector<cd> g(X.size());
  double most = 0.0;
  for (size_t k = 0; k < g.size(); ++k) most = std::max(most, std::abs(Y[k] * std::conj(X[k])));
  double used = 0.0;
  for (size_t k = 0; k < g.size(); ++k) {
    const cd c = Y[k] * std::conj(X[k]);
    const double a = std::abs(c);
    if (a > most * 1e-9) g[k] = c / a, used += (k == 0 || k + 1 == g.size()) ? 1.0 : 2.0;
  }
  if (used == 0.0) return m;
  const double scale = n / used;  // a perfect single-delay match peaks at 1
  // Coarse peak: the inverse transform at whole lags within the range.
  std::vector<double> r(n);
  {
    fftw_complex* in = fftw_alloc_complex(g.size());
    double* out = fftw_alloc_real(n);
    fftw_plan p;
    {
      std::lock_guard<std::mutex> lock(planning);
      p = fftw_plan_dft_c2r_1d(n, in, out, FFTW_ESTIMATE);
    }
    for (size_t k = 0; k < g.size(); ++k) in[k][0] = g[k].real(), in[k][1] = g[k].imag();
    fftw_execute(p);
    for (int i = 0; i < n; ++i) r[i] = out[i] / n * scale;
    {
      std::lock_guard<std::mutex> lock(planning);
      fftw_destroy_plan(p);
    }
    fftw_free(in);
    fftw_free(out);
  }
  const long long reach = std::min<long long>((long long)(max_delay_ms * 1e-3 * rate), w - 1);
  long long at = 0;
  for (long long l = -reach; l <= reach; ++l)
    if (std::abs(r[(l + n) % n]) > std::abs(r[(at + n) % n])) at = l;
  m.polarity = r[(at + n) % n] < 0.0 ? -1 : 1;
  // Refinement: the band-limited correlation sampled every 1/16 sample around the coarse
  // peak, then a parabola through the three highest samples (the peak of a sinc-like main
  // lobe sampled this finely is a parabola to well under a hundredth of a sample).
  auto c = [&](double tau) { return m.polarity * correlation_at(g, n, tau) * scale; };
  double best_tau = (double)at, best = c(best_tau);
  const int steps = 16;
  for (int i = -steps; i <= steps; ++i) {
    const double tau = (double)at + (double)i / steps;
    const double v = c(tau);
    if (v > best) best = v, best_tau = tau;
  }
  const double h = 1.0 / steps;
  const double a = c(best_tau - h), b = best, d = c(best_tau + h);
  const double denom = a - 2.0 * b + d;
  const double shift = denom < 0.0 ? 0.5 * (a - d) / denom : 0.0;
  m.delay_samples = best_tau + std::clamp(shift, -0.5, 0.5) * h;
  m.peak = std::min(1.0, std::max(0.0, b));
  // Coherence (normalised correlation) and the sum's spectrum before and after: the
  // correction applied in the frequency domain (a delay of -delay and the polarity).
  std::vector<cd> sb(X.size()), sa(X.size());
  double xy_before = 0, xy_after = 0;
  for (size_t k = 0; k < X.size(); ++k) {
    const double wk = (k == 0 || k + 1 == X.size()) ? 1.0 : 2.0;
    const cd yk =
        Y[k] * std::polar((double)m.polarity, 2.0 * kPi * (double)k * m.delay_samples / n);
    xy_before += wk * (Y[k] * std::conj(X[k])).real();
    xy_after += wk * (yk * std::conj(X[k])).real();
    sb[k] = X[k] + Y[k];
    sa[k] = X[k] + yk;
  }
  double xx2 = 0, yy2 = 0;
  for (size_t k = 0; k < X.size(); ++k) {
    const double wk = (k == 0 || k + 1 == X.size()) ? 1.0 : 2.0;
    xx2 += wk * std::norm(X[k]), yy2 += wk * std::norm(Y[k]);
  }
  const double norm = std::sqrt(std::max(1e-300, xx2 * yy2));
  m.coherence_before = xy_before / norm;
  m.coherence_after = xy_after / norm;
  const double lb = energy_below(sb, n, rate, 200.0), la = energy_below(sa, n, rate, 200.0);
  m.lf_gain_db = lb > 0.0 && la > 0.0 ? 10.0 * std::log10(la / lb) : 0.0;
  for (double f = 20.0; f <= 20000.0 * 1.0001; f *= std::pow(2.0, 1.0 / 3.0)) {
    const double lo = f / std::pow(2.0, 1.0 / 6.0), hi = f * std::pow(2.0, 1.0 / 6.0);
    double eb = 0, ea = 0;
    int bins = 0;
    for (size_t k = (size_t)std::ceil(lo * n / rate); k < sb.size() && k * (double)rate / n < hi;
         ++k)
      eb += std::norm(sb[k]), ea += std::norm(sa[k]), ++bins;
    if (bins == 0) continue;
    m.band_hz.push_back(f);
    m.sum_before_db.push_back(10.0 * std::log10(eb / bins + 1e-300) - 10.0 * std::log10((double)n));
    m.sum_after_db.push_back(10.0 * std::log10(ea / bins + 1e-300) - 10.0 * std::log10((double)n));
  }
  return m;
}

}  // namespace td
