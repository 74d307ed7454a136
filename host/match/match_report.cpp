#include "match/match_report.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/csv.h"

namespace td {
namespace {

nlohmann::json values_json(const Session& s, const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t a = 0; a < s.search.size() && a < values.size(); ++a)
    out[s.search[a].path] = values[a];
  return out;
}

// Text for an HTML element or attribute: nothing in it can open a tag or an entity.
std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string number(double v, int precision = 4) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(precision);
  os << v;
  return os.str();
}

}  // namespace

nlohmann::json match_json(const Session& s, const MatchResult& m) {
  nlohmann::json j;
  j["session"] = s.file.string();
  j["evaluations"] = m.evaluations;
  j["start"] = {{"score", m.start_score}, {"values", values_json(s, m.start_values)}};
  j["best"] = {{"score", m.score}, {"values", values_json(s, m.values)}};
  nlohmann::json ranges = nlohmann::json::array();
  for (const Excerpt::Range& r : m.excerpt.ranges)
    ranges.push_back({{"start_s", (double)r.begin / m.excerpt.rate},
                      {"seconds", (double)r.frames / m.excerpt.rate}});
  j["excerpt"] = {{"whole_song", m.excerpt.whole()}, {"ranges", ranges}};
  nlohmann::json confirmed = nlohmann::json::array();
  for (const MatchConfirmed& c : m.confirmed)
    confirmed.push_back({{"values", values_json(s, c.values)},
                         {"excerpt_score", c.excerpt_score},
                         {"song_score", c.song_score}});
  j["confirmed"] = confirmed;
  j["confirmed_on_song"] = !m.excerpt.whole();
  nlohmann::json history = nlohmann::json::array();
  for (const auto& g : m.history)
    history.push_back({{"generation", g.generation},
                       {"evaluations", g.evaluations},
                       {"best_score", g.best_score},
                       {"generation_best", g.generation_best},
                       {"best_values", values_json(s, g.best_values)}});
  j["history"] = history;
  return j;
}

std::string match_csv(const Session& s, const MatchResult& m) {
  std::ostringstream os;
  os << csv_cell("generation") << ',' << csv_cell("evaluations") << ','
     << csv_cell("best_score (lower is closer)") << ',' << csv_cell("generation_best");
  for (const SearchAxis& a : s.search) os << ',' << csv_cell(a.path);
  os << "\n";
  for (const auto& g : m.history) {
    os << g.generation << ',' << g.evaluations << ',' << csv_number(g.best_score) << ','
       << csv_number(g.generation_best);
    for (double v : g.best_values) os << ',' << csv_number(v);
    os << "\n";
  }
  return os.str();
}

std::string match_html(const Session& s, const MatchResult& m) {
  std::ostringstream h;
  h << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'\">"
       "<title>topdown match: "
    << escape(s.file.filename().string())
    << "</title><style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}"
       "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
       "text-align:right}th:first-child,td:first-child{text-align:left}"
       ".best{stroke:#1565c0}.gen{fill:#ef6c00}</style></head><body>\n";
  h << "<h1>Match: " << escape(s.file.filename().string()) << "</h1>\n";
  h << "<p>" << m.evaluations << " evaluations; score (lower is closer, docs/references.md) "
    << number(m.start_score) << " at the session's settings, " << number(m.score)
    << " at the match, on the whole song.</p>\n";
  if (m.excerpt.whole()) {
    h << "<p>Searched on the whole song.</p>\n";
  } else {
    h << "<p>Searched on an excerpt:";
    for (const Excerpt::Range& r : m.excerpt.ranges)
      h << " " << number((double)r.begin / m.excerpt.rate, 1) << " s for "
        << number((double)r.frames / m.excerpt.rate, 1) << " s;";
    h << " the best candidates and the start confirmed on the whole song.</p>\n";
  }
  // Score against evaluations: each generation's best (dots), the best so far (line).
  const double W = 640, H = 240, pad = 40;
  double lo = INFINITY, hi = -INFINITY;
  long long most = 1;
  for (const auto& g : m.history) {
    for (double v : {g.best_score, g.generation_best})
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    most = std::max(most, g.evaluations);
  }
  if (std::isfinite(m.start_score))
    hi = std::max(hi, m.start_score), lo = std::min(lo, m.start_score);
  if (!(hi > lo)) hi = lo + 1.0;
  if (!std::isfinite(lo)) lo = 0.0, hi = 1.0;
  auto x = [&](double e) { return pad + (W - 2 * pad) * e / (double)most; };
  auto y = [&](double v) { return H - pad - (H - 2 * pad) * (v - lo) / (hi - lo); };
  h << "<h2>Score against evaluations</h2>\n<svg width=\"" << W << "\" height=\"" << H
    << "\" role=\"img\" aria-label=\"score against evaluations\">"
    << "<rect x=\"" << pad << "\" y=\"" << pad << "\" width=\"" << W - 2 * pad << "\" height=\""
    << H - 2 * pad << "\" fill=\"none\" stroke=\"#999\"/>";
  h << "<text x=\"" << pad << "\" y=\"" << pad - 6 << "\" font-size=\"11\">" << number(hi, 3)
    << "</text><text x=\"" << pad << "\" y=\"" << H - pad + 14 << "\" font-size=\"11\">"
    << number(lo, 3) << "</text><text x=\"" << W - pad << "\" y=\"" << H - pad + 14
    << "\" font-size=\"11\" text-anchor=\"end\">" << most << " evaluations</text>";
  h << "<polyline class=\"best\" fill=\"none\" stroke-width=\"2\" points=\"" << x(1) << ','
    << y(m.history.empty()              ? m.score
         : std::isfinite(m.start_score) ? m.start_score
                                        : lo);
  for (const auto& g : m.history)
    if (std::isfinite(g.best_score)) h << ' ' << x((double)g.evaluations) << ',' << y(g.best_score);
  h << "\"/>";
  for (const auto& g : m.history)
    if (std::isfinite(g.generation_best))
      h << "<circle class=\"gen\" r=\"3\" cx=\"" << x((double)g.evaluations) << "\" cy=\""
        << y(g.generation_best) << "\"><title>generation " << g.generation << ": "
        << number(g.generation_best) << "</title></circle>";
  h << "</svg>\n<p><span style=\"color:#1565c0\">&#9644;</span> best so far &nbsp; "
       "<span style=\"color:#ef6c00\">&#9679;</span> each generation's best (on the search's "
    << (m.excerpt.whole() ? "song" : "excerpt") << ")</p>\n";
  // The best settings per generation.
  h << "<h2>Best settings per generation</h2>\n<table><tr><th>generation</th>"
       "<th>evaluations</th><th>best score</th>";
  for (const SearchAxis& a : s.search) h << "<th>" << escape(a.path) << "</th>";
  h << "</tr>\n";
  for (const auto& g : m.history) {
    h << "<tr><td>" << g.generation << "</td><td>" << g.evaluations << "</td><td>"
      << number(g.best_score) << "</td>";
    for (double v : g.best_values) h << "<td>" << number(v, 3) << "</td>";
    h << "</tr>\n";
  }
  h << "</table>\n";
  if (!m.excerpt.whole()) {
    h << "<h2>Confirmed on the whole song</h2>\n<table><tr><th>candidate</th>"
         "<th>excerpt score</th><th>song score</th>";
    for (const SearchAxis& a : s.search) h << "<th>" << escape(a.path) << "</th>";
    h << "</tr>\n";
    for (size_t i = 0; i < m.confirmed.size(); ++i) {
      const MatchConfirmed& c = m.confirmed[i];
      h << "<tr><td>" << (c.values == m.start_values ? "start" : std::to_string(i + 1))
        << (c.values == m.values ? " (chosen)" : "") << "</td><td>" << number(c.excerpt_score)
        << "</td><td>" << number(c.song_score) << "</td>";
      for (double v : c.values) h << "<td>" << number(v, 3) << "</td>";
      h << "</tr>\n";
    }
    h << "</table>\n";
  }
  h << "</body></html>\n";
  return h.str();
}

}  // namespace td
