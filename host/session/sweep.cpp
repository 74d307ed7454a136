// [variants]: the sweep axes, each path resolved once to its target and its range.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "processors/processor.h"
#include "session/parser.h"

namespace td {

const char* spectral_match_eq_toml() {
  return "{ type = \"eq\", id = \"match_eq\", bands = [\n"
         "  { id = \"low\", type = \"lowshelf\", freq = 80, gain_db = 0.0 },\n"
         "  { id = \"low_mid\", type = \"bell\", freq = 250, gain_db = 0.0, q = 0.9 },\n"
         "  { id = \"mid\", type = \"bell\", freq = 800, gain_db = 0.0, q = 0.9 },\n"
         "  { id = \"presence\", type = \"bell\", freq = 2500, gain_db = 0.0, q = 0.9 },\n"
         "  { id = \"high\", type = \"bell\", freq = 6000, gain_db = 0.0, q = 0.9 },\n"
         "  { id = \"air\", type = \"highshelf\", freq = 12000, gain_db = 0.0 } ] }";
}

}  // namespace td

namespace td::session_parser {

// Steps whose settings take one value per render: pitch (the stem is shifted once, as it
// is read) and an input's console channel (it follows its bus's console).
void Parser::check_sweepable(const Session& s, const SweepTarget& t, const toml::node& v,
                             const std::string& w) const {
  if (t.what == SweepTarget::What::kProcessor && s.nodes[t.node].chain[t.processor].type == "pitch")
    fail(&v, w,
         "pitch settings cannot be swept or searched (the stem is shifted once, as it is "
         "read; render a session per setting)");
  if (t.what == SweepTarget::What::kProcessor &&
      s.nodes[t.node].chain[t.processor].type == "console-channel")
    fail(&v, w,
         "an input's console channel follows the console of its bus: sweep or search that "
         "console's keys");
}

// The values of a sweep or search list, each checked against the key's range and, for a
// discrete key, its choices.
std::vector<double> Parser::value_list(const toml::node& v, const std::string& w,
                                       const KeySpec& spec) const {
  const auto& a = array(v, w);
  if (a.empty()) fail(&v, w, "must list at least one value");
  std::vector<double> out;
  for (size_t i = 0; i < a.size(); ++i) {
    toml::table tmp;
    tmp.insert("v", *a.get(i));
    const double x = *number(tmp, "v", w + "[" + std::to_string(i) + "]", spec.min, spec.max);
    if (*spec.choices) {  // discrete values (a high-pass slope)
      bool ok = false;
      std::stringstream cs(spec.choices);
      std::string c;
      while (std::getline(cs, c, '|'))
        if (std::stod(c) == x) ok = true;
      if (!ok)
        fail(a.get(i), w + "[" + std::to_string(i) + "]",
             fmt_num(x) + " is out of range (allowed: " + describe_allowed(spec) + ")");
    }
    out.push_back(x);
  }
  return out;
}

void Parser::variants(const toml::table& t, Session& s) const {
  only_keys(t, "[variants]", {"mode", "count", "seed", "sweep"});
  s.variants.mode = choice(t, "mode", "[variants]", {"grid", "random", "list"}, "grid");
  if (auto c = number(t, "count", "[variants]", 1, 100000)) s.variants.count = (int)*c;
  s.variants.seed = (uint64_t)number(t, "seed", "[variants]", 0, 4294967295.0).value_or(1);
  if (s.variants.mode == "random" && s.variants.count == 0)
    fail(&t, "[variants].count", "missing: random mode needs a count (allowed: 1 .. 100000)");
  if (s.variants.mode != "random" && t.get("count"))
    fail(t.get("count"), "[variants].count", "only used with mode = \"random\"");
  const toml::node* sw = t.get("sweep");
  if (!sw) fail(&t, "[variants].sweep", "missing: a table of \"node.param\" = [values]");
  // toml++ iterates keys sorted; the axes keep the order of the file (first axis slowest).
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (const auto& [k, v] : table(*sw, "[variants.sweep]"))
    entries.emplace_back(std::string(k.str()), &v);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto &x = a.second->source().begin, &y = b.second->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  for (const auto& [key, node] : entries) {
    const toml::node& v = *node;
    SweepAxis axis;
    axis.path = key;
    axis.line = line_of(v);
    const std::string w = "[variants.sweep].\"" + axis.path + "\"";
    const KeySpec spec = sweep_target(s, axis.path, v, w, axis.target);
    check_sweepable(s, axis.target, v, w);
    axis.values = value_list(v, w, spec);
    s.variants.sweep.push_back(std::move(axis));
  }
  if (s.variants.sweep.empty()) fail(sw, "[variants.sweep]", "empty: name at least one parameter");
  if (s.variants.mode == "list")
    for (const auto& a : s.variants.sweep)
      if (a.values.size() != s.variants.sweep[0].values.size())
        fail_line(a.line, "[variants.sweep].\"" + a.path + "\"",
                  std::to_string(a.values.size()) +
                      " values (mode = \"list\" takes value i of every "
                      "axis for variant i: allowed: " +
                      std::to_string(s.variants.sweep[0].values.size()) + ", as the first axis)");
  size_t total = 1;
  for (const auto& a : s.variants.sweep) {
    total *= a.values.size();
    if (total > 100000 && s.variants.mode == "grid")
      fail(sw, "[variants.sweep]",
           "the grid has more than 100000 variants (use mode = \"random\" with a count)");
  }
}

// [search] match = "spectral": the shortcut's EQ in the master's chain, before its last
// limiter (the limiter keeps the ceiling), and its band gains as parameters.
void Parser::spectral_shortcut(const toml::node& at, Session& s) const {
  Node& master = s.nodes.back();
  for (const Processor& p : master.chain)
    if (p.id == "match_eq")
      fail(&at, "[search].match",
           "the master's chain already has a processor with id \"match_eq\" (rename it)");
  const toml::table doc = toml::parse(std::string("eq = ") + spectral_match_eq_toml());
  int pos = (int)master.chain.size();
  for (int i = 0; i < (int)master.chain.size(); ++i)
    if (master.chain[i].type == "limiter") pos = i;
  master.chain.insert(master.chain.begin() + pos,
                      processor(*doc.get("eq"), "", "[search].match (its EQ)", ""));
  s.search_eq_at = pos;
  const int m = (int)s.nodes.size() - 1;
  for (SweepAxis& a : s.variants.sweep)  // sweep targets after it moved by one
    if (a.target.node == m && a.target.what == SweepTarget::What::kProcessor &&
        a.target.processor >= pos)
      ++a.target.processor;
  for (SearchAxis& a : s.search)
    if (a.target.node == m && a.target.what == SweepTarget::What::kProcessor &&
        a.target.processor >= pos)
      ++a.target.processor;
  const Processor& eq = master.chain[pos];
  for (int b = 0; b < (int)eq.bands.size(); ++b) {
    SearchAxis axis;
    axis.path = "master.match_eq." + eq.bands[b].id + ".gain_db";
    axis.line = line_of(at);
    axis.target.node = m;
    axis.target.what = SweepTarget::What::kProcessor;
    axis.target.processor = pos;
    axis.target.band = b;
    axis.target.key = "gain_db";
    axis.min = -kSpectralMatchRangeDb, axis.max = kSpectralMatchRangeDb;
    s.search.push_back(axis);
  }
}

// [search]: "path" = { min = .., max = .. }, each path resolved as a sweep path and its bounds
// inside the parameter's range.
void Parser::search(const toml::table& t, Session& s) const {
  std::vector<std::pair<std::string, const toml::node*>> entries;
  for (const auto& [k, v] : t)
    if (k.str() != "match") entries.emplace_back(std::string(k.str()), &v);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto &x = a.second->source().begin, &y = b.second->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  for (const auto& [key, node] : entries) {
    SearchAxis axis;
    axis.path = key;
    axis.line = line_of(*node);
    const std::string w = "[search].\"" + key + "\"";
    const KeySpec spec = sweep_target(s, key, *node, w, axis.target);
    check_sweepable(s, axis.target, *node, w);
    if (node->is_array()) {  // discrete: the values listed
      axis.values = value_list(*node, w, spec);
      std::vector<double> sorted = axis.values;
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
        fail(node, w, "lists a value twice");
      if (axis.values.size() < 2) fail(node, w, "must list at least two values");
      axis.min = sorted.front(), axis.max = sorted.back();
      s.search.push_back(axis);
      continue;
    }
    const auto& b = table(*node, w);
    only_keys(b, w, {"min", "max"});
    const auto lo = number(b, "min", w, spec.min, spec.max);
    const auto hi = number(b, "max", w, spec.min, spec.max);
    if (!lo || !hi) fail(node, w, "needs min and max (allowed: " + describe_allowed(spec) + ")");
    if (!(*lo < *hi)) fail(node, w, "min must be below max");
    if (*spec.choices)
      fail(node, w,
           "takes discrete values: list the ones to search, e.g. [12, 24] (allowed: " +
               describe_allowed(spec) + ")");
    axis.min = *lo, axis.max = *hi;
    s.search.push_back(axis);
  }
  if (t.get("match")) {
    if (choice(t, "match", "[search]", {"spectral"}, "") != "spectral")
      fail(t.get("match"), "[search].match", "empty (allowed: spectral)");
    spectral_shortcut(*t.get("match"), s);
  }
  if (s.search.empty()) fail(&t, "[search]", "empty: name at least one parameter and its bounds");
}

// Resolves a sweep path to the parameter it names (`target`) and that key's range.
KeySpec Parser::sweep_target(const Session& s, const std::string& path, const toml::node& v,
                             const std::string& w, SweepTarget& target) const {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  if (parts.size() < 2 || parts.size() > 4)
    fail(&v, w,
         "not a parameter path (allowed: node.param, node.processor-id.param, "
         "node.eq-id.band-id.param)");
  const int ni = s.find(parts[0]);
  if (ni < 0) fail(&v, w, "no track or bus is called \"" + parts[0] + "\"");
  const Node& node = s.nodes[ni];
  target.node = ni;
  target.key = parts.back();
  if (parts.size() == 2) {
    const std::string& p = parts[1];
    if (p == "gain_db") {
      target.what = SweepTarget::What::kGain;
      return spec_key(node_spec(), "gain_db");
    }
    if (p == "pan") {
      for (const auto& a : node.automation)
        if (a.param == "pan")
          fail(&v, w, "the pan of \"" + node.name + "\" is automated; the automation decides it");
      target.what = SweepTarget::What::kPan;
      return spec_key(node_spec(), "pan");
    }
    if (p == "fader_db") {
      target.what = SweepTarget::What::kFader;
      return spec_key(node_spec(), "fader_db");
    }
    std::string ids;
    for (const auto& pr : node.chain) ids += ", " + pr.id;
    fail(&v, w,
         "\"" + p + "\" is not a parameter or processor of \"" + node.name +
             "\" (allowed: gain_db, pan, fader_db" + ids + ")");
  }
  const Processor* proc = nullptr;
  target.what = SweepTarget::What::kProcessor;
  for (size_t i = 0; i < node.chain.size(); ++i)
    if (node.chain[i].id == parts[1]) proc = &node.chain[i], target.processor = (int)i;
  if (!proc) fail(&v, w, "\"" + node.name + "\" has no processor with id \"" + parts[1] + "\"");
  const ProcessorSpec* spec = find_processor_spec(proc->type);
  if (parts.size() == 4) {
    if (!spec->band_type) fail(&v, w, "processor \"" + proc->id + "\" has no bands");
    const Processor* band = nullptr;
    for (size_t i = 0; i < proc->bands.size(); ++i)
      if (proc->bands[i].id == parts[2]) band = &proc->bands[i], target.band = (int)i;
    if (!band)
      fail(&v, w, "processor \"" + proc->id + "\" has no band with id \"" + parts[2] + "\"");
    spec = find_processor_spec(spec->band_type);
    const KeySpec* ks = find_key(*spec, parts.back());
    KeySpec typed = ks ? *ks : KeySpec{};
    if (ks && ks->kind == KeySpec::Kind::kNumber) {
      if (!eq_band_key_for_type(band->type, typed))
        fail(&v, w,
             "\"" + parts.back() + "\" does not apply to a " + band->type + " band (" +
                 eq_band_keys(band->type) + ")");
      return typed;
    }
  }
  const std::string& key = parts.back();
  const KeySpec* ks = find_key(*spec, key);
  if (!ks || ks->kind != KeySpec::Kind::kNumber) {
    std::string list;
    for (const auto& k : spec->keys)
      if (k.kind == KeySpec::Kind::kNumber) list += (list.empty() ? "" : ", ") + std::string(k.key);
    fail(
        &v, w,
        "\"" + key + "\" is not a numeric parameter of " + spec->type + " (allowed: " + list + ")");
  }
  return *ks;
}

}  // namespace td::session_parser
