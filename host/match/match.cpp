#include "match/match.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/input_error.h"
#include "match/cmaes.h"
#include "processors/console.h"
#include "processors/processor.h"
#include "render/render.h"
#include "session/schema.h"

namespace td {
namespace {

namespace fs = std::filesystem;

const Processor* target_processor(const Session& s, const SweepTarget& t) {
  const Processor& p = s.nodes[t.node].chain[t.processor];
  return t.band >= 0 ? &p.bands[t.band] : &p;
}

// The candidates of one generation as one launch: variant i is candidate i.
std::vector<double> scores_of(const Session& s, const std::vector<StemSource>& stems,
                              const std::vector<std::vector<double>>& values,
                              const MatchOptions& o) {
  const Session g = with_candidates(s, values);
  RenderOptions ro;
  ro.backend = o.backend;
  ro.write_audio = false;
  ro.references = o.references;
  const RenderResult r = render_session(g, stems, ro);
  std::vector<double> scores(values.size(), INFINITY);
  // Variants come back in the list's order (ids v0001 ..): by index, not by rank.
  for (size_t i = 0; i < r.variants.size() && i < values.size(); ++i)
    scores[i] = r.variants[i].comparisons.empty() ? INFINITY : r.variants[i].score;
  return scores;
}

// A parameter's search coordinate (CMA-ES runs in [0, 1] per parameter, cmaes.h's
// reflecting transform) and back. A list's value i owns the coordinates [i/k, (i+1)/k).
double coordinate_of(const SearchAxis& a, double v) {
  if (a.values.empty()) return from_bounds(v, a.min, a.max);
  size_t at = 0;
  for (size_t i = 1; i < a.values.size(); ++i)
    if (std::abs(a.values[i] - v) < std::abs(a.values[at] - v)) at = i;
  return ((double)at + 0.5) / (double)a.values.size();
}

double value_of(const SearchAxis& a, double y) {
  if (a.values.empty()) return to_bounds(y, a.min, a.max);
  const size_t k = a.values.size();
  return a.values[std::min(k - 1, (size_t)(to_bounds(y, 0.0, 1.0) * (double)k))];
}

}  // namespace

std::vector<double> search_start(const Session& s) {
  std::vector<double> out;
  for (const SearchAxis& a : s.search) {
    const Node& n = s.nodes[a.target.node];
    double v = 0;
    switch (a.target.what) {
      case SweepTarget::What::kGain:
        v = n.gain_db;
        break;
      case SweepTarget::What::kPan:
        v = n.pan;
        break;
      case SweepTarget::What::kFader:
        v = n.fader_db;
        break;
      case SweepTarget::What::kProcessor: {
        const Processor* p = target_processor(s, a.target);
        const Processor& owner = s.nodes[a.target.node].chain[a.target.processor];
        const ProcessorSpec* spec = find_processor_spec(owner.type);
        if (a.target.band >= 0 && spec && spec->band_type)
          spec = find_processor_spec(spec->band_type);
        const KeySpec* k = spec ? find_key(*spec, a.target.key) : nullptr;
        v = p->number(a.target.key, k && k->has_default ? k->default_number : a.min);
        break;
      }
    }
    // Inside the bounds; a list's nearest value.
    out.push_back(value_of(a, coordinate_of(a, std::clamp(v, a.min, a.max))));
  }
  return out;
}

Session with_values(const Session& s, const std::vector<double>& values) {
  Session out = s;
  for (size_t a = 0; a < s.search.size(); ++a) {
    Node& n = out.nodes[s.search[a].target.node];
    set_target_value(s.search[a].target, values[a], n.gain_db, n.pan, n.fader_db, n.chain);
  }
  sync_console_channels(out);  // a searched console's inputs follow it
  out.variants = Variants{};
  out.search.clear();
  return out;
}

Session with_candidates(const Session& s, const std::vector<std::vector<double>>& candidates) {
  Session g = s;
  g.variants = Variants{};
  g.variants.mode = "list";
  for (size_t a = 0; a < s.search.size(); ++a) {
    SweepAxis axis;
    axis.path = s.search[a].path;
    axis.line = s.search[a].line;
    axis.target = s.search[a].target;
    for (const auto& v : candidates) axis.values.push_back(v[a]);
    g.variants.sweep.push_back(std::move(axis));
  }
  g.search.clear();
  return g;
}

MatchResult match_session(const Session& s, const MatchOptions& o) {
  if (s.search.empty())
    throw InputError(s.file.string() +
                     ": [search]: missing (name the parameters to search and "
                     "their bounds, docs/session-format.md)");
  if (s.references.empty() && o.references.empty())
    throw InputError(s.file.string() + ": match needs a reference ([[reference]] or --reference)");
  const size_t n = s.search.size();
  MatchResult res;
  const std::vector<StemSource> song = stems_from_files(s);
  res.excerpt = choose_excerpt(song, s.sample_rate, o.seconds);
  std::unique_ptr<ExcerptStems> cut;
  if (!res.excerpt.whole()) cut = std::make_unique<ExcerptStems>(song, res.excerpt);
  const std::vector<StemSource>& stems = cut ? cut->sources() : song;
  res.start_values = search_start(s);
  res.start_score = scores_of(s, stems, {res.start_values}, o)[0];
  res.evaluations = 1;
  res.values = res.start_values;
  res.score = res.start_score;
  // Every candidate evaluated, for the confirmation.
  std::vector<std::pair<double, std::vector<double>>> seen = {{res.start_score, res.start_values}};
  // The search runs on coordinates in [0, 1] per parameter (to_bounds reflects the rest),
  // from the session's own settings, with a step of a fifth of each range.
  CmaesOptions co;
  for (size_t a = 0; a < n; ++a)
    co.start.push_back(coordinate_of(s.search[a], res.start_values[a]));
  co.sigma0 = 0.2;
  co.seed = o.seed;
  const int base = 4 + (int)std::floor(3.0 * std::log((double)n));
  co.population = o.population > 0 ? o.population : std::max(16, base);
  Cmaes es(co);
  int stale = 0;
  while (res.evaluations + es.population() <= o.budget && stale < o.patience) {
    const auto ys = es.ask();
    std::vector<std::vector<double>> xs;
    for (const auto& y : ys) {
      std::vector<double> x(n);
      for (size_t a = 0; a < n; ++a) x[a] = value_of(s.search[a], y[a]);
      xs.push_back(x);
    }
    const std::vector<double> scores = scores_of(s, stems, xs, o);
    es.tell(scores);
    res.evaluations += (long long)xs.size();
    for (size_t i = 0; i < xs.size(); ++i) seen.push_back({scores[i], xs[i]});
    MatchGeneration g;
    g.generation = es.generation();
    g.evaluations = res.evaluations;
    g.generation_best = *std::min_element(scores.begin(), scores.end());
    const size_t at = std::min_element(scores.begin(), scores.end()) - scores.begin();
    if (scores[at] < res.score - 1e-4) {
      res.score = scores[at];
      res.values = xs[at];
      stale = 0;
    } else {
      ++stale;
    }
    g.best_score = res.score;
    g.best_values = res.values;
    res.history.push_back(g);
    if (o.progress) o.progress(g.generation, res.evaluations, res.score);
  }
  // Confirmation: the best few on the excerpt (distinct), and the start, rendered whole in
  // one launch; the answer is the best of them on the song, so never worse than the start.
  // Searched whole, the finalists' scores are already the song's.
  std::stable_sort(seen.begin(), seen.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::vector<double>> finalists;
  std::vector<double> excerpt_scores;
  auto add = [&](double score, const std::vector<double>& values) {
    if (std::find(finalists.begin(), finalists.end(), values) != finalists.end()) return;
    finalists.push_back(values);
    excerpt_scores.push_back(score);
  };
  for (const auto& [score, values] : seen)
    if ((int)finalists.size() < std::max(1, o.confirm)) add(score, values);
  for (const auto& [score, values] : seen)
    if (values == res.start_values) add(score, values);
  const std::vector<double> song_scores =
      res.excerpt.whole() ? excerpt_scores : scores_of(s, song, finalists, o);
  for (size_t i = 0; i < finalists.size(); ++i)
    res.confirmed.push_back({finalists[i], excerpt_scores[i], song_scores[i]});
  for (size_t i = 0; i < finalists.size(); ++i)
    if (finalists[i] == res.start_values) res.start_score = song_scores[i];
  const size_t best =
      std::min_element(song_scores.begin(), song_scores.end()) - song_scores.begin();
  res.values = finalists[best];
  res.score = song_scores[best];
  return res;
}

std::string matched_toml(const Session& s, const std::vector<double>& values,
                         const fs::path& out_dir) {
  toml::table root;
  try {
    root = toml::parse_file(s.file.string());
  } catch (const toml::parse_error& e) {
    throw InputError(s.file.string() + ": " + std::string(e.description()));
  }
  auto node_table = [&](const Node& n) -> toml::table* {
    if (n.kind == NodeKind::kMaster) {
      if (!root.contains("master")) root.insert("master", toml::table{});
      return root["master"].as_table();
    }
    auto* a = root[n.kind == NodeKind::kTrack ? "track" : "bus"].as_array();
    for (auto& e : *a)
      if (auto* t = e.as_table(); t && (*t)["name"].value<std::string>() == n.name) return t;
    return nullptr;
  };
  if (s.search_eq_at >= 0) {  // match = "spectral": its EQ, where the parser put it
    toml::table* master = node_table(s.master());
    if (!master->contains("chain")) master->insert("chain", toml::array{});
    toml::array* chain = (*master)["chain"].as_array();
    const toml::table doc = toml::parse(std::string("eq = ") + spectral_match_eq_toml());
    chain->insert(chain->begin() + s.search_eq_at, *doc.get("eq")->as_table());
  }
  for (size_t i = 0; i < s.search.size(); ++i) {
    const SweepTarget& t = s.search[i].target;
    toml::table* nt = node_table(s.nodes[t.node]);
    if (!nt) continue;
    toml::table* at = nt;
    if (t.what == SweepTarget::What::kProcessor) {
      at = (*nt)["chain"].as_array()->get(t.processor)->as_table();
      if (t.band >= 0) at = (*at)["bands"].as_array()->get(t.band)->as_table();
    }
    at->insert_or_assign(t.key, std::round(values[i] * 1000.0) / 1000.0);
  }
  root.erase("search");
  root.erase("variants");
  // Stems and references where the file will live.
  auto relative = [&](toml::table& t) {
    if (auto f = t["file"].value<std::string>()) {
      fs::path p = fs::path(*f).is_absolute() ? fs::path(*f) : s.file.parent_path() / *f;
      std::error_code ec;
      fs::path r = fs::relative(fs::absolute(p), fs::absolute(out_dir), ec);
      t.insert_or_assign("file", (ec || r.empty() ? fs::absolute(p) : r).generic_string());
    }
  };
  for (const char* k : {"track", "reference"})
    if (auto* a = root[k].as_array())
      for (auto& e : *a)
        if (auto* t = e.as_table()) relative(*t);
  std::ostringstream os;
  os << "# Made by `topdown match` from " << s.file.filename().string()
     << ": the [search] parameters set to the values found (comments are not kept).\n\n"
     << root << "\n";
  return os.str();
}

}  // namespace td
