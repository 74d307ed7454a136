// Setting a compressor's threshold by measurement, for `init` and `master`: measuring
// renders report each compressor's mean gain reduction, and the threshold moves by secant
// steps until it reduces by the target on average over the song.
#pragma once
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace td {

struct Calibrated {
  std::string node, id;  // the node's name (empty: the master), the processor id in the report
  double ratio, target_db, threshold_db;
  double last_threshold = NAN, last_reduction = NAN;
};

// One step for a measured mean reduction; returns true when it is within 0.15 dB of the
// target (the threshold then stays).
inline bool calibrate_step(Calibrated& c, double reduction) {
  if (std::fabs(reduction - c.target_db) <= 0.15) return true;
  // Reduction grows by about (1 - 1/ratio) dB per dB the threshold drops while the level
  // sits above it; measured slopes take over once there are two points.
  double slope = -(1.0 - 1.0 / c.ratio) * 0.6;
  if (std::isfinite(c.last_reduction) && c.last_threshold != c.threshold_db) {
    const double m = (reduction - c.last_reduction) / (c.threshold_db - c.last_threshold);
    if (m < -0.02) slope = m;
  }
  c.last_threshold = c.threshold_db;
  c.last_reduction = reduction;
  c.threshold_db = std::clamp(c.threshold_db + (c.target_db - reduction) / slope, -70.0, -1.0);
  return false;
}

// A number for a session file: three decimals at most, no trailing zeros.
inline std::string toml_number(double v) {
  std::ostringstream os;
  os.precision(3);
  os << std::fixed << v;
  std::string s = os.str();
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

}  // namespace td
