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
#include "render/deliverables.h"
#include "render/limit_pass.h"
#include "report/player_excerpt.h"

namespace td {

Readings shift_readings(Readings r, double gain_db) {
  for (double* v : {&r.integrated_lufs, &r.momentary_max_lufs, &r.short_term_max_lufs,
                    &r.true_peak_dbtp, &r.sample_peak_dbfs, &r.rms_dbfs, &r.vu_max})
    *v += gain_db;
  for (auto* series : {&r.momentary_series, &r.short_term_series, &r.vu_series})
    for (auto& point : *series) point.second += gain_db;
  return r;
}

namespace {

// Delivered samples as a reader of the written file sees them: planar floats, PCM (left
// aligned in 32 bits, interleaved) scaled by 2^-31, as libsndfile normalises 16- and
// 24-bit WAV and FLAC (exact: at most 24 significant bits); float as it is.
std::vector<std::vector<float>> as_read(const std::vector<int32_t>& pcm,
                                        const std::vector<float>& floats, long long frames) {
  std::vector<std::vector<float>> out(2, std::vector<float>((size_t)frames));
  for (long long n = 0; n < frames; ++n)
    for (int c = 0; c < 2; ++c)
      out[c][n] =
          floats.empty() ? (float)pcm[2 * n + c] * (1.0f / 2147483648.0f) : floats[2 * n + c];
  return out;
}

}  // namespace

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
  bool limited = false, open = false;
  Limited L;
  // The written file is the pass that met the target, kept rather than run again (unless
  // finish() found no memory for it: DeliveryInputs::keep_passes).
  PassKeep keep;
  const bool keep_pass = write && in.keep_passes;
  if (w.delivery_limiter >= 0 && std::isfinite(vr.rendered_lufs)) {
    const Processor& lp = w.settings[master][k].chain[w.delivery_limiter];
    const LimiterParams lparams =
        limiter_params(lp, s.sample_rate, limiter_lookahead(lp, s.sample_rate));
    // The secant's first drive; where the limiter stays open at it, that drive meets the
    // target and the pass is the driven master (the common case of a delivery that turns a
    // loud master down): written at that gain as it is, measured by moving its readings.
    const double first_drive_db = *s.delivery.target_lufs - vr.rendered_lufs;
    open = limiter_stays_open(mr.true_peak_dbtp, lparams, first_drive_db) &&
           limiter_quiet_at_ends(kept, lparams, first_drive_db, s.sample_rate);
    if (open)
      L = open_pass(lparams, first_drive_db, mr, (*in.spectra)[metered], w.frames, s.sample_rate);
    else
      L = drive_to_target(kept, lparams, *s.delivery.target_lufs, vr.rendered_lufs,
                          limiter_max_reduction_db(lp), s.sample_rate, in.meter_options,
                          vr.warnings, keep_pass ? &keep : nullptr);
    limited = true;
    vr.limited = true;
    vr.limiter_drive_db = L.drive_db;
    vr.limiter_reduction_p99_db = L.reduction_p99_db;
    vr.limiter_reduction_max_db = L.reduction_max_db;
    vr.limiter_passes = L.passes;
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
  const FileTags tags = file_tags(s.metadata, &vr.readings);
  ws.tags = &tags;
  AudioWriter writer(vr.file, ws, 2, w.frames);
  // One variant is the report page's only player: its excerpt is encoded now, on another
  // thread, while the file is written (else the page encodes it after the render, from the
  // file). Its samples are the file's, made as the write makes them.
  // The gain a master written without a pass gets: the delivery's, or the open limiter's
  // drive (the same float the pass multiplies by, so the same bits as running it).
  const bool pass_written = limited && !open;
  const float write_gain = open ? L.params.drive : db_to_gain((float)gain_db);
  if (plan.variant_count() == 1 && (keep_pass || !pass_written)) {
    vr.excerpt_start_s =
        loudest_start(vr.readings, kExcerptSeconds, (double)w.frames / s.sample_rate);
    long long begin, count;
    excerpt_span(vr.excerpt_start_s, kExcerptSeconds, s.sample_rate, w.frames, begin, count);
    std::vector<int32_t> pcm;
    std::vector<float> floats;
    const int bits = s.delivery.bit_depth;
    if (bits == 32)
      floats.resize(2 * (size_t)count);
    else
      pcm.resize(2 * (size_t)count);
    if (pass_written && bits == 32)
      cpu::deliver_float_pair(keep.l.data() + begin, keep.r.data() + begin, 1.0f, count,
                              floats.data());
    else if (pass_written)
      cpu::deliver_pcm_pair(keep.l.data() + begin, keep.r.data() + begin, 1.0f,
                            s.delivery.dither_seed, bits, begin, count, pcm.data());
    else if (bits == 32)
      backend.deliver_float(left, left + 1, write_gain, begin, count, floats.data());
    else
      backend.deliver_pcm(left, left + 1, write_gain, s.delivery.dither_seed, bits, begin, count,
                          pcm.data());
    vr.excerpt_opus = std::async(std::launch::async, [planar = as_read(pcm, floats, count),
                                                      rate = s.sample_rate] {
                        return excerpt_opus_base64(planar, rate);
                      }).share();
  }
  if (pass_written) {
    // The measured pass's own audio, dithered and written (or the pass again: the same
    // bits, it is deterministic).
    const PassSink sink = pcm_sink(writer, s.delivery.bit_depth, s.delivery.dither_seed);
    if (keep_pass)
      replay(keep, w.frames, sink);
    else
      limit_at(kept, L.params, L.drive_db, s.sample_rate, in.meter_options, false, sink);
    keep = PassKeep{};
  } else {
    // The kept master at the delivery gain (or the open limiter's drive), a segment at a
    // time.
    const float g = write_gain;
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
  // Each [[deliverable]]: its own limiter pass over the kept master, verified decoded.
  for (const Deliverable& d : s.deliverables) {
    const std::string ext = d.format;
    const std::filesystem::path file =
        has_variants ? opt.out_dir / "variants" / (vr.id + "-" + d.name + "." + ext)
                     : opt.out_dir / (d.name + "." + ext);
    const Processor* lp =
        w.delivery_limiter >= 0 ? &w.settings[master][k].chain[w.delivery_limiter] : nullptr;
    double drive = *d.target_lufs - vr.rendered_lufs;
    if (limited && s.delivery.target_lufs)
      drive = L.drive_db + (*d.target_lufs - *s.delivery.target_lufs);
    if (!std::isfinite(drive)) drive = 0.0;
    DeliverableResult r = deliver_deliverable(kept, d, lp, s.sample_rate, drive,
                                              s.delivery.dither_seed, file, in.meter_options);
    vr.warnings.insert(vr.warnings.end(), r.warnings.begin(), r.warnings.end());
    vr.deliverables.push_back(std::move(r));
  }
  return vr;
}

}  // namespace td
