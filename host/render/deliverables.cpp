#include "render/deliverables.h"

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "base/input_error.h"
#include "kernels/stages.h"
#include "processors/limiter.h"

namespace td {
namespace {

// Limited audio at the render rate into one file: resampled a piece at a time, dithered
// (TPDF, by output sample index) or converted to float, encoded by libsndfile.
class EncodeSink {
 public:
  EncodeSink(AudioWriter& writer, int in_rate, int out_rate, int bits, uint64_t seed)
      : writer_(writer), bits_(bits), seed_(seed) {
    if (in_rate != out_rate) {
      const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
      const soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
      soxr_error_t err = nullptr;
      soxr_ = soxr_create(in_rate, out_rate, 2, &err, &io, &q, nullptr);
      if (err || !soxr_) throw InputError(std::string("deliverable: resampling failed: ") + err);
      ratio_ = (double)out_rate / in_rate;
    }
  }
  ~EncodeSink() {
    if (soxr_) soxr_delete(soxr_);
  }

  void push(const float* l, const float* r, long long len) {
    if (!soxr_) return emit(l, r, len);
    const long long room = (long long)std::ceil(len * ratio_) + 64;
    out_l_.resize((size_t)room), out_r_.resize((size_t)room);
    const float* in[2] = {l, r};
    float* out[2] = {out_l_.data(), out_r_.data()};
    size_t used = 0, made = 0;
    soxr_error_t err = soxr_process(soxr_, in, (size_t)len, &used, out, (size_t)room, &made);
    if (err) throw InputError(std::string("deliverable: resampling failed: ") + err);
    emit(out_l_.data(), out_r_.data(), (long long)made);
  }

  // The resampler's tail, then the file.
  void finish() {
    if (soxr_) {
      const long long room = 1 << 16;
      out_l_.resize((size_t)room), out_r_.resize((size_t)room);
      for (;;) {
        float* out[2] = {out_l_.data(), out_r_.data()};
        size_t made = 0;
        soxr_error_t err = soxr_process(soxr_, nullptr, 0, nullptr, out, (size_t)room, &made);
        if (err) throw InputError(std::string("deliverable: resampling failed: ") + err);
        if (made == 0) break;
        emit(out_l_.data(), out_r_.data(), (long long)made);
      }
    }
    writer_.commit();
  }

 private:
  void emit(const float* l, const float* r, long long n) {
    if (n <= 0) return;
    if (bits_ == 32) {
      floats_.resize(2 * (size_t)n);
      cpu::deliver_float_pair(l, r, 1.0f, n, floats_.data());
      writer_.write(nullptr, floats_.data(), n);
    } else {
      pcm_.resize(2 * (size_t)n);
      cpu::deliver_pcm_pair(l, r, 1.0f, seed_, bits_, pos_, n, pcm_.data());
      writer_.write(pcm_.data(), nullptr, n);
    }
    pos_ += n;
  }

  AudioWriter& writer_;
  int bits_;
  uint64_t seed_;
  soxr_t soxr_ = nullptr;
  double ratio_ = 1.0;
  long long pos_ = 0;
  std::vector<float> out_l_, out_r_, floats_;
  std::vector<int32_t> pcm_;
};

}  // namespace

FileTags file_tags(const Metadata& m, const Readings* r) {
  FileTags t;
  t.title = m.title, t.artist = m.artist, t.album = m.album, t.comment = m.description;
  t.description = m.description, t.originator = m.originator, t.date = m.date, t.isrc = m.isrc;
  if (r && std::isfinite(r->integrated_lufs)) {
    t.loudness = true;
    t.lufs = r->integrated_lufs;
    t.lra = r->lra_lu;
    t.true_peak_dbtp = r->true_peak_dbtp;
    t.max_momentary_lufs = r->momentary_max_lufs;
    t.max_short_term_lufs = r->short_term_max_lufs;
  }
  return t;
}

DeliverableResult deliver_deliverable(const KeptPair& kept, const Deliverable& d,
                                      const Processor* limiter, int render_rate, double drive_db,
                                      uint64_t dither_seed, const std::filesystem::path& file,
                                      const MeterOptions& mo) {
  DeliverableResult res;
  res.name = d.name;
  res.format = d.format;
  res.file = file;
  res.sample_rate = d.sample_rate ? d.sample_rate : render_rate;
  const bool lossy = d.format == "mp3" || d.format == "opus";
  res.bit_depth = lossy ? 0 : d.bit_depth;
  res.bitrate_kbps = !lossy || d.quality ? 0
                                         : (d.bitrate_kbps      ? d.bitrate_kbps
                                            : d.format == "mp3" ? 320
                                                                : 160);
  res.target_lufs = *d.target_lufs;
  res.ceiling_dbtp = d.ceiling_dbtp;
  Processor fallback;
  fallback.type = "limiter";
  const Processor& lp = limiter ? *limiter : fallback;
  LimiterParams p = limiter_params(lp, render_rate, limiter_lookahead(lp, render_rate));
  // The limiter's own ceiling is the deliverable's (less the limiter's margin, as a session
  // limiter's is); lowered below when the decoded file peaks over it.
  double ceiling_db = d.ceiling_dbtp - kLimiterMarginDb;
  p.ceiling = (float)std::pow(10.0, ceiling_db / 20.0);
  WriteSpec ws;
  ws.format = d.format;
  ws.bit_depth = lossy ? 32 : d.bit_depth;
  ws.sample_rate = res.sample_rate;
  ws.bitrate_kbps = d.bitrate_kbps;
  ws.quality = d.quality.value_or(-1.0);
  // One pass: limited at the render rate, resampled, dithered or encoded, into `out`.
  auto encode = [&](const LimiterParams& q, double drive, const std::filesystem::path& out,
                    const FileTags* tags, bool place) {
    WriteSpec spec = ws;
    spec.tags = tags;
    auto writer = std::make_unique<AudioWriter>(out, spec, 2, -1, place);
    EncodeSink sink(*writer, render_rate, res.sample_rate, ws.bit_depth, dither_seed);
    limit_at(
        kept, q, drive, render_rate, mo, false,
        [&](const float* l, const float* r, long long, long long len) { sink.push(l, r, len); });
    sink.finish();
    return writer;
  };
  // The drive at the render rate first (cheap: no encoding), then encode, decode and
  // measure, correcting the drive for the loudness and the limiter's ceiling for the
  // decoded true peak.
  std::vector<std::string> ignored;
  Limited first = drive_to_target(kept, p, res.target_lufs, res.target_lufs - drive_db,
                                  limiter_max_reduction_db(lp), render_rate, mo, ignored);
  double drive = first.drive_db;
  double last_drive = NAN, last_lufs = NAN;
  FileAnalysis measured{};
  bool ok = false;
  constexpr int kPasses = 8;
  for (int pass = 0; pass < kPasses; ++pass) {
    LimiterParams q = p;
    q.ceiling = (float)std::pow(10.0, ceiling_db / 20.0);
    const auto writer = encode(q, drive, file, nullptr, false);
    measured = analyze_file(writer->temp_path(), "cpu", mo, true);
    ++res.passes;
    const double lufs = measured.readings.integrated_lufs;
    const double over = measured.readings.true_peak_dbtp - d.ceiling_dbtp;
    const double err = res.target_lufs - lufs;
    ok = std::fabs(err) <= 0.05 && over <= 0.0;
    // The file written last is the one measured: no correction after the last pass.
    if (ok || !std::isfinite(lufs) || pass + 1 == kPasses) break;
    if (over > 0.0) {
      // The peak first: a lower ceiling changes the loudness, so the secant starts again.
      ceiling_db -= over + 0.02;
      last_lufs = NAN;
      continue;
    }
    double slope = 1.0;
    if (std::isfinite(last_lufs) && drive != last_drive)
      slope = std::clamp((lufs - last_lufs) / (drive - last_drive), 0.05, 1.0);
    last_drive = drive, last_lufs = lufs;
    drive += err / slope;
  }
  res.drive_db = drive;
  res.limiter_ceiling_dbtp = ceiling_db;
  res.readings = measured.readings;
  if (!ok) {
    const bool loud_ok = std::fabs(res.readings.integrated_lufs - res.target_lufs) <= 0.1;
    const bool peak_ok = res.readings.true_peak_dbtp <= d.ceiling_dbtp;
    if (!loud_ok || !peak_ok)
      res.warnings.push_back(
          "deliverable \"" + d.name + "\": decoded at " + fixed2(res.readings.integrated_lufs) +
          " LUFS, " + fixed2(res.readings.true_peak_dbtp) +
          " dBTP (asked: " + fixed2(res.target_lufs) + " LUFS under " + fixed2(d.ceiling_dbtp) +
          " dBTP) after " + std::to_string(res.passes) + " passes");
  }
  // The verified pass again with its tags (the same audio: a pass is deterministic), into
  // place.
  LimiterParams q = p;
  q.ceiling = (float)std::pow(10.0, ceiling_db / 20.0);
  const FileTags tags = file_tags(d.metadata, &res.readings);
  encode(q, drive, file, &tags, true);
  return res;
}

}  // namespace td
