// The engineer's figures, computed from the meter stage's 10 ms hop sums
// (kernels/meters.h): BS.1770-4 / EBU R128 loudness (momentary, short-term, integrated),
// EBU Tech 3342 loudness range, true and sample peak, RMS, crest factor, PLR, stereo
// correlation and a VU reading. docs/meters.md says what each means and how it is tested.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kernels/meters.h"

namespace td {

// 10 ms: momentary and short-term loudness are evaluated this often, so their maxima are
// not missed (EBU Tech 3341 cases 13 and 14).
long long meter_hop_frames(int sample_rate);

double gain_to_db(double gain);  // -inf for 0

struct MeterOptions {
  double vu_reference_dbfs = -18.0;  // the sine peak level that reads 0 VU
  bool series = false;               // keep the momentary / short-term / VU time series
};

struct Readings {
  double integrated_lufs;
  double lra_lu;
  double momentary_max_lufs;
  double short_term_max_lufs;
  double true_peak_dbtp;              // max over channels
  double sample_peak_dbfs;            // max over channels
  double rms_dbfs;                    // all channels together; a full-scale sine reads -3.01 dBFS
  double crest_db;                    // sample peak minus RMS
  double plr_db;                      // true peak minus integrated loudness
  std::optional<double> correlation;  // stereo only
  double vu_max;                      // VU
  std::vector<std::pair<double, double>> momentary_series;   // [t_end_s, lufs]
  std::vector<std::pair<double, double>> short_term_series;  // [t_end_s, lufs]
  std::vector<std::pair<double, double>> vu_series;          // [t_s, VU] every 10 ms
  std::vector<std::string> notes;                            // why a value is -inf, etc.
};

// hops[0 .. state.channel[0].hop) must be complete (meter_finish has run).
Readings compute_readings(const MeterState& state, const MeterHop* hops, int channels,
                          int sample_rate, const MeterOptions& options);

// Loudness range after EBU Tech 3342 from short-term energies (channel-weighted mean
// squares); 0 when none pass the gates.
double loudness_range(const std::vector<double>& short_term_energy);

// LRA from hop sums with short-term values every `step_hops` hops. Readings use 10 (10 Hz,
// as Tech 3342 v3 (2016) and later require: windows overlapping by at least 2.9 s);
// libebur128 1.2.6 still samples at 1 Hz (step 100), as the 2011 version allowed.
double loudness_range_from_hops(const MeterHop* hops, long long hop_count, int channels,
                                long long hop_frames, int step_hops);

}  // namespace td

namespace td {

struct Band {
  double hz;  // nominal centre (IEC 61260 series: 20, 25, 31.5, ... 20000)
  double db;  // band power, dB re full scale (a full-scale sine reads -3.01 dB in its band)
};

// 1/3-octave bands (exact edges 1000 * 2^((k +- 1/2) / 3) Hz) from mean-square bins of an
// fft_size-point spectrum; bands above Nyquist are left out.
std::vector<Band> third_octave_bands(const std::vector<double>& bins, int sample_rate,
                                     int fft_size);

}  // namespace td
