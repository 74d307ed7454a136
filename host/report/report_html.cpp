#include "report/report_html.h"

#include <algorithm>
#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <cmath>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "analysis/compare.h"
#include "analysis/playback.h"
#include "io/audio_file.h"
#include "io/output_set.h"
#include "report/report.h"
#include "report/report_page.h"
#include "report/report_player_js.h"
#include "report/report_plots_js.h"

namespace td {
namespace {

using nlohmann::json;

std::string base64(const std::string& bytes) {
  using namespace boost::archive::iterators;
  using It = base64_from_binary<transform_width<std::string::const_iterator, 6, 8>>;
  const size_t pad = (3 - bytes.size() % 3) % 3;
  const std::string padded = bytes + std::string(pad, '\0');
  std::string out(It(padded.begin()), It(padded.end()));
  out.replace(out.size() - pad, pad, pad, '=');
  return out;
}

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

// The start (s) of the loudest `length_s` stretch by mean short-term loudness (1 s grid).
double loudest_start(const Readings& r, double length_s, double duration_s) {
  if (duration_s <= length_s) return 0.0;
  double best = 0.0, best_mean = -1e300;
  for (double start = 0.0; start + length_s <= duration_s; start += 1.0) {
    double sum = 0;
    int n = 0;
    for (const auto& [t, lufs] : r.short_term_series)
      if (t - 3.0 >= start && t <= start + length_s && std::isfinite(lufs)) sum += lufs, ++n;
    if (n > 0 && sum / n > best_mean) best_mean = sum / n, best = start;
  }
  return best;
}

// An excerpt of a file as embedded Ogg Opus at kExcerptKbps (base64), or empty if it cannot
// be read. Opus, not FLAC, for the page's size: 20 s of a master is about 3 MB as 16-bit
// FLAC and 0.6 MB as Opus at 192 kbps (base64 included), so a page with 8 variants and 2
// references stays near 7 MB. 192 kbps stereo is past the rate at which Opus is
// transparent on music in listening tests (the Opus codec's recommendations: 128 kbps and
// up for stereo music), and the delivered files, not the excerpts, are the masters.
constexpr int kExcerptKbps = 192;
std::string excerpt(const std::filesystem::path& file, double start_s, double length_s) {
  try {
    const AudioData a = read_audio_range(file, start_s, length_s);
    if (a.channels.empty()) return "";
    return base64(encode_opus(a.channels, a.sample_rate, kExcerptKbps));
  } catch (const std::exception&) {
    return "";
  }
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
  int players = 0;
  json missing = json::array();  // files that could not be read back: named on the page
  for (const VariantResult* v : ranked) {
    if (v->file.empty() || players >= o.max_variant_players) continue;
    const std::string audio = excerpt(OutputSet::readable(v->file), start, o.excerpt_s);
    if (audio.empty()) {
      missing.push_back(v->file.filename().string());
      continue;
    }
    ++players;
    sources.push_back({{"id", v->id},
                       {"kind", "variant"},
                       {"lufs", number_or_null(v->delivered_lufs)},
                       {"start_s", start},
                       {"audio", audio}});
  }
  for (const auto& ref : r.references) {
    const Readings& rr = ref.measured.readings;
    const double ref_duration =
        rr.short_term_series.empty() ? o.excerpt_s : rr.short_term_series.back().first;
    const double ref_start = loudest_start(rr, o.excerpt_s, ref_duration);
    const std::string audio = excerpt(ref.file, ref_start, o.excerpt_s);
    if (audio.empty()) {
      missing.push_back(ref.file.filename().string());
      continue;
    }
    sources.push_back({{"id", ref.file.filename().string()},
                       {"kind", "reference"},
                       {"lufs", number_or_null(rr.integrated_lufs)},
                       {"start_s", ref_start},
                       {"audio", audio}});
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
