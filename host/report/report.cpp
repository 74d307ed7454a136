#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/csv.h"
#include "processors/pitch.h"

namespace td {

const char* const kVersion = "0.1.0";

nlohmann::json number_or_null(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::round(v * 1e4) / 1e4;  // 0.0001 dB is far below any meter's tolerance
}

// Each [[deliverable]] file with what its decoded audio measures.
nlohmann::json deliverables_json(const std::vector<DeliverableResult>& ds) {
  using nlohmann::json;
  json out = json::array();
  for (const DeliverableResult& d : ds)
    out.push_back({{"name", d.name},
                   {"file", d.file.filename().string()},
                   {"format", d.format},
                   {"sample_rate", d.sample_rate},
                   {"bit_depth", d.bit_depth > 0 ? json(d.bit_depth) : json(nullptr)},
                   {"bitrate_kbps", d.bitrate_kbps > 0 ? json(d.bitrate_kbps) : json(nullptr)},
                   {"target_lufs", d.target_lufs},
                   {"ceiling_dbtp", d.ceiling_dbtp},
                   {"integrated_lufs", number_or_null(d.readings.integrated_lufs)},
                   {"true_peak_dbtp", number_or_null(d.readings.true_peak_dbtp)},
                   {"sample_peak_dbfs", number_or_null(d.readings.sample_peak_dbfs)},
                   {"lra_lu", number_or_null(d.readings.lra_lu)},
                   {"limiter_drive_db", number_or_null(d.drive_db)},
                   {"limiter_ceiling_dbtp", number_or_null(d.limiter_ceiling_dbtp)},
                   {"passes", d.passes},
                   {"warnings", d.warnings}});
  return out;
}

nlohmann::json series_json(const std::vector<std::pair<double, double>>& s, size_t step) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = step - 1; i < s.size(); i += step)
    out.push_back({std::round(s[i].first * 1000.0) / 1000.0, number_or_null(s[i].second)});
  return out;
}

nlohmann::json readings_json(const Readings& r, const std::vector<Band>& spectrum, bool series) {
  nlohmann::json j;
  j["integrated_lufs"] = number_or_null(r.integrated_lufs);
  j["lra_lu"] = number_or_null(r.lra_lu);
  j["momentary_max_lufs"] = number_or_null(r.momentary_max_lufs);
  j["short_term_max_lufs"] = number_or_null(r.short_term_max_lufs);
  j["true_peak_dbtp"] = number_or_null(r.true_peak_dbtp);
  j["sample_peak_dbfs"] = number_or_null(r.sample_peak_dbfs);
  j["rms_dbfs"] = number_or_null(r.rms_dbfs);
  j["crest_db"] = number_or_null(r.crest_db);
  j["plr_db"] = number_or_null(r.plr_db);
  j["correlation"] = r.correlation ? number_or_null(*r.correlation) : nlohmann::json(nullptr);
  j["vu_max"] = number_or_null(r.vu_max);
  nlohmann::json bands = nlohmann::json::array();
  for (const auto& b : spectrum) bands.push_back({{"hz", b.hz}, {"db", number_or_null(b.db)}});
  j["spectrum_third_octave"] = bands;
  if (series) {
    j["momentary_series"] = series_json(r.momentary_series, 1);
    j["short_term_series"] = series_json(r.short_term_series, 1);
  }
  j["notes"] = r.notes;
  return j;
}

namespace {

nlohmann::json bands_json(const std::vector<Band>& bands) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : bands)
    out.push_back({{"hz", b.hz}, {"db", std::round(b.db * 1000.0) / 1000.0}});
  return out;
}

// Side / mid energy per band, the mix's and the reference's.
nlohmann::json width_json(const Comparison& c) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& w : c.width)
    out.push_back({{"hz", w.hz},
                   {"mix", std::round(w.mix * 1e4) / 1e4},
                   {"reference", std::round(w.reference * 1e4) / 1e4}});
  return out;
}

nlohmann::json translation_json(const Comparison& c) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : c.translation)
    out.push_back({{"system", t.system},
                   {"level_match_db", number_or_null(t.level_match_db)},
                   {"spectral_rms_db", number_or_null(t.spectral_rms_db)},
                   {"band_difference_db", bands_json(t.band_difference)}});
  return out;
}

}  // namespace

nlohmann::json trace_json(const std::vector<float>& trace_db) {
  nlohmann::json out = nlohmann::json::array();
  for (float v : trace_db) out.push_back(std::round(v * 100.0) / 100.0);
  return out;
}

nlohmann::json comparison_json(const Comparison& c) {
  return {{"reference", c.reference},
          {"weight", c.weight},
          {"level_match_db", number_or_null(c.level_match_db)},
          {"spectral_rms_db", number_or_null(c.spectral_rms_db)},
          {"band_difference_db", bands_json(c.band_difference)},
          {"plr_difference_db", number_or_null(c.plr_difference_db)},
          {"lra_difference_lu", number_or_null(c.lra_difference_lu)},
          {"crest_difference_db", number_or_null(c.crest_difference_db)},
          {"short_term_difference_lu", number_or_null(c.short_term_difference_lu)},
          {"correlation_difference", number_or_null(c.correlation_difference)},
          {"width", width_json(c)},
          {"width_rms_difference", number_or_null(c.width_rms_difference)},
          {"translation", translation_json(c)},
          {"translation_rms_db", number_or_null(c.translation_rms_db)},
          {"score", number_or_null(c.score)}};
}

namespace {
// A variant's file as the output folder holds it: variants/v0006.wav, or master.wav.
std::string relative_file(const VariantResult& v) {
  if (v.file.empty()) return "";
  const std::string name = v.file.filename().string();
  return v.file.parent_path().filename() == "variants" ? "variants/" + name : name;
}
}  // namespace

std::string report_csv(const RenderResult& r) {
  // One row per variant, best first when ranked: the figures a spreadsheet sorts by. Every
  // cell through the one CSV writer (base/csv.h).
  std::vector<const VariantResult*> rows;
  for (const auto& v : r.variants) rows.push_back(&v);
  std::stable_sort(rows.begin(), rows.end(), [](const VariantResult* a, const VariantResult* b) {
    return a->rank < b->rank;
  });
  std::ostringstream os;
  os << csv_cell("rank") << "," << csv_cell("id") << "," << csv_cell("score (lower is closer)");
  if (!r.variants.empty())
    for (const auto& pv : r.variants[0].params) os << "," << csv_cell(pv.first);
  for (const char* h : {"integrated_lufs", "true_peak_dbtp", "lra_lu", "plr_db", "crest_db",
                        "spectral_rms_db", "width_rms_difference", "translation_rms_db", "file"})
    os << "," << csv_cell(h);
  os << "\n";
  for (const VariantResult* v : rows) {
    double spectral = 0, width = 0, translation = 0, weights = 0;
    for (const auto& c : v->comparisons) {
      spectral += c.weight * c.spectral_rms_db, weights += c.weight;
      width += c.weight * c.width_rms_difference;
      translation += c.weight * c.translation_rms_db;
    }
    const double none = std::nan("");
    os << csv_number(v->rank) << "," << csv_cell(v->id) << "," << csv_number(v->score);
    for (const auto& pv : v->params) os << "," << csv_number(pv.second);
    os << "," << csv_number(v->delivered_lufs) << "," << csv_number(v->true_peak_dbtp) << ","
       << csv_number(v->readings.lra_lu) << "," << csv_number(v->readings.plr_db) << ","
       << csv_number(v->readings.crest_db) << ","
       << csv_number(weights > 0 ? spectral / weights : none) << ","
       << csv_number(weights > 0 ? width / weights : none) << ","
       << csv_number(weights > 0 ? translation / weights : none) << ","
       << csv_cell(relative_file(*v)) << "\n";
  }
  return os.str();
}

nlohmann::json make_report(const Session& s, const RenderResult& r) {
  using nlohmann::json;
  json j;
  j["tool"] = {{"name", "topdown"}, {"version", kVersion}};
  j["session"] = s.file.filename().string();
  j["backend"] = r.backend;
  j["sample_rate"] = r.sample_rate;
  j["frames"] = r.frames;
  j["duration_s"] = number_or_null((double)r.frames / r.sample_rate);
  j["delivery"] = {
      {"format", s.delivery.format},
      {"bit_depth", s.delivery.bit_depth},
      {"target_lufs", s.delivery.target_lufs ? json(*s.delivery.target_lufs) : json(nullptr)},
      {"ceiling_dbtp", s.delivery.ceiling_dbtp},
      {"dither", s.delivery.bit_depth == 32 ? "none" : "tpdf"}};
  json stems = json::array();
  size_t k = 0;
  for (const auto& n : s.nodes) {
    if (n.kind != NodeKind::kTrack) continue;
    const StemInfo& st = r.stems[k++];
    stems.push_back({{"track", n.name},
                     {"file", st.file.filename().string()},
                     {"format", st.format},
                     {"channels", st.channels},
                     {"sample_rate", st.sample_rate},
                     {"frames", st.frames},
                     {"resampled", st.sample_rate != s.sample_rate}});
  }
  j["stems"] = stems;
  json nodes = json::array();
  for (const auto& n : r.nodes) {
    json node = {{"name", n.name},
                 {"kind", n.kind},
                 {"level", n.level},
                 {"swept_by", n.reaching_axes},
                 {"renders", n.renders},
                 {"folded_into_bus", n.folded},
                 {"latency_samples", n.latency_samples}};
    // A step that does not run on the render's backend: pitch, in the stem reader.
    for (const Node& sn : s.nodes)
      if (sn.kind == NodeKind::kTrack && sn.name == n.name && track_pitch(sn))
        node["stem_reader"] = "pitch: Rubber Band R3 on the CPU, as the stem is read";
    nodes.push_back(node);
  }
  j["plan"] = {{"nodes", nodes},
               {"total_renders", r.total_renders},
               {"shared_stages", r.shared_stages},
               {"variants", (int)r.variants.size()},
               {"variant_total", r.variant_total},
               {"peak_streams", r.slots},
               {"latency_samples", r.latency_samples}};
  json variants = json::array();
  // Best first when there are references to rank against; in id order otherwise.
  std::vector<const VariantResult*> ranked;
  for (const auto& v : r.variants) ranked.push_back(&v);
  const bool has_references = !r.variants.empty() && !r.variants[0].comparisons.empty();
  if (has_references)
    std::stable_sort(
        ranked.begin(), ranked.end(),
        [](const VariantResult* a, const VariantResult* b) { return a->rank < b->rank; });
  for (const VariantResult* vp : ranked) {
    const VariantResult& v = *vp;
    json params = json::object();
    for (const auto& [path, value] : v.params) params[path] = value;
    variants.push_back(
        {{"id", v.id},
         {"params", params},
         {"file", v.file.empty() ? json(nullptr) : json(v.file.filename().string())},
         {"rendered_lufs", number_or_null(v.rendered_lufs)},
         {"delivery_gain_db", number_or_null(v.delivery_gain_db)},
         {"integrated_lufs", number_or_null(v.delivered_lufs)},
         {"true_peak_dbtp", number_or_null(v.true_peak_dbtp)},
         {"sample_peak_dbfs", number_or_null(v.sample_peak_dbfs)},
         {"limiter", v.limited
                         ? json{{"drive_db", number_or_null(v.limiter_drive_db)},
                                {"reduction_p99_db", number_or_null(v.limiter_reduction_p99_db)},
                                {"reduction_max_db", number_or_null(v.limiter_reduction_max_db)},
                                {"passes", v.limiter_passes},
                                {"trace_hz", 10},
                                {"reduction_trace_db", trace_json(v.limiter_trace_db)}}
                         : json(nullptr)},
         {"deliverables", deliverables_json(v.deliverables)},
         {"meters", readings_json(v.readings, v.spectra.total, false)},
         {"vu_series", series_json(v.readings.vu_series, 10)},
         {"warnings", v.warnings}});
    if (has_references) {
      json refs = json::array();
      for (const auto& c : v.comparisons) {
        refs.push_back(comparison_json(c));
      }
      variants.back()["rank"] = v.rank;
      variants.back()["score"] = number_or_null(v.score);
      variants.back()["references"] = refs;
    }
  }
  if (s.variants.sweep.empty() && !variants.empty())
    j["master"] = variants[0];
  else
    j["variants"] = variants;
  json buses = json::array();
  for (const auto& m : r.meters) {
    json params = json::object();
    for (const auto& [path, value] : m.params) params[path] = value;
    buses.push_back({{"node", m.node},
                     {"kind", m.kind},
                     {"params", params},
                     {"pre_chain_peak_dbfs", number_or_null(m.pre_chain_peak_dbfs)},
                     {"exceeds_headroom", m.exceeds_headroom},
                     {"meters", readings_json(m.readings, m.spectrum, false)},
                     {"vu_series", series_json(m.readings.vu_series, 10)}});
  }
  j["gain_staging"] = {{"headroom_dbfs", r.headroom_dbfs},
                       {"vu_reference_dbfs", r.vu_reference_dbfs},
                       {"auto_gain_stage", r.auto_gain_passes > 0},
                       {"passes", r.auto_gain_passes}};
  if (r.auto_gain_passes > 0) {
    json gains = json::object();
    for (const auto& [track, db] : r.auto_gain_db) gains[track] = number_or_null(db);
    j["gain_staging"]["clip_gain_change_db"] = gains;
  }
  j["buses"] = buses;
  json dynamics = json::array();
  for (const auto& d : r.dynamics) {
    json params = json::object();
    for (const auto& [path, value] : d.params) params[path] = value;
    const json trace = trace_json(d.trace_db);
    dynamics.push_back({{"node", d.node},
                        {"processor", d.processor},
                        {"params", params},
                        {"gain_reduction_max_db", number_or_null(d.max_db)},
                        {"gain_reduction_mean_db", number_or_null(d.mean_db)},
                        {"trace_hz", d.trace_hz},
                        {"gain_reduction_trace_db", trace}});
  }
  j["dynamics"] = dynamics;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace td
