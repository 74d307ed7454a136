#include "report/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "analysis/compare.h"
#include "analysis/playback.h"
#include "io/audio_file.h"
#include "io/output_set.h"
#include "report/player_excerpt.h"
#include "report/report.h"
#include "report/report_page.h"
#include "report/report_player_js.h"
#include "report/report_plots_js.h"

namespace td {
namespace {

using nlohmann::json;

json bands(const std::vector<Band>& b, double shift_db = 0.0) {
  json out = json::array();
  for (const auto& x : b) out.push_back({x.hz, number_or_null(x.db + shift_db)});
  return out;
}

// The short-term loudness every half second, [t_s, lufs].
json short_term(const Readings& r, double shift_db = 0.0) {
  json out = json::array();
  double next = 0.0;
  for (const auto& [t, lufs] : r.short_term_series)
    if (t >= next) {
      out.push_back({std::round(t * 10.0) / 10.0, number_or_null(lufs + shift_db)});
      next = t + 0.5;
    }
  return out;
}

bool params_match(const std::vector<std::pair<std::string, double>>& sub,
                  const std::vector<std::pair<std::string, double>>& all) {
  for (const auto& [path, value] : sub) {
    bool found = false;
    for (const auto& [p, v] : all) found |= p == path && v == value;
    if (!found) return false;
  }
  return true;
}

// The width per band (side / mid energy) of a variant itself: the page without references.
json own_width(const StereoSpectra& sp) {
  json out = json::array();
  for (size_t b = 0; b < sp.mid.size() && b < sp.side.size(); ++b) {
    const double w = band_width(sp.mid[b], sp.side[b]);
    if (!std::isnan(w)) out.push_back({sp.mid[b].hz, std::round(1e4 * w) / 1e4});
  }
  return out;
}

// When the page was made, UTC, to the minute.
std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M UTC", &tm);
  return b;
}

json variant_json(const RenderResult& r, const VariantResult& v) {
  json params = json::object();
  for (const auto& [path, value] : v.params) params[path] = value;
  json comparisons = json::array();
  for (const auto& c : v.comparisons) comparisons.push_back(comparison_json(c));
  json dynamics = json::array();
  for (const auto& d : r.dynamics) {
    if (d.node != "master" || !params_match(d.params, v.params)) continue;
    dynamics.push_back(
        {{"processor", d.processor}, {"trace_hz", d.trace_hz}, {"trace", trace_json(d.trace_db)}});
  }
  if (v.limited) {  // the delivery limiter, driven to the target on the kept master
    dynamics.push_back({{"processor", v.limiter_id + " (delivery)"},
                        {"trace_hz", 10.0},
                        {"trace", trace_json(v.limiter_trace_db)}});
  }
  json buses = json::array();
  for (const auto& m : r.meters) {
    if (m.kind != "bus" || !params_match(m.params, v.params)) continue;
    buses.push_back({{"node", m.node},
                     {"pre_chain_peak_dbfs", number_or_null(m.pre_chain_peak_dbfs)},
                     {"true_peak_dbtp", number_or_null(m.readings.true_peak_dbtp)}});
  }
  return {{"id", v.id},
          {"rank", v.rank},
          {"score", number_or_null(v.score)},
          {"params", params},
          {"file", v.file.empty() ? json(nullptr) : json(v.file.filename().string())},
          {"integrated_lufs", number_or_null(v.delivered_lufs)},
          {"true_peak_dbtp", number_or_null(v.true_peak_dbtp)},
          {"lra_lu", number_or_null(v.readings.lra_lu)},
          {"plr_db", number_or_null(v.readings.plr_db)},
          {"crest_db", number_or_null(v.readings.crest_db)},
          {"spectrum", bands(v.spectra.total)},
          {"width", own_width(v.spectra)},
          {"short_term", short_term(v.readings)},
          {"comparisons", comparisons},
          {"dynamics", dynamics},
          {"buses", buses}};
}

}  // namespace

std::string report_html(const Session& s, const RenderResult& r, const HtmlOptions& o) {
  std::vector<const VariantResult*> ranked;
  for (const auto& v : r.variants) ranked.push_back(&v);
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const VariantResult* a, const VariantResult* b) { return a->rank < b->rank; });
  json data;
  data["session"] = s.file.filename().string();
  data["tool"] = {{"name", "topdown"}, {"version", kVersion}};
  data["rendered_utc"] = utc_now();
  data["delivery"] = {
      {"format", s.delivery.format},
      {"bit_depth", s.delivery.bit_depth},
      {"target_lufs", s.delivery.target_lufs ? json(*s.delivery.target_lufs) : json(nullptr)},
      {"ceiling_dbtp", s.delivery.ceiling_dbtp}};
  data["sample_rate"] = r.sample_rate;
  data["duration_s"] = (double)r.frames / std::max(1, r.sample_rate);
  data["headroom_dbfs"] = r.headroom_dbfs;
  data["params"] = json::array();
  for (const auto& a : s.variants.sweep) data["params"].push_back(a.path);
  data["variants"] = json::array();
  for (const VariantResult* v : ranked) data["variants"].push_back(variant_json(r, *v));
  data["references"] = json::array();
  for (const auto& ref : r.references)
    data["references"].push_back(
        {{"name", ref.file.filename().string()},
         {"weight", ref.weight},
         {"integrated_lufs", number_or_null(ref.measured.readings.integrated_lufs)},
         {"spectrum", bands(ref.measured.spectra.total)},
         {"short_term", short_term(ref.measured.readings)}});
  // Playback systems: their curves at the band centres and the players' FIRs (float32).
  const int taps = playback_fir_taps(r.sample_rate);
  data["systems"] = json::array();
  // Designed on all cores (once per process: playback_fir keeps them).
  const std::vector<PlaybackSystem>& systems = playback_systems();
  std::vector<std::vector<double>> firs(systems.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int i = 0; i < (int)systems.size(); ++i)
    firs[i] = playback_fir(systems[i], r.sample_rate, taps);
  for (size_t si = 0; si < systems.size(); ++si) {
    const PlaybackSystem& sys = systems[si];
    const std::vector<double>& fir = firs[si];
    std::string bytes(fir.size() * sizeof(float), '\0');
    for (size_t i = 0; i < fir.size(); ++i) {
      const float f = (float)fir[i];
      std::memcpy(&bytes[i * sizeof(float)], &f, sizeof f);
    }
    json curve = json::array();
    for (int i = 0; i < 31; ++i) {
      const double hz = 1000.0 * std::pow(2.0, (i - 17) / 3.0);
      curve.push_back({hz, std::round(200.0 * std::log10(playback_magnitude(sys, hz))) / 10.0});
    }
    data["systems"].push_back({{"name", sys.name},
                               {"mono", sys.mono},
                               {"description", sys.description},
                               {"curve", curve},
                               {"fir", base64(bytes)}});
  }
  // Players: the best written variants on one common stretch (the best one's loudest), the
  // references on their own loudest; each gained to the quietest source's loudness.
  json sources = json::array();
  const double duration = (double)r.frames / std::max(1, r.sample_rate);
  double start = 0.0;
  for (const VariantResult* v : ranked)
    if (!v->file.empty()) {
      start = loudest_start(v->readings, o.excerpt_s, duration);
      break;
    }
  // The excerpts are encoded on all cores (Opus at 20 s is about 0.2 s a source), in rounds
  // of the players still wanted, in rank order; a file that cannot be read back is skipped
  // and the next variant takes its place. A variant's excerpt made during its delivery
  // (VariantResult::excerpt_opus) is taken as it is: the same bytes.
  std::vector<const VariantResult*> written;
  for (const VariantResult* v : ranked)
    if (!v->file.empty()) written.push_back(v);
  auto encode = [&](const VariantResult* v) {
    if (v->excerpt_opus.valid() && v->excerpt_start_s == start && o.excerpt_s == kExcerptSeconds)
      return v->excerpt_opus.get();
    return excerpt_of_file(OutputSet::readable(v->file), start, o.excerpt_s);
  };
  int players = 0;
  json missing = json::array();  // files that could not be read back: named on the page
  for (size_t next = 0; next < written.size() && players < o.max_variant_players;) {
    const size_t round = std::min(written.size() - next, (size_t)(o.max_variant_players - players));
    std::vector<std::string> audio(round);
#pragma omp parallel for schedule(dynamic, 1)
    for (long long i = 0; i < (long long)round; ++i) audio[i] = encode(written[next + i]);
    for (size_t i = 0; i < round; ++i) {
      const VariantResult* v = written[next + i];
      if (audio[i].empty()) {
        missing.push_back(v->file.filename().string());
        continue;
      }
      ++players;
      sources.push_back({{"id", v->id},
                         {"kind", "variant"},
                         {"lufs", number_or_null(v->delivered_lufs)},
                         {"start_s", start},
                         {"audio", std::move(audio[i])}});
    }
    next += round;
  }
  std::vector<double> ref_starts;
  for (const auto& ref : r.references) {
    const Readings& rr = ref.measured.readings;
    const double ref_duration =
        rr.short_term_series.empty() ? o.excerpt_s : rr.short_term_series.back().first;
    ref_starts.push_back(loudest_start(rr, o.excerpt_s, ref_duration));
  }
  std::vector<std::string> ref_audio(r.references.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long i = 0; i < (long long)r.references.size(); ++i)
    ref_audio[i] = excerpt_of_file(r.references[i].file, ref_starts[i], o.excerpt_s);
  for (size_t i = 0; i < r.references.size(); ++i) {
    const auto& ref = r.references[i];
    if (ref_audio[i].empty()) {
      missing.push_back(ref.file.filename().string());
      continue;
    }
    sources.push_back({{"id", ref.file.filename().string()},
                       {"kind", "reference"},
                       {"lufs", number_or_null(ref.measured.readings.integrated_lufs)},
                       {"start_s", ref_starts[i]},
                       {"audio", std::move(ref_audio[i])}});
  }
  data["players"] = {{"taps", taps},
                     {"sources", sources},
                     {"missing", missing},
                     {"codec", "Opus at " + std::to_string(kExcerptKbps) + " kbps"}};
  // JSON inside <script>: no name may change the page's structure. "</script>" would close
  // the element and "<!--" opens the HTML parser's script-data escaped states; with every
  // '<', '>' and '&' written as a JSON \u escape (they occur only inside strings) no tag,
  // comment or entity can appear in the element at all.
  std::string blob;
  for (char c : data.dump())
    blob += c == '<' ? "\\u003c" : c == '>' ? "\\u003e" : c == '&' ? "\\u0026" : std::string(1, c);
  std::string page = kReportPage;
  auto put = [&](const std::string& marker, const std::string& text) {
    page.replace(page.find(marker), marker.size(), text);
  };
  put("/*TOPDOWN_PLOTS*/", kReportPlotsScript);
  put("/*TOPDOWN_PLAYER*/", kReportPlayerScript);
  put("/*TOPDOWN_DATA*/", blob);  // last: the data cannot hold a marker the others look for
  return page;
}

}  // namespace td
