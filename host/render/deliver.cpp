#include "render/deliver.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <future>
#include <memory>
#include <sstream>

#include "analysis/analyze.h"
#include "io/audio_file.h"
#include "kernels/launch_policy.h"
#include "kernels/stages.h"
#include "processors/limiter.h"

namespace td {
namespace {

// The delivery limiter run over a whole kept master at one drive, and measured.
struct Limited {
  LimiterParams params;  // with the drive
  double drive_db = 0;
  Readings readings;
  StereoSpectra spectra;
  double reduction_p99_db = 0, reduction_max_db = 0;
  std::vector<float> trace_db;  // the largest reduction of every 1 / kTraceHz s
};

// The kept master pair a delivery limits, read a range at a time.
struct KeptPair {
  Backend& backend;
  int left, right;
  long long frames;
};

// Samples [begin, begin + count) of the pair into l and r; zeros past the song's end.
void read_pair(const KeptPair& in, long long begin, long long count, float* l, float* r) {
  const long long have = std::clamp(in.frames - begin, 0LL, count);
  if (have > 0) {
    in.backend.read_keep(in.left, begin, have, l);
    in.backend.read_keep(in.right, begin, have, r);
  }
  std::fill(l + have, l + count, 0.0f);
  std::fill(r + have, r + count, 0.0f);
}

// Where a pass's limited audio goes besides the meters: the delivered file.
struct PassWriter {
  AudioWriter* writer = nullptr;
  int bits = 24;
  uint64_t seed = 0;
};

// One pass of the delivery limiter over the kept master, segment by segment: read ahead by
// the limiter's latency, limited, measured (unless only written), and written when asked.
// Memory is a few segments, whatever the song's length.
Limited limit_at(const KeptPair& in, LimiterParams p, double drive_db, int rate,
                 const MeterOptions& mo, bool measure, const PassWriter& out = {}) {
  Limited res;
  res.drive_db = drive_db;
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
  std::vector<int32_t> pcm;
  std::vector<float> floats;
  // The latency: the first `delay` inputs, their outputs dropped.
  read_pair(in, 0, delay, in_l.data(), in_r.data());
  cpu::limiter_pass(p, filter, st, ring.data(), in_l.data(), in_r.data(), delay, in_l.data(),
                    in_r.data(), pieces[0].gain.data());
  auto limit_piece = [&](long long pos, Piece& piece) {
    const long long len = std::min(segment, frames - pos);
    read_pair(in, pos + delay, len, in_l.data(), in_r.data());
    cpu::limiter_pass(p, filter, st, ring.data(), in_l.data(), in_r.data(), len, piece.l.data(),
                      piece.r.data(), piece.gain.data());
  };
  std::vector<long long> histogram(3001, 0);  // gain reduction in 0.01 dB steps
  const long long hop = trace_hop_frames(rate);
  res.trace_db.assign((size_t)(frames / hop + 1), 0.0f);
  float most = 0.0f;
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
    // Hop by hop (no division per sample); the reduction as the in-chain limiter's own
    // (limiter_reduction_db: a double log10 per sample cost a fifth of a delivery).
    for (long long h0 = pos; h0 < pos + len;) {
      const long long h1 = std::min(pos + len, (h0 / hop + 1) * hop);
      float t = res.trace_db[(size_t)(h0 / hop)];
      for (long long n = h0; n < h1; ++n) {
        const float g = piece.gain[(size_t)(n - pos)];
        const float reduction = limiter_reduction_db(g);
        t = std::max(t, reduction);
        ++histogram[std::min<long long>(3000, (long long)(reduction * 100.0f + 0.5f))];
      }
      res.trace_db[(size_t)(h0 / hop)] = t;
      most = std::max(most, t);
      h0 = h1;
    }
    if (out.writer) {
      if (out.bits == 32) {
        floats.resize(2 * (size_t)len);
        cpu::deliver_float_pair(l, r, 1.0f, len, floats.data());
        out.writer->write(nullptr, floats.data(), len);
      } else {
        pcm.resize(2 * (size_t)len);
        cpu::deliver_pcm_pair(l, r, 1.0f, out.seed, out.bits, pos, len, pcm.data());
        out.writer->write(pcm.data(), nullptr, len);
      }
    }
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

// Drives the delivery limiter so that the delivered loudness meets the target within
// 0.05 LU (secant steps on the drive; loudness grows by at most 1 LU per dB of drive), then
// backs off if that needs more than max_reduction_db of limiting (its 99th percentile).
Limited drive_to_target(const KeptPair& in, const LimiterParams& p, double target,
                        double rendered_lufs, double max_reduction_db, int rate,
                        const MeterOptions& mo, std::vector<std::string>& warnings) {
  double d0 = target - rendered_lufs;
  Limited a = limit_at(in, p, d0, rate, mo, true);
  if (!std::isfinite(a.readings.integrated_lufs)) return a;
  double d1 = d0 + (target - a.readings.integrated_lufs);
  Limited b = a;
  for (int i = 0; i < 8 && std::fabs(target - b.readings.integrated_lufs) > 0.05; ++i) {
    if (d1 != b.drive_db) b = limit_at(in, p, d1, rate, mo, true);
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
  LimiterParams q = p;
  for (int i = 0; i < 4 && b.readings.true_peak_dbtp > ceiling_db; ++i) {
    q.ceiling *= (float)std::pow(10.0, -(b.readings.true_peak_dbtp - ceiling_db + 0.002) / 20.0);
    b = limit_at(in, q, b.drive_db, rate, mo, true);
  }
  if (b.reduction_p99_db > max_reduction_db) {
    // Back off to the drive that limits by the allowed amount (reduction follows drive
    // about 1:1 once limiting); report it instead of crushing the mix.
    const double reached = b.readings.integrated_lufs;
    double d = b.drive_db - (b.reduction_p99_db - max_reduction_db);
    for (int i = 0; i < 3; ++i) {
      b = limit_at(in, q, d, rate, mo, true);
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
  return b;
}

std::string fixed2(double v) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(2);
  os << v;
  return os.str();
}

}  // namespace

Readings shift_readings(Readings r, double gain_db) {
  for (double* v : {&r.integrated_lufs, &r.momentary_max_lufs, &r.short_term_max_lufs,
                    &r.true_peak_dbtp, &r.sample_peak_dbfs, &r.rms_dbfs, &r.vu_max})
    *v += gain_db;
  for (auto* series : {&r.momentary_series, &r.short_term_series, &r.vu_series})
    for (auto& point : *series) point.second += gain_db;
  return r;
}

VariantResult deliver_variant(const SessionWork& w, Backend& backend, const DeliveryInputs& in,
                              int v, bool write) {
  const Session& s = *w.s;
  const Plan& plan = w.plan;
  const RenderOptions& opt = w.opt;
  const int master = (int)s.nodes.size() - 1;
  const bool has_variants = !s.variants.sweep.empty();
  const int k = plan.variant_instance[v][master];
  const int metered = (*in.master_state)[k];
  const int left = w.keep_offset + 2 * k;
  VariantResult vr;
  vr.id = has_variants ? variant_id(plan.variant_ids[v], plan.variant_total) : "master";
  for (size_t a = 0; a < s.variants.sweep.size(); ++a)
    vr.params.emplace_back(s.variants.sweep[a].path,
                           s.variants.sweep[a].values[plan.variants[v][a]]);
  const Readings& mr = (*in.readings)[metered];
  vr.rendered_lufs = mr.integrated_lufs;
  double gain_db = 0.0;
  // The delivery limiter: driven to the target on the kept master, written as it is.
  const KeptPair kept{backend, left, left + 1, w.frames};
  bool limited = false;
  Limited L;
  if (w.delivery_limiter >= 0 && std::isfinite(vr.rendered_lufs)) {
    const Processor& lp = w.settings[master][k].chain[w.delivery_limiter];
    const LimiterParams lparams =
        limiter_params(lp, s.sample_rate, limiter_lookahead(lp, s.sample_rate));
    L = drive_to_target(kept, lparams, *s.delivery.target_lufs, vr.rendered_lufs,
                        limiter_max_reduction_db(lp), s.sample_rate, in.meter_options, vr.warnings);
    limited = true;
    vr.limited = true;
    vr.limiter_drive_db = L.drive_db;
    vr.limiter_reduction_p99_db = L.reduction_p99_db;
    vr.limiter_reduction_max_db = L.reduction_max_db;
    vr.limiter_trace_db = L.trace_db;
    vr.limiter_id = lp.id;
    vr.readings = L.readings;
    vr.spectra = L.spectra;
  }
  if (!limited && s.delivery.target_lufs) {
    if (std::isfinite(vr.rendered_lufs))
      gain_db = *s.delivery.target_lufs - vr.rendered_lufs;
    else
      vr.warnings.push_back(
          "the mix is silent (no block above -70 LUFS): delivered without loudness "
          "normalisation");
  }
  // Every level figure shifts exactly by the delivery gain; ratios (LRA, crest, PLR,
  // correlation) do not move. The limited audio was measured as it is.
  if (!limited) {
    vr.readings = shift_readings(mr, gain_db);
    vr.spectra = (*in.spectra)[metered];
    shift_spectra(vr.spectra, gain_db);
  }
  vr.delivery_gain_db = gain_db;
  vr.delivered_lufs = vr.readings.integrated_lufs;
  vr.sample_peak_dbfs = vr.readings.sample_peak_dbfs;
  vr.true_peak_dbtp = vr.readings.true_peak_dbtp;
  if (vr.true_peak_dbtp > s.delivery.ceiling_dbtp)
    vr.warnings.push_back(
        "true peak " + fixed2(vr.true_peak_dbtp) + " dBTP is above the ceiling of " +
        fixed2(s.delivery.ceiling_dbtp) + " dBTP" +
        (!limited ? " (end the master's chain with a limiter to deliver under it)" : ""));
  if (s.delivery.bit_depth != 32 && vr.sample_peak_dbfs > 0.0)
    vr.warnings.push_back("sample peak " + fixed2(vr.sample_peak_dbfs) +
                          " dBFS: the fixed-point file clips");
  for (const auto& [ref, measured] : *in.references) {
    Comparison c = compare(Measured{vr.readings, vr.spectra}, measured, s.ranking);
    c.reference = ref.file.filename().string();
    c.weight = ref.weight;
    vr.comparisons.push_back(std::move(c));
  }
  // Held to the report's precision (0.0001): variants that differ by less tie and keep
  // their order, so a ranking merged from shards' reports is the same as a single one.
  vr.score = std::round(blended_score(vr.comparisons) * 1e4) / 1e4;
  if (!write) return vr;
  vr.file = has_variants ? opt.out_dir / "variants" / (vr.id + "." + s.delivery.format)
                         : opt.out_dir / ("master." + s.delivery.format);
  WriteSpec ws{s.delivery.format, s.delivery.bit_depth, s.sample_rate};
  AudioWriter writer(vr.file, ws, 2, w.frames);
  if (limited) {
    // The measured pass again, now written (the same bits: the pass is deterministic).
    const PassWriter out{&writer, s.delivery.bit_depth, s.delivery.dither_seed};
    limit_at(kept, L.params, L.drive_db, s.sample_rate, in.meter_options, false, out);
  } else {
    // The kept master at the delivery gain, a segment at a time.
    const float g = db_to_gain((float)gain_db);
    const long long segment = std::min(std::max(1LL, w.frames), kCpuSegmentFrames);
    std::vector<int32_t> pcm;
    std::vector<float> floats;
    for (long long pos = 0; pos < w.frames; pos += segment) {
      const long long len = std::min(segment, w.frames - pos);
      if (s.delivery.bit_depth == 32) {
        floats.resize(2 * (size_t)len);
        backend.deliver_float(left, left + 1, g, pos, len, floats.data());
        writer.write(nullptr, floats.data(), len);
      } else {
        pcm.resize(2 * (size_t)len);
        backend.deliver_pcm(left, left + 1, g, s.delivery.dither_seed, s.delivery.bit_depth, pos,
                            len, pcm.data());
        writer.write(pcm.data(), nullptr, len);
      }
    }
  }
  writer.commit();
  return vr;
}

}  // namespace td
