#include "render/limit_pass.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <memory>
#include <sstream>

#include "analysis/spectra.h"
#include "kernels/launch_policy.h"
#include "kernels/stages.h"
#include "render/deliver.h"
#include "render/launch.h"

namespace td {

std::string fixed2(double v) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(2);
  os << v;
  return os.str();
}

PassSink pcm_sink(AudioWriter& writer, int bits, uint64_t seed) {
  auto pcm = std::make_shared<std::vector<int32_t>>();
  auto floats = std::make_shared<std::vector<float>>();
  return [&writer, bits, seed, pcm, floats](const float* l, const float* r, long long pos,
                                            long long len) {
    if (bits == 32) {
      floats->resize(2 * (size_t)len);
      cpu::deliver_float_pair(l, r, 1.0f, len, floats->data());
      writer.write(nullptr, floats->data(), len);
    } else {
      pcm->resize(2 * (size_t)len);
      cpu::deliver_pcm_pair(l, r, 1.0f, seed, bits, pos, len, pcm->data());
      writer.write(pcm->data(), nullptr, len);
    }
  };
}

void read_pair(const KeptPair& in, long long begin, long long count, float* l, float* r) {
  const long long have = std::clamp(in.frames - begin, 0LL, count);
  if (have > 0) {
    in.backend.read_keep(in.left, begin, have, l);
    in.backend.read_keep(in.right, begin, have, r);
  }
  std::fill(l + have, l + count, 0.0f);
  std::fill(r + have, r + count, 0.0f);
}

// Read ahead by the limiter's latency, limited, measured and handed on; the limiter fills
// the next segment on another thread while this one measures and writes.
Limited limit_at(const KeptPair& in, LimiterParams p, double drive_db, int rate,
                 const MeterOptions& mo, bool measure, const PassSink& out, PassKeep* keep) {
  Limited res;
  res.drive_db = drive_db;
  res.passes = 1;
  p.drive = (float)std::pow(10.0, drive_db / 20.0);
  res.params = p;
  const long long frames = in.frames;
  const TruePeakFilter filter = design_true_peak_filter(rate);
  LimiterState st{};
  std::vector<float> ring((size_t)limiter_ring_floats(p.lookahead, p.pad), 0.0f);
  const long long delay = cpu::limiter_pass_delay(p);
  std::unique_ptr<StreamAnalyzer> meter;
  if (measure) meter = std::make_unique<StreamAnalyzer>(rate, 2, frames, "cpu");
  const long long segment =
      meter ? meter->segment_frames() : std::min(std::max(1LL, frames), kCpuSegmentFrames);
  std::vector<float> in_l((size_t)std::max(segment, delay)), in_r(in_l.size());
  // Two sets of limited segments: the limiter fills one on another thread while this one
  // measures and writes the other (each is serial: together they use both cores).
  struct Piece {
    std::vector<float> l, r, gain;
  };
  Piece pieces[2];
  for (Piece& piece : pieces)
    for (auto* v : {&piece.l, &piece.r, &piece.gain}) v->resize(in_l.size());
  // The latency: the first `delay` inputs, their outputs dropped.
  read_pair(in, 0, delay, in_l.data(), in_r.data());
  cpu::limiter_pass(p, filter, st, ring.data(), in_l.data(), in_r.data(), delay, in_l.data(),
                    in_r.data(), pieces[0].gain.data());
  std::vector<long long> histogram(3001, 0);  // gain reduction in 0.01 dB steps
  const long long hop = trace_hop_frames(rate);
  res.trace_db.assign((size_t)(frames / hop + 1), 0.0f);
  float most = 0.0f;
  if (keep) {
    keep->l.resize((size_t)frames);
    keep->r.resize((size_t)frames);
  }
  // The limiter, its statistics and the kept copy of one piece: on the limiter's thread, so
  // that this thread only measures and writes (pieces are limited one after the other).
  auto limit_piece = [&](long long pos, Piece& piece) {
    const long long len = std::min(segment, frames - pos);
    read_pair(in, pos + delay, len, in_l.data(), in_r.data());
    cpu::limiter_pass(p, filter, st, ring.data(), in_l.data(), in_r.data(), len, piece.l.data(),
                      piece.r.data(), piece.gain.data());
    // Hop by hop (no division per sample); the reduction as the in-chain limiter's own
    // (limiter_reduction_db: a double log10 per sample cost a fifth of a delivery).
    for (long long h0 = pos; h0 < pos + len;) {
      const long long h1 = std::min(pos + len, (h0 / hop + 1) * hop);
      float t = res.trace_db[(size_t)(h0 / hop)];
      for (long long n = h0; n < h1; ++n) {
        const float reduction = limiter_reduction_db(piece.gain[(size_t)(n - pos)]);
        t = std::max(t, reduction);
        ++histogram[std::min<long long>(3000, (long long)(reduction * 100.0f + 0.5f))];
      }
      res.trace_db[(size_t)(h0 / hop)] = t;
      most = std::max(most, t);
      h0 = h1;
    }
    if (keep) {
      std::copy(piece.l.data(), piece.l.data() + len, keep->l.data() + pos);
      std::copy(piece.r.data(), piece.r.data() + len, keep->r.data() + pos);
    }
  };
  if (frames > 0) limit_piece(0, pieces[0]);
  for (long long pos = 0, k = 0; pos < frames; pos += segment, ++k) {
    const long long len = std::min(segment, frames - pos);
    const Piece& piece = pieces[k % 2];
    std::future<void> next;
    if (pos + segment < frames)
      next =
          std::async(std::launch::async, limit_piece, pos + segment, std::ref(pieces[(k + 1) % 2]));
    const float* l = piece.l.data();
    const float* r = piece.r.data();
    if (out) out(l, r, pos, len);
    if (meter) {
      std::copy(l, l + len, meter->input(0));
      std::copy(r, r + len, meter->input(1));
      meter->push(len);
    }
    if (next.valid()) next.get();  // its errors (a device read) surface here
  }
  res.reduction_max_db = most;
  long long seen = 0;
  for (int b = 0; b <= 3000; ++b)
    if ((seen += histogram[b]) >= 0.99 * frames) {
      res.reduction_p99_db = b / 100.0;
      break;
    }
  if (meter) {
    const FileAnalysis a = meter->finish(mo);
    res.readings = a.readings;
    res.spectra = a.spectra;
  }
  return res;
}

bool limiter_stays_open(double input_true_peak_dbtp, const LimiterParams& p, double drive_db) {
  // 0.01 dB is 0.1 %: the two 16-tap interpolations and the drive's product differ by a
  // few float roundings (about 1e-6 relative), a thousand times less.
  constexpr double kMarginDb = 0.01;
  const double ceiling_db = 20.0 * std::log10((double)p.ceiling);
  return std::isfinite(input_true_peak_dbtp) && std::isfinite(drive_db) &&
         input_true_peak_dbtp + drive_db <= ceiling_db - kMarginDb;
}

bool limiter_quiet_at_ends(const KeptPair& in, LimiterParams p, double drive_db, int rate) {
  // The windows x[m - 15 .. m] that reach past an end: m in [0, 15) and [frames, frames + 15),
  // their samples within 15 of the ends, zeros beyond (as the pass feeds them). Their needs
  // by the limiter's own arithmetic (limiter_need on the driven floats): all of them 1.
  p.drive = (float)std::pow(10.0, drive_db / 20.0);
  const TruePeakFilter f = design_true_peak_filter(rate);
  const long long frames = in.frames, n = std::min<long long>(kTruePeakTaps, frames);
  std::vector<float> head_l((size_t)n), head_r((size_t)n), tail_l((size_t)n), tail_r((size_t)n);
  read_pair(in, 0, n, head_l.data(), head_r.data());
  read_pair(in, frames - n, n, tail_l.data(), tail_r.data());
  auto driven = [&](long long j, int c) {
    if (j < 0 || j >= frames) return 0.0f;
    const float x = j < n ? (c ? head_r : head_l)[(size_t)j]
                          : (c ? tail_r : tail_l)[(size_t)(j - (frames - n))];
    return x * p.drive;
  };
  const long long last = kTruePeakTaps - 1;
  auto needs_nothing = [&](long long m) {
    float wl[kTruePeakTaps], wr[kTruePeakTaps];
    for (long long k = 0; k < kTruePeakTaps; ++k) {
      wl[k] = driven(m - last + k, 0);
      wr[k] = driven(m - last + k, 1);
    }
    return limiter_need(p, f, wl, wr, true) == 1.0f;
  };
  for (long long m = 0; m < std::min(last, frames); ++m)
    if (!needs_nothing(m)) return false;
  for (long long m = frames; m < frames + last; ++m)
    if (!needs_nothing(m)) return false;
  return true;
}

Limited open_pass(LimiterParams p, double drive_db, const Readings& input,
                  const StereoSpectra& input_spectra, long long frames, int rate) {
  Limited res;
  res.drive_db = drive_db;
  p.drive = (float)std::pow(10.0, drive_db / 20.0);  // as limit_at sets it
  res.params = p;
  res.readings = shift_readings(input, drive_db);
  res.spectra = input_spectra;
  shift_spectra(res.spectra, drive_db);
  res.trace_db.assign((size_t)(frames / trace_hop_frames(rate) + 1), 0.0f);
  return res;
}

void replay(const PassKeep& keep, long long frames, const PassSink& out) {
  for (long long pos = 0; pos < frames; pos += kCpuSegmentFrames) {
    const long long len = std::min(kCpuSegmentFrames, frames - pos);
    out(keep.l.data() + pos, keep.r.data() + pos, pos, len);
  }
}

// Loudness grows by at most 1 LU per dB of drive: the secant's slope is held to 0.05 .. 1.
Limited drive_to_target(const KeptPair& in, const LimiterParams& p, double target,
                        double rendered_lufs, double max_reduction_db, int rate,
                        const MeterOptions& mo, std::vector<std::string>& warnings,
                        PassKeep* keep) {
  // Every pass overwrites `keep`: the one returned is always the last one run.
  // The passes aim kAimUnderDb under the ceiling: the limiter brings its detector's peaks
  // to its ceiling exactly, and the meter, rounding its own sums, read some a few ulps over
  // (1e-6 to 1e-5 dB) on every limited master of the seed chain at -14, -12 and -10 LUFS
  // (20 masters, 0.03 to 3.6 dB of limiting): each then took a second pass below.
  constexpr double kAimUnderDb = 0.002;
  LimiterParams q = p;
  q.ceiling = (float)(p.ceiling * std::pow(10.0, -kAimUnderDb / 20.0));
  int passes = 0;
  auto pass = [&](double drive_db) {
    ++passes;
    return limit_at(in, q, drive_db, rate, mo, true, {}, keep);
  };
  double d0 = target - rendered_lufs;
  Limited a = pass(d0);
  if (!std::isfinite(a.readings.integrated_lufs)) {
    a.passes = passes;
    return a;
  }
  double d1 = d0 + (target - a.readings.integrated_lufs);
  Limited b = a;
  for (int i = 0; i < 8 && std::fabs(target - b.readings.integrated_lufs) > 0.05; ++i) {
    if (d1 != b.drive_db) b = pass(d1);
    const double err = target - b.readings.integrated_lufs;
    if (std::fabs(err) <= 0.05) break;
    double slope = (b.readings.integrated_lufs - a.readings.integrated_lufs) /
                   (b.drive_db - a.drive_db != 0 ? b.drive_db - a.drive_db : 1.0);
    slope = std::clamp(slope, 0.05, 1.0);
    a = b;
    d1 = b.drive_db + err / slope;
  }
  // The limiter follows the meter's own interpolator, but the gain it applies varies
  // along the interpolator's 16 taps: a residual of a few thousandths of a dB can remain.
  // Measured on the output; the ceiling is lowered by the excess until none remains.
  const double ceiling_db = 20.0 * std::log10((double)p.ceiling);
  for (int i = 0; i < 4 && b.readings.true_peak_dbtp > ceiling_db; ++i) {
    q.ceiling *= (float)std::pow(10.0, -(b.readings.true_peak_dbtp - ceiling_db + 0.002) / 20.0);
    b = pass(b.drive_db);
  }
  if (b.reduction_p99_db > max_reduction_db) {
    // Back off to the drive that limits by the allowed amount (reduction follows drive
    // about 1:1 once limiting); report it instead of crushing the mix.
    const double reached = b.readings.integrated_lufs;
    double d = b.drive_db - (b.reduction_p99_db - max_reduction_db);
    for (int i = 0; i < 3; ++i) {
      b = pass(d);
      if (b.reduction_p99_db <= max_reduction_db + 0.1) break;
      d -= b.reduction_p99_db - max_reduction_db;
    }
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(2);
    os << "reaching " << target << " LUFS (" << reached << " LUFS at that drive) needs more "
       << "than max_reduction_db = " << max_reduction_db << " dB of limiting: delivered at "
       << b.readings.integrated_lufs << " LUFS with " << b.reduction_p99_db
       << " dB of limiting (99th percentile)";
    warnings.push_back(os.str());
  }
  b.passes = passes;
  return b;
}

}  // namespace td
