#include "analysis/meters.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace td {

static const double kMinusInf = -std::numeric_limits<double>::infinity();

namespace {

double lufs_of(double mean_square) {
  return mean_square > 0.0 ? -0.691 + 10.0 * std::log10(mean_square) : kMinusInf;
}

}  // namespace

double gain_to_db(double gain) {
  return gain > 0.0 ? 20.0 * std::log10(gain) : kMinusInf;
}

long long meter_hop_frames(int sample_rate) {
  return (long long)std::llround(sample_rate / 100.0);
}

double loudness_range(const std::vector<double>& st) {
  // Tech 3342: absolute gate -70 LUFS, relative gate 20 LU below the energy mean of what
  // passed it, then the 10th and 95th percentiles of the rest (nearest rank, as libebur128).
  std::vector<double> passed;
  double sum = 0.0;
  for (double e : st)
    if (lufs_of(e) >= -70.0) {
      passed.push_back(e);
      sum += e;
    }
  if (passed.empty()) return 0.0;
  const double gate = sum / passed.size() * std::pow(10.0, -20.0 / 10.0);
  std::vector<double> gated;
  for (double e : passed)
    if (e >= gate) gated.push_back(e);
  if (gated.empty()) return 0.0;
  std::sort(gated.begin(), gated.end());
  const size_t n = gated.size();
  const double low = gated[(size_t)((n - 1) * 0.10 + 0.5)];
  const double high = gated[(size_t)((n - 1) * 0.95 + 0.5)];
  return lufs_of(high) - lufs_of(low);
}

double loudness_range_from_hops(const MeterHop* hops, long long hop_count, int channels,
                                long long hop_frames, int step_hops) {
  std::vector<double> prefix(1, 0.0);
  for (long long h = 0; h < hop_count && hops[h].frames == hop_frames; ++h)
    prefix.push_back(prefix.back() + hops[h].kweighted[0] +
                     (channels > 1 ? hops[h].kweighted[1] : 0.0));
  const long long full = (long long)prefix.size() - 1;
  std::vector<double> st_energy;
  for (long long end = 300; end <= full; end += step_hops)
    st_energy.push_back((prefix[end] - prefix[end - 300]) / (300.0 * hop_frames));
  return loudness_range(st_energy);
}

Readings compute_readings(const MeterState& st, const MeterHop* hops, int channels, int sample_rate,
                          const MeterOptions& opt) {
  Readings r{};
  const long long hop_frames = meter_hop_frames(sample_rate);
  const long long hop_count = st.channel[0].hop;
  long long full = 0;  // leading complete hops (only the last may be short)
  while (full < hop_count && hops[full].frames == hop_frames) ++full;
  const double hop_s = (double)hop_frames / sample_rate;

  // Channel-weighted K-weighted energy of each complete hop (G = 1 for left and right).
  std::vector<double> kw(full), prefix(full + 1, 0.0);
  for (long long h = 0; h < full; ++h) {
    kw[h] = hops[h].kweighted[0] + (channels > 1 ? hops[h].kweighted[1] : 0.0);
    prefix[h + 1] = prefix[h] + kw[h];
  }
  auto window_ms = [&](long long end_hop, long long hops_n) {  // mean square, hops [end-n, end)
    return (prefix[end_hop] - prefix[end_hop - hops_n]) / (double)(hops_n * hop_frames);
  };

  // Momentary (400 ms = 40 hops) and short-term (3 s = 300 hops), every 10 ms.
  r.momentary_max_lufs = r.short_term_max_lufs = kMinusInf;
  for (long long end = 40; end <= full; ++end) {
    const double m = lufs_of(window_ms(end, 40));
    r.momentary_max_lufs = std::max(r.momentary_max_lufs, m);
    if (opt.series) r.momentary_series.emplace_back(end * hop_s, m);
  }
  for (long long end = 300; end <= full; ++end) {
    const double s = lufs_of(window_ms(end, 300));
    r.short_term_max_lufs = std::max(r.short_term_max_lufs, s);
    if (opt.series) r.short_term_series.emplace_back(end * hop_s, s);
  }
  if (full < 40)
    r.notes.push_back("shorter than one 400 ms block: loudness readings are -inf");
  else if (full < 300)
    r.notes.push_back("shorter than 3 s: short-term loudness and LRA are not defined");

  // Integrated (BS.1770-4): 400 ms blocks every 100 ms.
  {
    double sum = 0.0;
    long long count = 0;
    std::vector<double> blocks;
    for (long long end = 40; end <= full; end += 10) blocks.push_back(window_ms(end, 40));
    for (double z : blocks)
      if (lufs_of(z) > -70.0) sum += z, ++count;
    r.integrated_lufs = kMinusInf;
    if (count > 0) {
      const double gate = lufs_of(sum / count) - 10.0;
      double gated = 0.0;
      long long n = 0;
      for (double z : blocks)
        if (lufs_of(z) > -70.0 && lufs_of(z) > gate) gated += z, ++n;
      if (n > 0) r.integrated_lufs = lufs_of(gated / n);
    } else if (full >= 40) {
      r.notes.push_back("no 400 ms block above -70 LUFS (silence): integrated loudness is -inf");
    }
  }

  // LRA (Tech 3342): short-term values at 10 Hz.
  r.lra_lu = loudness_range_from_hops(hops, hop_count, channels, hop_frames, 10);

  // Peaks, RMS, crest, PLR, correlation: over every sample, the short last hop included.
  double square = 0.0, sq[2] = {0.0, 0.0}, cross = 0.0;
  long long frames = 0;
  for (long long h = 0; h < hop_count; ++h) {
    for (int c = 0; c < channels; ++c) sq[c] += hops[h].square[c];
    cross += hops[h].cross;
    frames += hops[h].frames;
  }
  square = sq[0] + sq[1];
  const float sp =
      std::max(st.channel[0].sample_peak, channels > 1 ? st.channel[1].sample_peak : 0.0f);
  const float tp = std::max(st.channel[0].true_peak, channels > 1 ? st.channel[1].true_peak : 0.0f);
  r.sample_peak_dbfs = gain_to_db(sp);
  r.true_peak_dbtp = gain_to_db(tp);
  r.rms_dbfs =
      frames > 0 && square > 0.0 ? 10.0 * std::log10(square / (frames * channels)) : kMinusInf;
  r.crest_db = std::isfinite(r.rms_dbfs) ? r.sample_peak_dbfs - r.rms_dbfs : kMinusInf;
  r.plr_db = std::isfinite(r.integrated_lufs) ? r.true_peak_dbtp - r.integrated_lufs : kMinusInf;
  if (channels == 2) {
    if (sq[0] > 0.0 && sq[1] > 0.0)
      r.correlation = cross / std::sqrt(sq[0] * sq[1]);
    else
      r.notes.push_back("a silent channel: correlation is undefined");
  } else {
    r.notes.push_back("mono: no stereo correlation");
  }

  // VU (IEC 60268-17 ballistics): the rectified signal through a critically damped
  // second-order low-pass whose step response reaches 99 % in 300 ms (two equal one-poles,
  // tau = 300 ms / 6.64), evaluated on the 10 ms hop means. 0 VU is a steady sine whose
  // peak is at vu_reference_dbfs (a sine's mean |x| is 2/pi of its peak).
  {
    const double tau = 0.300 / 6.638;
    const double a = 1.0 - std::exp(-hop_s / tau);
    double y1 = 0.0, y2 = 0.0;
    r.vu_max = kMinusInf;
    for (long long h = 0; h < hop_count; ++h) {
      double mean_abs = 0.0;
      for (int c = 0; c < channels; ++c) mean_abs += hops[h].rectified[c];
      mean_abs /= std::max(1, hops[h].frames * channels);
      y1 += a * (mean_abs - y1);
      y2 += a * (y1 - y2);
      const double peak_equivalent = y2 * M_PI / 2.0;
      const double vu = gain_to_db(peak_equivalent) - opt.vu_reference_dbfs;
      r.vu_max = std::max(r.vu_max, vu);
      if (opt.series) r.vu_series.emplace_back((h + 1) * hop_s, vu);
    }
  }
  if (frames == 0) r.notes.push_back("no samples");
  return r;
}

}  // namespace td

namespace td {

std::vector<Band> third_octave_bands(const std::vector<double>& bins, int sample_rate,
                                     int fft_size) {
  static const double kNominal[] = {20,   25,   31.5, 40,    50,    63,    80,   100,
                                    125,  160,  200,  250,   315,   400,   500,  630,
                                    800,  1000, 1250, 1600,  2000,  2500,  3150, 4000,
                                    5000, 6300, 8000, 10000, 12500, 16000, 20000};
  std::vector<Band> out;
  for (int i = 0; i < 31; ++i) {
    const double centre = 1000.0 * std::pow(2.0, (i - 17) / 3.0);
    const double lo = centre * std::pow(2.0, -1.0 / 6.0), hi = centre * std::pow(2.0, 1.0 / 6.0);
    if (hi > sample_rate / 2.0) break;
    // The band's bins are consecutive (f grows with k): from just below its lower edge to
    // its upper one, in order, instead of testing every bin for every band.
    double p = 0.0;
    const double below = std::floor(lo * fft_size / sample_rate) - 1.0;
    for (size_t k = below > 0.0 ? (size_t)below : 0; k < bins.size(); ++k) {
      const double f = (double)k * sample_rate / fft_size;
      if (f >= hi) break;
      if (f >= lo) p += bins[k];
    }
    out.push_back({kNominal[i], p > 0.0 ? 10.0 * std::log10(p) : kMinusInf});
  }
  return out;
}

}  // namespace td
