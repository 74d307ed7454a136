#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "backend/backend.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "io/audio_file.h"
#include "io/output_set.h"
#include "report/report.h"
#include "report/report_html.h"

namespace td {

void check_backend(const std::string& backend, const std::string& command) {
  if (backend != "cpu" && backend != "cuda" && backend != "auto")
    throw InputError(command + ": --backend " + backend + " (allowed: cpu, cuda, auto)");
  console().backend = backend;  // the GPU notice before the work's first progress line
}

std::function<void(const std::string&, double)> terminal_progress(double audio_seconds) {
  return progress_reporter(audio_seconds);
}

double song_seconds(const std::vector<StemSource>& stems, int rate) {
  long long frames = 0;
  for (const StemSource& s : stems) frames = std::max(frames, s.info.frames_at_rate);
  return rate > 0 ? (double)frames / rate : 0.0;
}

int finish_render(const Session& s, const RenderResult& r, const std::filesystem::path& out_dir,
                  bool json, OutputSet* outputs, const nlohmann::json& extra) {
  nlohmann::json report = make_report(s, r);
  for (const auto& [key, value] : extra.items()) report[key] = value;
  write_text_atomic(out_dir / "report.json", report.dump(2) + "\n");
  write_text_atomic(out_dir / "report.csv", report_csv(r));
  write_text_atomic(out_dir / "report.html", report_html(s, r));
  if (outputs) outputs->publish();  // the whole set, manifest last
  if (verbose()) {                  // where the time went
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(2);
    os << "timings: decode " << r.timings.decode_s << " s, stages " << r.timings.stages_s
       << " s, measure " << r.timings.measure_s << " s, write " << r.timings.write_s << " s;";
    for (const auto& [stage, seconds] : r.timings.stage_s) os << " " << stage << " " << seconds;
    detail(os.str());
  }
  for (const auto& w : r.warnings) note("warning: " + w);
  int hot = 0;
  for (const auto& m : r.meters) hot += m.exceeds_headroom;
  if (hot > 0 && r.auto_gain_passes == 0) {
    std::ostringstream os;
    os << "note: " << hot << " bus render(s) peak above the " << r.headroom_dbfs
       << " dBFS headroom before their chains (report.json \"buses\"; --auto-gain-stage "
          "fixes it)";
    note(os.str());
  }
  for (const auto& v : r.variants)
    for (const auto& w : v.warnings) note("warning: " + v.id + ": " + w);
  if (json) {
    nlohmann::json out = report;
    out["timings_s"] = {{"decode", r.timings.decode_s},
                        {"stages", r.timings.stages_s},
                        {"measure", r.timings.measure_s},
                        {"write", r.timings.write_s},
                        {"total", r.timings.total_s}};
    // The stages by type, in seconds and as a share of the whole render.
    nlohmann::json by_type = nlohmann::json::object();
    for (const auto& [stage, seconds] : r.timings.stage_s)
      by_type[stage] = {{"s", seconds}, {"share", seconds / std::max(1e-9, r.timings.total_s)}};
    out["timings_s"]["stages_by_type"] = by_type;
    out["out_dir"] = out_dir.string();
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  const double duration = (double)r.frames / r.sample_rate;
  std::printf(
      "rendered %zu tracks, %.1f s at %d Hz on %s: %d node renders for %zu variant(s) in %.2f s "
      "(%.1fx realtime)\n",
      r.stems.size(), duration, r.sample_rate, r.backend.c_str(), r.total_renders,
      r.variants.size(), command_seconds(), duration / std::max(1e-9, command_seconds()));
  auto fmt = [](double v) {
    char b[32];
    if (std::isfinite(v))
      std::snprintf(b, sizeof b, "%.1f", v);
    else
      std::snprintf(b, sizeof b, "-inf");
    return std::string(b);
  };
  // Best first when ranked against references (rank and score: lower is closer).
  std::vector<const VariantResult*> order;
  for (const auto& v : r.variants) order.push_back(&v);
  const bool ranked = !r.variants.empty() && !r.variants[0].comparisons.empty();
  if (ranked)
    std::stable_sort(
        order.begin(), order.end(),
        [](const VariantResult* a, const VariantResult* b) { return a->rank < b->rank; });
  for (const VariantResult* vp : order) {
    const VariantResult& v = *vp;
    if (ranked) std::printf("#%d (score %.3f) ", v.rank, v.score);
    std::printf("%s: %s LUFS integrated, %s dBTP true peak",
                v.file.empty() ? v.id.c_str() : v.file.string().c_str(),
                fmt(v.delivered_lufs).c_str(), fmt(v.true_peak_dbtp).c_str());
    for (const auto& [path, value] : v.params) std::printf("  %s=%.4g", path.c_str(), value);
    std::printf("\n");
    for (const auto& d : v.deliverables) {
      std::printf("  %s: %s LUFS, %s dBTP decoded (%d Hz, ", d.file.string().c_str(),
                  fmt(d.readings.integrated_lufs).c_str(), fmt(d.readings.true_peak_dbtp).c_str(),
                  d.sample_rate);
      if (d.bit_depth > 0)
        std::printf("%d-bit %s)\n", d.bit_depth, d.format.c_str());
      else if (d.bitrate_kbps > 0)
        std::printf("%d kbps %s)\n", d.bitrate_kbps, d.format.c_str());
      else
        std::printf("VBR %s)\n", d.format.c_str());
    }
  }
  if (r.auto_gain_passes > 0) {
    std::printf("auto gain staging (%d pass(es)) changed clip gains:", r.auto_gain_passes);
    int shown = 0;
    for (const auto& [track, db] : r.auto_gain_db)
      if (db != 0.0) std::printf("%s %s %+.2f dB", shown++ ? "," : "", track.c_str(), db);
    std::printf("%s\n", shown ? "" : " none needed");
  }
  std::printf("report: %s\n", (out_dir / "report.json").string().c_str());
  return 0;
}

}  // namespace td
