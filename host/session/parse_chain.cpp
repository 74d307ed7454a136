// Chains (processors and their bands, checked against the schema) and automation.
#include <functional>
#include <map>
#include <set>

#include "processors/processor.h"
#include "session/parser.h"

namespace td::session_parser {

Processor Parser::processor(const toml::node& n, const std::string& spec_name,
                            const std::string& where, const std::string& default_id) const {
  const toml::table& t = table(n, where);
  Processor p;
  p.line = line_of(n);
  const ProcessorSpec* spec = nullptr;
  if (spec_name == "eq-band" || spec_name == "multiband-band") {
    spec = find_processor_spec(spec_name);
    const KeySpec* type_key = find_key(*spec, "type");  // eq bands: their shape
    p.type = type_key ? choice(t, "type", where, split(type_key->choices), "") : "band";
    if (type_key && p.type.empty())
      fail(&n, where + ".type", "missing (allowed: " + describe_allowed(*type_key) + ")");
  } else {
    auto type = string(t, "type", where);
    if (!type) fail(&n, where + ".type", "missing: every chain entry needs a type");
    spec = find_processor_spec(*type);
    if (!spec || std::string(*type).find('-') != std::string::npos) {
      std::string list;
      for (const auto& s : processor_specs())
        if (std::string(s.type).find('-') == std::string::npos)
          list += (list.empty() ? "" : ", ") + std::string(s.type);
      fail(t.get("type"), where + ".type",
           "unknown processor \"" + *type + "\" (allowed: one of " + list + ")");
    }
    p.type = *type;
  }
  p.id = string(t, "id", where).value_or(default_id.empty() ? p.type : default_id);
  // Ids become sweep paths, report columns and page labels: restricted like node names.
  if (p.id.empty() ||
      p.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
          std::string::npos)
    fail(t.get("id"), where + ".id",
         "\"" + p.id +
             "\" is not allowed (letters, digits, '_' and '-' only, so that sweep paths stay "
             "unambiguous and reports cannot be made to run it)");
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "type" || key == "id") continue;
    if (key == "enabled") {
      p.values[key] =
          processor_value(v, bool_key("enabled", true, "bypass when false"), where + ".enabled");
      continue;
    }
    if (key == "bands" && spec->band_type) {
      const auto& a = array(v, where + ".bands");
      std::set<std::string> ids;
      for (size_t i = 0; i < a.size(); ++i) {
        const std::string w = where + ".bands[" + std::to_string(i) + "]";
        Processor b = processor(*a.get(i), spec->band_type, w, "band" + std::to_string(i + 1));
        if (!ids.insert(b.id).second)
          fail(a.get(i), w + ".id", "duplicate band id \"" + b.id + "\"");
        p.bands.push_back(std::move(b));
      }
      continue;
    }
    const KeySpec* ks = find_key(*spec, key);
    if (!ks) {
      std::string list = "type, id, enabled";
      if (spec->band_type) list += ", bands";
      for (const auto& s : spec->keys) {  // an eq band lists its own `type` among its keys
        const std::string k = s.key;
        if (k != "type" && k != "id" && k != "enabled") list += ", " + k;
      }
      fail(&v, where + "." + key,
           "unknown key for " + std::string(spec->type) + " (allowed: " + list + ")");
    }
    KeySpec typed = *ks;
    if (spec_name == "eq-band" && !eq_band_key_for_type(p.type, typed))
      fail(&v, where + "." + key,
           "does not apply to a " + p.type + " band (" + eq_band_keys(p.type) + ")");
    p.values[key] = processor_value(v, typed, where + "." + key);
  }
  if (p.type == "multiband") {
    auto x = p.values.find("crossovers_hz");
    if (x == p.values.end())
      fail(&n, where + ".crossovers_hz", "missing: 1 to 4 band edges in Hz, ascending");
    const auto& edges = x->second.list;
    if (edges.empty() || edges.size() > 4)
      fail(t.get("crossovers_hz"), where + ".crossovers_hz",
           "needs 1 to 4 band edges (2 to 5 bands), has " + std::to_string(edges.size()));
    for (size_t i = 1; i < edges.size(); ++i)
      if (edges[i] <= edges[i - 1])
        fail(t.get("crossovers_hz"), where + ".crossovers_hz", "band edges must ascend");
    if (p.bands.size() != edges.size() + 1)
      fail(t.get("bands") ? t.get("bands") : &n, where + ".bands",
           "needs one table per band: " + std::to_string(edges.size() + 1) + " for " +
               std::to_string(edges.size()) + " crossover(s), has " +
               std::to_string(p.bands.size()));
  }
  if (p.type == "deesser" && setting(p, *spec, "low_hz") >= setting(p, *spec, "high_hz"))
    fail(&n, where + ".high_hz", "must be above low_hz (defaults 5000 .. 9000)");
  if (spec_name == "eq-band") {
    if (!p.values.count("freq"))
      fail(&n, where + ".freq", "missing: every EQ band needs a frequency (allowed: 10 .. 24000)");
    if (p.values.count("q") && p.values.count("slope"))
      fail(t.get("slope"), where + ".slope",
           "a shelf takes either q or slope, not both (slope is RBJ's S, 0.1 .. 1)");
  }
  return p;
}

std::vector<Processor> Parser::chain(const toml::table& t, const std::string& where) const {
  std::vector<Processor> out;
  const toml::node* n = t.get("chain");
  if (!n) return out;
  const auto& a = array(*n, where + ".chain");
  std::set<std::string> ids;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string w = where + ".chain[" + std::to_string(i) + "]";
    Processor p = processor(*a.get(i), "", w, "");
    if (!ids.insert(p.id).second)
      fail(a.get(i), w + ".id",
           "duplicate processor id \"" + p.id + "\" in this chain (give each an id)");
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Automation> Parser::automation(const toml::table& t, const std::string& where) const {
  std::vector<Automation> out;
  const toml::node* n = t.get("automation");
  if (!n) return out;
  const auto& a = array(*n, where + ".automation");
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string w = where + ".automation[" + std::to_string(i) + "]";
    const toml::table& at = table(*a.get(i), w);
    only_keys(at, w, {"param", "points"});
    Automation au;
    au.line = line_of(*a.get(i));
    au.param = choice(at, "param", w, {"gain_db", "pan"}, "");
    if (au.param.empty()) fail(a.get(i), w + ".param", "missing (allowed: one of gain_db, pan)");
    for (const auto& prev : out)
      if (prev.param == au.param)
        fail(a.get(i), w + ".param", "\"" + au.param + "\" is automated twice");
    const double lo = au.param == "pan" ? -1.0 : -144.0, hi = au.param == "pan" ? 1.0 : 24.0;
    const toml::node* pts = at.get("points");
    if (!pts) fail(a.get(i), w + ".points", "missing: a list of [time_s, value] pairs");
    const auto& pa = array(*pts, w + ".points");
    if (pa.empty()) fail(pts, w + ".points", "must hold at least one [time_s, value] pair");
    for (size_t j = 0; j < pa.size(); ++j) {
      const std::string pw = w + ".points[" + std::to_string(j) + "]";
      const toml::array* pair = pa.get(j)->as_array();
      if (!pair || pair->size() != 2) fail(pa.get(j), pw, "must be a pair [time_s, value]");
      toml::table tmp;
      tmp.insert("t", *pair->get(0));
      tmp.insert("v", *pair->get(1));
      AutomationPoint p;
      p.time_s = *number(tmp, "t", pw, 0.0, 86400.0);
      p.value = *number(tmp, "v", pw, lo, hi);
      if (!au.points.empty() && p.time_s < au.points.back().time_s)
        fail(pa.get(j), pw,
             "times must not decrease (" + fmt_num(p.time_s) + " s after " +
                 fmt_num(au.points.back().time_s) + " s)");
      au.points.push_back(p);
    }
    out.push_back(std::move(au));
  }
  return out;
}

}  // namespace td::session_parser
