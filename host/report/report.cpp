#include "report/report.h"

#include <cmath>

namespace td {

const char* const kVersion = "0.1.0";

nlohmann::json number_or_null(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::round(v * 1e4) / 1e4;  // 0.0001 dB is far below any meter's tolerance
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
  for (const auto& n : r.nodes)
    nodes.push_back({{"name", n.name},
                     {"kind", n.kind},
                     {"level", n.level},
                     {"swept_by", n.reaching_axes},
                     {"renders", n.renders},
                     {"folded_into_bus", n.folded}});
  j["plan"] = {{"nodes", nodes},
               {"total_renders", r.total_renders},
               {"variants", (int)r.variants.size()},
               {"peak_streams", r.slots}};
  json variants = json::array();
  for (const auto& v : r.variants) {
    json params = json::object();
    for (const auto& [path, value] : v.params) params[path] = value;
    variants.push_back({{"id", v.id},
                        {"params", params},
                        {"file", v.file.empty() ? json(nullptr) : json(v.file.filename().string())},
                        {"rendered_lufs", number_or_null(v.rendered_lufs)},
                        {"delivery_gain_db", number_or_null(v.delivery_gain_db)},
                        {"integrated_lufs", number_or_null(v.delivered_lufs)},
                        {"true_peak_dbtp", number_or_null(v.true_peak_dbtp)},
                        {"sample_peak_dbfs", number_or_null(v.sample_peak_dbfs)},
                        {"warnings", v.warnings}});
  }
  if (s.variants.sweep.empty() && !variants.empty())
    j["master"] = variants[0];
  else
    j["variants"] = variants;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace td
