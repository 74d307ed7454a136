// Breakpoint automation envelopes, evaluated sample-accurately.
#pragma once
#include "td_hd.h"

namespace td {

// One automation breakpoint. time is in samples at the session rate (converted from the
// session file's seconds on the host), value in the parameter's unit (dB for gain_db).
struct Breakpoint {
  double time_samples;
  float value;
};

// Value at sample index n: linear interpolation between the surrounding breakpoints,
// the first value held before the first point and the last value held after the last.
// Points are sorted by time (the session validator guarantees it); binary search keeps
// the cost at O(log points) per sample on both CPU and GPU.
TD_HD float envelope_at(const Breakpoint* points, int count, double n) {
  if (count <= 0) return 0.0f;
  if (n <= points[0].time_samples) return points[0].value;
  if (n >= points[count - 1].time_samples) return points[count - 1].value;
  int lo = 0, hi = count - 1;  // invariant: points[lo].time <= n < points[hi].time
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (points[mid].time_samples <= n)
      lo = mid;
    else
      hi = mid;
  }
  const double span = points[hi].time_samples - points[lo].time_samples;
  const double frac = span > 0.0 ? (n - points[lo].time_samples) / span : 1.0;
  return (float)(points[lo].value + frac * (points[hi].value - points[lo].value));
}

}  // namespace td
