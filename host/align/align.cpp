#include "align/align.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "base/input_error.h"
#include "io/audio_file.h"

namespace td {
namespace {

bool side_or_number(const std::string& suffix) {
  if (suffix == "l" || suffix == "r" || suffix == "left" || suffix == "right") return true;
  return !suffix.empty() &&
         std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The first kAlignSeconds of a stem, averaged to mono. Layered recordings play together, so
// a few minutes settle their delay; the cap also bounds the memory whatever length a file's
// header claims (docs/security.md).
constexpr double kAlignSeconds = 300.0;

std::vector<float> mono_of(const Session& s, const Node& n) {
  const StemInfo info = probe_stem(n.file, s.sample_rate);
  const long long frames =
      std::min<long long>(info.frames_at_rate, (long long)(kAlignSeconds * s.sample_rate));
  std::vector<std::vector<float>> planes((size_t)info.channels, std::vector<float>((size_t)frames));
  std::vector<float*> out;
  for (auto& p : planes) out.push_back(p.data());
  decode_stem(info, s.sample_rate, out.data(), frames);
  std::vector<float> mono((size_t)frames, 0.0f);
  for (const auto& p : planes)
    for (size_t i = 0; i < mono.size(); ++i) mono[i] += p[i] / (float)planes.size();
  return mono;
}

const Node& track_named(const Session& s, const std::string& name) {
  for (const Node& n : s.nodes)
    if (n.kind == NodeKind::kTrack && n.name == name) return n;
  throw InputError(s.file.string() + ": no track \"" + name + "\"");
}

std::string html_escape(const std::string& t) {
  std::string o;
  for (char c : t) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else if (c == '\'')
      o += "&#39;";
    else
      o += c;
  }
  return o;
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(digits);
  os << v;
  return os.str();
}

}  // namespace

std::vector<std::vector<std::string>> align_groups(const Session& s,
                                                   std::vector<std::string>* names) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> listed;
  for (size_t i = 0; i < s.align.size(); ++i) {
    out.push_back(s.align[i].tracks);
    if (names) names->push_back("[[align]] #" + std::to_string(i + 1));
    listed.insert(listed.end(), s.align[i].tracks.begin(), s.align[i].tracks.end());
  }
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> by_stem;
  std::vector<std::pair<std::string, std::string>> order;
  for (const Node& n : s.nodes) {
    if (n.kind != NodeKind::kTrack) continue;
    if (std::find(listed.begin(), listed.end(), n.name) != listed.end()) continue;
    const size_t cut = n.name.rfind('_');
    if (cut == std::string::npos || cut == 0 || side_or_number(n.name.substr(cut + 1))) continue;
    const auto key = std::make_pair(n.output, n.name.substr(0, cut));
    if (!by_stem.count(key)) order.push_back(key);
    by_stem[key].push_back(n.name);
  }
  for (const auto& key : order)
    if (by_stem[key].size() >= 2) {
      out.push_back(by_stem[key]);
      if (names) names->push_back(key.second);
    }
  return out;
}

std::vector<AlignGroupResult> measure_groups(const Session& s, double max_delay_ms) {
  std::vector<std::string> names;
  const auto groups = align_groups(s, &names);
  std::vector<AlignGroupResult> out;
  for (size_t g = 0; g < groups.size(); ++g) {
    AlignGroupResult r;
    r.name = names[g];
    r.reference = groups[g][0];
    const std::vector<float> ref = mono_of(s, track_named(s, r.reference));
    for (size_t t = 1; t < groups[g].size(); ++t) {
      AlignedTrack a;
      a.track = groups[g][t];
      a.m =
          measure_alignment(ref, mono_of(s, track_named(s, a.track)), s.sample_rate, max_delay_ms);
      a.corrected = a.m.peak >= kAlignMinPeak;
      r.tracks.push_back(std::move(a));
    }
    out.push_back(std::move(r));
  }
  return out;
}

AlignStep align_step(const AlignMeasurement& m, int rate) {
  AlignStep step;
  step.delay_ms = std::round(-m.delay_samples / rate * 1000.0 * 1e5) / 1e5;
  step.invert = m.polarity < 0;
  return step;
}

std::string apply_alignment(const Session& s, const std::vector<AlignGroupResult>& groups) {
  toml::table root;
  try {
    root = toml::parse_file(s.file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(s.file.string() + ": " + std::string(e.description()));
  }
  auto* tracks = root["track"].as_array();
  for (const AlignGroupResult& g : groups)
    for (const AlignedTrack& a : g.tracks) {
      if (!a.corrected || !tracks) continue;
      toml::table* t = nullptr;
      for (auto& e : *tracks)
        if (auto* et = e.as_table(); et && (*et)["name"].value<std::string>() == a.track) t = et;
      if (!t) continue;
      if (!t->contains("chain")) t->insert("chain", toml::array{});
      toml::array* chain = (*t)["chain"].as_array();
      toml::table step;
      step.insert("type", "utility");
      step.insert("id", "align");
      const AlignStep correction = align_step(a.m, s.sample_rate);
      step.insert("delay_ms", correction.delay_ms);
      if (correction.invert) {
        step.insert("invert_left", true);
        step.insert("invert_right", true);
      }
      bool replaced = false;
      for (auto& e : *chain)
        if (auto* et = e.as_table(); et && (*et)["id"].value<std::string>() == "align") {
          if ((*et)["type"].value<std::string>() != "utility")
            throw InputError(s.file.string() + ": track \"" + a.track +
                             "\": a processor with id \"align\" that is not the alignment's "
                             "utility step (rename it)");
          *et = step;
          replaced = true;
        }
      if (!replaced) chain->insert(chain->begin(), step);
    }
  std::ostringstream os;
  os << "# Aligned by `topdown align --apply` (utility steps with id \"align\"; comments are "
        "not kept).\n\n"
     << root << "\n";
  return os.str();
}

nlohmann::json align_json(const Session& s, const std::vector<AlignGroupResult>& groups) {
  nlohmann::json out = nlohmann::json::array();
  for (const AlignGroupResult& g : groups) {
    nlohmann::json tracks = nlohmann::json::array();
    for (const AlignedTrack& a : g.tracks)
      tracks.push_back({{"track", a.track},
                        {"corrected", a.corrected},
                        {"delay_samples", a.m.delay_samples},
                        {"delay_ms", a.m.delay_samples / s.sample_rate * 1000.0},
                        {"polarity_inverted", a.m.polarity < 0},
                        {"gcc_phat_peak", a.m.peak},
                        {"coherence_before", a.m.coherence_before},
                        {"coherence_after", a.m.coherence_after},
                        {"low_frequency_gain_db", a.m.lf_gain_db},
                        {"band_hz", a.m.band_hz},
                        {"sum_before_db", a.m.sum_before_db},
                        {"sum_after_db", a.m.sum_after_db}});
    out.push_back({{"group", g.name}, {"reference", g.reference}, {"tracks", tracks}});
  }
  return out;
}

std::string align_html(const Session& s, const std::vector<AlignGroupResult>& groups) {
  std::ostringstream h;
  h << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'\"><title>topdown align: "
    << html_escape(s.file.filename().string())
    << "</title><style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}"
       "td,th{padding:2px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
       "</style></head><body>\n<h1>Alignment: "
    << html_escape(s.file.filename().string()) << "</h1>\n";
  if (groups.empty()) h << "<p>No group of tracks from one source was found.</p>\n";
  for (const AlignGroupResult& g : groups) {
    h << "<h2>" << html_escape(g.name) << " (reference: " << html_escape(g.reference)
      << ")</h2>\n<table><tr><th>track</th><th>delay (samples)</th><th>delay (ms)</th>"
         "<th>polarity</th><th>coherence before</th><th>after</th><th>sum below 200 Hz</th></tr>\n";
    for (const AlignedTrack& a : g.tracks) {
      h << "<tr><td>" << html_escape(a.track) << "</td>";
      if (!a.corrected) {
        h << "<td colspan=\"6\">no common source found (GCC-PHAT peak " << fixed(a.m.peak, 3)
          << "): left as it is</td></tr>\n";
        continue;
      }
      h << "<td>" << fixed(a.m.delay_samples, 2) << "</td><td>"
        << fixed(a.m.delay_samples / s.sample_rate * 1000.0, 3) << "</td><td>"
        << (a.m.polarity < 0 ? "inverted" : "as is") << "</td><td>"
        << fixed(a.m.coherence_before, 2) << "</td><td>" << fixed(a.m.coherence_after, 2)
        << "</td><td>" << (a.m.lf_gain_db >= 0 ? "+" : "") << fixed(a.m.lf_gain_db, 1)
        << " dB</td></tr>\n";
    }
    h << "</table>\n";
    // The summed magnitude per third octave, before (grey) and after (blue), per track.
    for (const AlignedTrack& a : g.tracks) {
      if (!a.corrected || a.m.band_hz.empty()) continue;
      const double W = 600, H = 180, pad = 30;
      double lo = INFINITY, hi = -INFINITY;
      for (double v : a.m.sum_before_db) lo = std::min(lo, v), hi = std::max(hi, v);
      for (double v : a.m.sum_after_db) lo = std::min(lo, v), hi = std::max(hi, v);
      lo = std::max(lo, hi - 60.0);
      if (!(hi > lo)) hi = lo + 1.0;
      auto x = [&](double f) {
        return pad + (W - 2 * pad) * std::log(f / 20.0) / std::log(1000.0);
      };
      auto y = [&](double v) {
        return H - pad - (H - 2 * pad) * (std::max(v, lo) - lo) / (hi - lo);
      };
      h << "<p>" << html_escape(g.reference) << " + " << html_escape(a.track)
        << ": the sum's magnitude per third octave, <span style=\"color:#888\">before</span> "
           "and <span style=\"color:#1565c0\">after</span></p>\n<svg width=\""
        << W << "\" height=\"" << H << "\" role=\"img\" aria-label=\"summed magnitude\">";
      for (int pass = 0; pass < 2; ++pass) {
        const auto& v = pass ? a.m.sum_after_db : a.m.sum_before_db;
        h << "<polyline fill=\"none\" stroke=\"" << (pass ? "#1565c0" : "#888")
          << "\" stroke-width=\"2\" points=\"";
        for (size_t i = 0; i < v.size(); ++i) h << x(a.m.band_hz[i]) << ',' << y(v[i]) << ' ';
        h << "\"/>";
      }
      for (double f : {20.0, 100.0, 1000.0, 10000.0})
        h << "<text x=\"" << x(f) << "\" y=\"" << H - 8 << "\" font-size=\"11\">"
          << (f >= 1000 ? fixed(f / 1000, 0) + " k" : fixed(f, 0)) << "</text>";
      h << "</svg>\n";
    }
  }
  h << "</body></html>\n";
  return h.str();
}

}  // namespace td
