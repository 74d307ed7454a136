// The delivery limiter's passes (render/limit_pass.h): a limiter that stays open is not
// run. The claim behind it: when the input's true peak (the meter's) driven stays 0.01 dB
// under the ceiling, the limiter's own detector (the same interpolator on the driven
// floats) never asks for less than unity, so its output is the driven input bit for bit,
// and the pass's measurement is the input's readings moved by the drive.
#include "render/limit_pass.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analysis/analyze.h"
#include "backend/backend.h"
#include "kernels/limiter.h"
#include "kernels/stages.h"
#include "test_util.h"

namespace td {
namespace {

constexpr int kRate = 48000;
constexpr double kPi = 3.14159265358979323846;

// Inter-sample peaks 3 dB over the sample peaks (a quarter-rate sine at 45 degrees) in
// bursts between a 1 kHz tone: the true peak is the interpolator's, not a sample's.
std::vector<std::vector<float>> peaky(long long frames) {
  std::vector<std::vector<float>> x(2, std::vector<float>((size_t)frames));
  for (long long n = 0; n < frames; ++n) {
    const bool burst = (n / 4800) % 3 == 1;
    const double v = burst ? 0.5 * std::sin(kPi / 2 * n + kPi / 4)
                           : 0.3 * std::sin(2 * kPi * 1000.0 * n / kRate);
    x[0][n] = (float)v;
    x[1][n] = (float)(0.7 * v);
  }
  return x;
}

LimiterParams params(double ceiling_dbtp, double drive_db, const TruePeakFilter& f) {
  LimiterParams p{};
  p.ceiling = (float)std::pow(10.0, ceiling_dbtp / 20.0);
  p.release = (float)std::exp(-1.0 / (0.05 * kRate));
  p.lookahead = 240;
  p.pad = 0;
  p.drive = (float)std::pow(10.0, drive_db / 20.0);
  p.bound = true_peak_gain_bound(f);
  p.inverse_lookahead = 1.0 / p.lookahead;
  return p;
}

// The limiter over x at p (the song, then the delay's zeros); the outputs aligned with x.
struct Pass {
  std::vector<float> l, r, gain;
};
Pass run_limiter(const LimiterParams& p, const TruePeakFilter& f,
                 const std::vector<std::vector<float>>& x) {
  const long long frames = (long long)x[0].size(), delay = cpu::limiter_pass_delay(p);
  std::vector<float> in_l(x[0]), in_r(x[1]);
  in_l.resize((size_t)(frames + delay), 0.0f);
  in_r.resize(in_l.size(), 0.0f);
  Pass out{std::vector<float>(in_l.size()), std::vector<float>(in_l.size()),
           std::vector<float>(in_l.size())};
  LimiterState st{};
  std::vector<float> ring((size_t)limiter_ring_floats(p.lookahead, p.pad), 0.0f);
  cpu::limiter_pass(p, f, st, ring.data(), in_l.data(), in_r.data(), frames + delay, out.l.data(),
                    out.r.data(), out.gain.data());
  for (auto* v : {&out.l, &out.r, &out.gain}) v->erase(v->begin(), v->begin() + delay);
  return out;
}

TEST(LimitPass, ALimiterThatStaysOpenIsTheDrivenInputBitForBit) {
  const auto x = peaky(3 * kRate);
  const TruePeakFilter f = design_true_peak_filter(kRate);
  const Readings in = analyze_audio(x, kRate, "cpu", MeterOptions{}).readings;
  ASSERT_GT(in.true_peak_dbtp, in.sample_peak_dbfs + 2.5);  // the peaks are inter-sample
  // Driven to 0.0101 dB under a -1 dBTP ceiling: just inside the margin.
  const double drive_db = -1.0 - 0.0101 - in.true_peak_dbtp;
  const LimiterParams p = params(-1.0, drive_db, f);
  ASSERT_TRUE(limiter_stays_open(in.true_peak_dbtp, p, drive_db));
  const Pass out = run_limiter(p, f, x);
  for (size_t n = 0; n < x[0].size(); ++n) {
    ASSERT_EQ(out.gain[n], 1.0f) << n;
    ASSERT_EQ(out.l[n], x[0][n] * p.drive) << n;
    ASSERT_EQ(out.r[n], x[1][n] * p.drive) << n;
  }
}

TEST(LimitPass, PastTheMarginTheLimiterIsRunAndActs) {
  const auto x = peaky(3 * kRate);
  const TruePeakFilter f = design_true_peak_filter(kRate);
  const Readings in = analyze_audio(x, kRate, "cpu", MeterOptions{}).readings;
  // 0.05 dB over the ceiling: not open, and the limiter does turn the peaks down.
  const double drive_db = -1.0 + 0.05 - in.true_peak_dbtp;
  const LimiterParams p = params(-1.0, drive_db, f);
  ASSERT_FALSE(limiter_stays_open(in.true_peak_dbtp, p, drive_db));
  ASSERT_FALSE(limiter_stays_open(in.true_peak_dbtp, p, drive_db - 0.055));
  const Pass out = run_limiter(p, f, x);
  float least = 1.0f;
  for (float g : out.gain) least = std::min(least, g);
  EXPECT_LT(least, 0.999f);
}

TEST(LimitPass, AnOpenPassReadsAsTheDrivenInputMeasured) {
  const auto x = peaky(6 * kRate);
  const TruePeakFilter f = design_true_peak_filter(kRate);
  const FileAnalysis in = analyze_audio(x, kRate, "cpu", MeterOptions{});
  const double drive_db = -3.0;
  const LimiterParams p = params(-1.0, drive_db, f);
  ASSERT_TRUE(limiter_stays_open(in.readings.true_peak_dbtp, p, drive_db));
  const Limited open = open_pass(p, drive_db, in.readings, in.spectra, 6 * kRate, kRate);
  EXPECT_EQ(open.params.drive, p.drive);
  EXPECT_EQ(open.reduction_max_db, 0.0);
  EXPECT_EQ(open.reduction_p99_db, 0.0);
  for (float t : open.trace_db) ASSERT_EQ(t, 0.0f);
  // The driven audio measured: loudness and peaks are homogeneous in gain, so the moved
  // readings agree to the meters' float rounding (1e-3 dB is far above it).
  std::vector<std::vector<float>> driven = x;
  for (auto& c : driven)
    for (float& v : c) v *= p.drive;
  const Readings d = analyze_audio(driven, kRate, "cpu", MeterOptions{}).readings;
  EXPECT_NEAR(open.readings.integrated_lufs, d.integrated_lufs, 1e-3);
  EXPECT_NEAR(open.readings.true_peak_dbtp, d.true_peak_dbtp, 1e-3);
  EXPECT_NEAR(open.readings.sample_peak_dbfs, d.sample_peak_dbfs, 1e-3);
  EXPECT_NEAR(open.readings.lra_lu, d.lra_lu, 1e-3);
}

TEST(LimitPass, AnEndLoudEnoughToPeakPastItKeepsTheLimiterRunning) {
  // The limiter reads zeros past the song's ends, where the meter read the render's own
  // samples: the windows that reach past an end (samples within 15 of it) are checked by
  // the limiter's own arithmetic; a peak over the ceiling there keeps the limiter running.
  const long long frames = 4800;
  const TruePeakFilter f = design_true_peak_filter(kRate);
  const LimiterParams p = params(-1.0, 0.0, f);
  std::unique_ptr<Backend> backend = make_cpu_backend();
  auto quiet_at_ends = [&](long long loud_at) {
    std::vector<float> l((size_t)frames, 0.1f), r((size_t)frames, -0.1f);
    if (loud_at >= 0) l[(size_t)loud_at] = 0.95f;  // -0.45 dBFS: over the -1 dBTP ceiling
    backend->allocate(2, frames, 2, frames);
    backend->begin_segment(0, frames);
    backend->upload(0, l.data());
    backend->upload(1, r.data());
    backend->keep(0, 0, 0);
    backend->keep(1, 1, 0);
    return limiter_quiet_at_ends(KeptPair{*backend, 0, 1, frames}, p, 0.0, kRate);
  };
  EXPECT_TRUE(quiet_at_ends(-1));
  EXPECT_TRUE(quiet_at_ends(frames / 2));  // inside: the meter's windows are the limiter's
  // A sample's own peak is the need at its time, from the window that ends 8 samples
  // later: past the start for samples 0 .. 6, past the end for the last 8.
  EXPECT_FALSE(quiet_at_ends(3));
  EXPECT_FALSE(quiet_at_ends(6));
  EXPECT_TRUE(quiet_at_ends(15));  // its peak is in the meter's windows
  EXPECT_FALSE(quiet_at_ends(frames - 5));
  EXPECT_FALSE(quiet_at_ends(frames - 8));
  EXPECT_TRUE(quiet_at_ends(frames - 16));
}

}  // namespace
}  // namespace td
