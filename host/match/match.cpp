#include "match/match.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/input_error.h"
#include "match/cmaes.h"
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

// A value by its sweep target, in the parsed session.
void set_value(Session& s, const SweepTarget& t, double v) {
  Node& n = s.nodes[t.node];
  switch (t.what) {
    case SweepTarget::What::kGain:
      n.gain_db = v;
      return;
    case SweepTarget::What::kPan:
      n.pan = v;
      return;
    case SweepTarget::What::kFader:
      n.fader_db = v;
      return;
    case SweepTarget::What::kProcessor: {
      Processor& p = n.chain[t.processor];
      Processor& q = t.band >= 0 ? p.bands[t.band] : p;
      ProcessorValue& pv = q.values[t.key];
      pv.kind = ProcessorValue::Kind::kNumber;
      pv.number = v;
      return;
    }
  }
}

// The candidates of one generation as one launch: variant i is candidate i.
std::vector<double> scores_of(const Session& s, const std::vector<std::vector<double>>& values,
                              const MatchOptions& o) {
  Session g = s;
  g.variants = Variants{};
  g.variants.mode = "list";
  for (size_t a = 0; a < s.search.size(); ++a) {
    SweepAxis axis;
    axis.path = s.search[a].path;
    axis.line = s.search[a].line;
    axis.target = s.search[a].target;
    for (const auto& v : values) axis.values.push_back(v[a]);
    g.variants.sweep.push_back(std::move(axis));
  }
  RenderOptions ro;
  ro.backend = o.backend;
  ro.write_audio = false;
  ro.references = o.references;
  const RenderResult r = render_session(g, stems_from_files(g), ro);
  std::vector<double> scores(values.size(), INFINITY);
  // Variants come back in the list's order (ids v0001 ..): by index, not by rank.
  for (size_t i = 0; i < r.variants.size() && i < values.size(); ++i)
    scores[i] = r.variants[i].comparisons.empty() ? INFINITY : r.variants[i].score;
  return scores;
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
    out.push_back(std::clamp(v, a.min, a.max));
  }
  return out;
}

Session with_values(const Session& s, const std::vector<double>& values) {
  Session out = s;
  for (size_t a = 0; a < s.search.size(); ++a) set_value(out, s.search[a].target, values[a]);
  out.variants = Variants{};
  out.search.clear();
  return out;
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
  res.start_values = search_start(s);
  res.start_score = scores_of(s, {res.start_values}, o)[0];
  res.evaluations = 1;
  res.values = res.start_values;
  res.score = res.start_score;
  // The search runs on coordinates in [0, 1] per parameter (to_bounds reflects the rest),
  // from the session's own settings, with a step of a fifth of each range.
  CmaesOptions co;
  for (size_t a = 0; a < n; ++a)
    co.start.push_back(from_bounds(res.start_values[a], s.search[a].min, s.search[a].max));
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
      for (size_t a = 0; a < n; ++a) x[a] = to_bounds(y[a], s.search[a].min, s.search[a].max);
      xs.push_back(x);
    }
    const std::vector<double> scores = scores_of(s, xs, o);
    es.tell(scores);
    res.evaluations += (long long)xs.size();
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
