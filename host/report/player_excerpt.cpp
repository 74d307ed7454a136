#include "report/player_excerpt.h"

#include <algorithm>
#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <cmath>

#include "io/audio_file.h"

namespace td {

std::string base64(const std::string& bytes) {
  using namespace boost::archive::iterators;
  using It = base64_from_binary<transform_width<std::string::const_iterator, 6, 8>>;
  const size_t pad = (3 - bytes.size() % 3) % 3;
  const std::string padded = bytes + std::string(pad, '\0');
  std::string out(It(padded.begin()), It(padded.end()));
  out.replace(out.size() - pad, pad, pad, '=');
  return out;
}

double loudest_start(const Readings& r, double length_s, double duration_s) {
  if (duration_s <= length_s) return 0.0;
  const auto& series = r.short_term_series;
  // The series is in time order, so each start's points are one run of it, found by two
  // cursors that only move forward; they are summed in the same order as a whole scan.
  bool ordered = true;
  for (size_t i = 0; i < series.size() && ordered; ++i)
    ordered = std::isfinite(series[i].first) && (i == 0 || series[i - 1].first <= series[i].first);
  double best = 0.0, best_mean = -1e300;
  size_t lo = 0, hi = 0;
  for (double start = 0.0; start + length_s <= duration_s; start += 1.0) {
    if (ordered) {
      while (lo < series.size() && !(series[lo].first - 3.0 >= start)) ++lo;
      hi = std::max(hi, lo);
      while (hi < series.size() && series[hi].first <= start + length_s) ++hi;
    } else {
      lo = 0, hi = series.size();
    }
    double sum = 0;
    int n = 0;
    for (size_t i = lo; i < hi; ++i) {
      const auto& [t, lufs] = series[i];
      if (t - 3.0 >= start && t <= start + length_s && std::isfinite(lufs)) sum += lufs, ++n;
    }
    if (n > 0 && sum / n > best_mean) best_mean = sum / n, best = start;
  }
  return best;
}

void excerpt_span(double start_s, double length_s, int rate, long long frames, long long& begin,
                  long long& count) {
  begin = std::clamp<long long>(std::llround(start_s * rate), 0, frames);
  count = std::clamp<long long>(std::llround(std::max(0.0, length_s) * rate), 0, frames - begin);
}

std::string excerpt_opus_base64(const std::vector<std::vector<float>>& planar, int sample_rate) {
  if (planar.empty()) return "";
  return base64(encode_opus(planar, sample_rate, kExcerptKbps));
}

std::string excerpt_of_file(const std::filesystem::path& file, double start_s, double length_s) {
  try {
    const AudioData a = read_audio_range(file, start_s, length_s);
    return excerpt_opus_base64(a.channels, a.sample_rate);
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace td
