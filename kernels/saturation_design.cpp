#include "saturation_design.h"

#include <algorithm>
#include <cmath>

#include "fir_design.h"

namespace td {

double crossover_band_magnitude(const std::vector<double>& edges, int band, double f) {
  auto lp = [&](int k) {
    if (k <= 0) return 0.0;
    if (k > (int)edges.size()) return 1.0;
    return 1.0 / (1.0 + std::pow(f / edges[k - 1], 8.0));
  };
  return lp(band + 1) - lp(band);
}

void sat_filters(SaturationParams& sp, int rate) {
  const double pi = 3.14159265358979323846, beta = 10.0;
  const double pass = std::min(20000.0, 0.42 * rate);
  int wet = 0;
  for (int s = 0; s < sp.stages; ++s) {
    const double high = rate * std::pow(2.0, s + 1), low = high / 2;
    const double stop = low - pass, cutoff = 0.5 * (pass + stop);
    const double dw = 2 * pi * (stop - pass) / high;
    int n = (int)std::ceil((100.0 - 8.0) / (2.285 * dw)) + 1;
    const int m = 1 << (s + 1);
    n = ((n - 1 + m - 1) / m) * m + 1;
    n = std::min(n, kSatMaxTaps);
    sp.taps[s] = n;
    const double c = (n - 1) / 2.0, fc = cutoff / high;
    double sum = 0;
    std::vector<double> h(n);
    // fc is a quarter of the rate (cut-off = low / 2): a half-band filter, whose sinc is
    // zero at every even distance from the centre; those taps are set to exact zeros (the
    // sine there is 0 but for rounding) and skipped.
    for (int k = 0; k < n; ++k) {
      const long long t2 = 2LL * k - (n - 1);  // twice the distance from the centre
      const double t = k - c;
      const bool zero = t2 != 0 && t2 % 4 == 0;
      const double sinc = t == 0 ? 2 * fc : std::sin(2 * pi * fc * t) / (pi * t);
      const double r = t / (c + 1);
      h[k] = zero ? 0.0 : sinc * kaiser_window(r, beta);
      sum += h[k];
    }
    for (int k = 0; k < n; ++k) sp.h[s][k] = (float)(h[k] / sum);
    const int half = (n + 1) / 2;
    for (int ph = 0; ph < 2; ++ph) {
      for (int i = 0; i < half; ++i) {
        const int k = 2 * (half - 1 - i) + ph;
        sp.up[s][ph][i] = k < n ? sp.h[s][k] : 0.0f;
      }
      int first = 0, last = half - 1;
      while (first < last && sp.up[s][ph][first] == 0.0f) ++first;
      while (last > first && sp.up[s][ph][last] == 0.0f) --last;
      sp.up_first[s][ph] = first;
      sp.up_count[s][ph] = last - first + 1;
    }
    // Down: the centre tap, and the non-zero taps at odd distances, every second one.
    const int centre = (n - 1) / 2;
    sp.down_centre[s] = centre;
    sp.down_centre_tap[s] = sp.h[s][centre];
    sp.down_first[s] = centre % 2 == 0 ? 1 : 0;
    sp.down_count[s] = 0;
    for (int k = sp.down_first[s]; k < n; k += 2) sp.down_taps[s][sp.down_count[s]++] = sp.h[s][k];
    wet += (n - 1) / m;
  }
  sp.wet_latency = wet;
}

}  // namespace td
