#include "session/session.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
// Newlines and trailing commas inside inline tables (TOML 1.1), so that chains can be
// written over several lines (docs/session-format.md).
#define TOML_ENABLE_UNRELEASED_FEATURES 1
#include <toml++/toml.h>

#include "processors/processor.h"
#include "session/schema.h"

namespace td {

double Processor::number(const std::string& key, double fallback) const {
  auto it = values.find(key);
  return it != values.end() && it->second.kind == ProcessorValue::Kind::kNumber ? it->second.number
                                                                                : fallback;
}

std::string Processor::text(const std::string& key, const std::string& fallback) const {
  auto it = values.find(key);
  return it != values.end() && it->second.kind == ProcessorValue::Kind::kString ? it->second.text
                                                                                : fallback;
}

int Session::find(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name) return (int)i;
  return -1;
}

bool processor_implemented(const std::string& type) {
  const ProcessorSpec* spec = find_processor_spec(type);
  return spec && spec->implemented;
}

std::vector<std::vector<int>> node_dependencies(const Session& s) {
  std::vector<std::vector<int>> deps(s.nodes.size());
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    if (s.nodes[i].kind != NodeKind::kMaster) deps[s.find(s.nodes[i].output)].push_back((int)i);
    for (const auto& p : s.nodes[i].chain) {
      auto sc = p.values.find("sidechain");
      if (sc != p.values.end()) deps[i].push_back(s.find(sc->second.text));
    }
  }
  return deps;
}

namespace {

std::string fmt_num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::vector<std::string> split(const char* choices) {  // "a|b" -> {a, b}
  std::vector<std::string> out;
  std::stringstream ss(choices);
  std::string c;
  while (std::getline(ss, c, '|')) out.push_back(c);
  return out;
}

// Collects the context every message needs: which file, which line, which key.
struct Parser {
  std::filesystem::path file;
  std::string shown;  // the file name as the user gave it

  [[noreturn]] void fail(const toml::node* where, const std::string& key,
                         const std::string& what) const {
    std::ostringstream os;
    os << shown;
    if (where && where->source().begin.line) os << ":" << where->source().begin.line;
    os << ": " << key << ": " << what;
    throw InputError(os.str());
  }

  static int line_of(const toml::node& n) { return (int)n.source().begin.line; }

  void only_keys(const toml::table& t, const std::string& where,
                 const std::vector<std::string>& allowed) const {
    for (const auto& [k, v] : t) {
      const std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(&v, where + "." + key, "unknown key (allowed here: " + list + ")");
      }
    }
  }

  std::optional<double> number(const toml::table& t, const std::string& key,
                               const std::string& where, double lo, double hi) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    std::optional<double> v;
    if (auto i = n->as_integer())
      v = (double)i->get();
    else if (auto f = n->as_floating_point())
      v = f->get();
    else
      fail(n, where + "." + key,
           "must be a number (allowed: " + fmt_num(lo) + " .. " + fmt_num(hi) + ")");
    if (std::isnan(*v) || *v < lo || *v > hi)
      fail(n, where + "." + key,
           fmt_num(*v) + " is out of range (allowed: " + fmt_num(lo) + " .. " + fmt_num(hi) + ")");
    return v;
  }

  // A number of a schema table (node, [session], [delivery]): its range and its discrete
  // values checked; absent: the schema's default.
  std::optional<double> number(const toml::table& t, const KeySpec& k,
                               const std::string& where) const {
    std::optional<double> v = number(t, k.key, where, k.min, k.max);
    if (v && *k.choices) {
      bool ok = false;
      for (const auto& c : split(k.choices)) ok |= std::stod(c) == *v;
      if (!ok)
        fail(t.get(k.key), where + "." + k.key,
             fmt_num(*v) + " is not allowed (allowed: " + describe_allowed(k) + ")");
    }
    return v;
  }
  double number_or_default(const toml::table& t, const ProcessorSpec& spec, const char* key,
                           const std::string& where) const {
    const KeySpec& k = spec_key(spec, key);
    return number(t, k, where).value_or(k.default_number);
  }
  bool boolean_or_default(const toml::table& t, const ProcessorSpec& spec, const char* key,
                          const std::string& where) const {
    return boolean(t, key, where).value_or(spec_key(spec, key).default_number != 0);
  }

  std::optional<std::string> string(const toml::table& t, const std::string& key,
                                    const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (auto s = n->as_string()) return s->get();
    fail(n, where + "." + key, "must be a string");
  }

  std::optional<bool> boolean(const toml::table& t, const std::string& key,
                              const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (auto b = n->as_boolean()) return b->get();
    fail(n, where + "." + key, "must be true or false");
  }

  std::string choice(const toml::table& t, const std::string& key, const std::string& where,
                     const std::vector<std::string>& choices, const std::string& fallback) const {
    auto s = string(t, key, where);
    if (!s) return fallback;
    if (std::find(choices.begin(), choices.end(), *s) == choices.end()) {
      std::string list;
      for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
      fail(t.get(key), where + "." + key,
           "\"" + *s + "\" is not allowed (allowed: one of " + list + ")");
    }
    return *s;
  }

  const toml::table& table(const toml::node& n, const std::string& where) const {
    if (auto t = n.as_table()) return *t;
    fail(&n, where, "must be a table");
  }

  const toml::array& array(const toml::node& n, const std::string& where) const {
    if (auto a = n.as_array()) return *a;
    fail(&n, where, "must be an array");
  }

  // A value of a processor key checked against its spec.
  ProcessorValue processor_value(const toml::node& n, const KeySpec& spec,
                                 const std::string& where) const {
    ProcessorValue v;
    v.line = line_of(n);
    using K = KeySpec::Kind;
    auto check_number = [&](const toml::node& item, const std::string& w) {
      double x;
      if (auto i = item.as_integer())
        x = (double)i->get();
      else if (auto f = item.as_floating_point())
        x = f->get();
      else
        fail(&item, w, "must be a number (allowed: " + describe_allowed(spec) + ")");
      bool ok = !std::isnan(x) && x >= spec.min && x <= spec.max;
      if (ok && *spec.choices) {
        ok = false;
        std::stringstream ss(spec.choices);
        std::string c;
        while (std::getline(ss, c, '|'))
          if (std::stod(c) == x) ok = true;
      }
      if (!ok)
        fail(&item, w, fmt_num(x) + " is out of range (allowed: " + describe_allowed(spec) + ")");
      return x;
    };
    switch (spec.kind) {
      case K::kNumber:
        v.kind = ProcessorValue::Kind::kNumber;
        v.number = check_number(n, where);
        break;
      case K::kNumberList: {
        v.kind = ProcessorValue::Kind::kNumberList;
        const auto& a = array(n, where);
        for (size_t i = 0; i < a.size(); ++i)
          v.list.push_back(check_number(*a.get(i), where + "[" + std::to_string(i) + "]"));
        break;
      }
      case K::kString: {
        v.kind = ProcessorValue::Kind::kString;
        auto s = n.as_string();
        if (!s) fail(&n, where, "must be a string (allowed: " + describe_allowed(spec) + ")");
        v.text = s->get();
        bool ok = false;
        std::stringstream ss(spec.choices);
        std::string c;
        while (std::getline(ss, c, '|'))
          if (c == v.text) ok = true;
        if (!ok)
          fail(&n, where,
               "\"" + v.text + "\" is not allowed (allowed: " + describe_allowed(spec) + ")");
        break;
      }
      case K::kNode: {
        v.kind = ProcessorValue::Kind::kString;
        auto s = n.as_string();
        if (!s) fail(&n, where, "must be a string naming a track or bus");
        v.text = s->get();
        break;
      }
      case K::kBool: {
        v.kind = ProcessorValue::Kind::kBool;
        auto b = n.as_boolean();
        if (!b) fail(&n, where, "must be true or false");
        v.flag = b->get();
        break;
      }
    }
    return v;
  }

  static std::string eq_band_keys(const std::string& type) {
    std::string list;
    for (const auto& k : find_processor_spec("eq-band")->keys) {
      KeySpec typed = k;
      if (std::string(k.key) != "type" && eq_band_key_for_type(type, typed))
        list += (list.empty() ? "" : ", ") + std::string(k.key);
    }
    return "its keys: " + list + ", id, enabled";
  }

  Processor processor(const toml::node& n, const std::string& spec_name, const std::string& where,
                      const std::string& default_id) const {
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
        for (const auto& s : spec->keys) list += std::string(", ") + s.key;
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
        fail(&n, where + ".freq",
             "missing: every EQ band needs a frequency (allowed: 10 .. 24000)");
      if (p.values.count("q") && p.values.count("slope"))
        fail(t.get("slope"), where + ".slope",
             "a shelf takes either q or slope, not both (slope is RBJ's S, 0.1 .. 1)");
    }
    return p;
  }

  std::vector<Processor> chain(const toml::table& t, const std::string& where) const {
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

  std::vector<Automation> automation(const toml::table& t, const std::string& where) const {
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

  void name(const toml::table& t, Node& node, const std::string& where) const {
    auto s = string(t, "name", where);
    if (!s) fail(&t, where + ".name", "missing: every track and bus needs a name");
    if (s->empty() ||
        s->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos)
      fail(t.get("name"), where + ".name",
           "\"" + *s +
               "\" is not allowed (letters, digits, '_' and '-' only, so that sweep paths stay "
               "unambiguous)");
    if (*s == "master")
      fail(t.get("name"), where + ".name", "\"master\" is reserved for the mix bus");
    node.name = *s;
  }

  void common(const toml::table& t, Node& node, const std::string& where, bool mono_capable) const {
    const ProcessorSpec& ns = node_spec();
    node.gain_db = number_or_default(t, ns, "gain_db", where);
    node.pan = number_or_default(t, ns, "pan", where);
    node.fader_db = number_or_default(t, ns, "fader_db", where);
    if (mono_capable) node.pan_law_db = number(t, spec_key(ns, "pan_law_db"), where);
    node.chain = chain(t, where);
    node.automation = automation(t, where);
  }

  Session parse(const toml::table& root) {
    Session s;
    s.file = file;
    only_keys(
        root, "(top level)",
        {"session", "delivery", "master", "bus", "track", "variants", "reference", "ranking"});

    if (const toml::node* n = root.get("session")) {
      const auto& t = table(*n, "[session]");
      only_keys(t, "[session]",
                {"sample_rate", "headroom_dbfs", "pan_law_db", "tail_s", "auto_gain_stage",
                 "vu_reference_dbfs"});
      const ProcessorSpec& ss = session_spec();
      const std::string w = "[session]";
      s.sample_rate = (int)number_or_default(t, ss, "sample_rate", w);
      if (t.get("sample_rate") && !t.get("sample_rate")->is_integer())
        fail(t.get("sample_rate"), "[session].sample_rate",
             "must be a whole number of Hz (allowed: " +
                 describe_allowed(spec_key(ss, "sample_rate")) + ")");
      s.headroom_dbfs = number_or_default(t, ss, "headroom_dbfs", w);
      s.pan_law_db = number_or_default(t, ss, "pan_law_db", w);
      s.tail_s = number_or_default(t, ss, "tail_s", w);
      s.auto_gain_stage = boolean_or_default(t, ss, "auto_gain_stage", w);
      s.vu_reference_dbfs = number_or_default(t, ss, "vu_reference_dbfs", w);
    }

    if (const toml::node* n = root.get("delivery")) {
      const auto& t = table(*n, "[delivery]");
      only_keys(t, "[delivery]",
                {"format", "bit_depth", "target_lufs", "ceiling_dbtp", "dither_seed"});
      const ProcessorSpec& ds = delivery_spec();
      const std::string w = "[delivery]";
      const KeySpec& format = spec_key(ds, "format");
      s.delivery.format = choice(t, "format", w, split(format.choices), format.default_text);
      s.delivery.bit_depth = (int)number_or_default(t, ds, "bit_depth", w);
      if (s.delivery.format == "flac" && s.delivery.bit_depth == 32)
        fail(t.get("bit_depth"), "[delivery].bit_depth",
             "32-bit float is not possible in FLAC (allowed with flac: 16, 24)");
      s.delivery.target_lufs = number(t, spec_key(ds, "target_lufs"), w);
      s.delivery.ceiling_dbtp = number_or_default(t, ds, "ceiling_dbtp", w);
      s.delivery.dither_seed = (uint64_t)number_or_default(t, ds, "dither_seed", w);
    }

    if (const toml::node* n = root.get("track")) {
      const auto& a = array(*n, "[[track]]");
      for (size_t i = 0; i < a.size(); ++i) {
        const std::string w0 = "[[track]] #" + std::to_string(i + 1);
        const auto& t = table(*a.get(i), w0);
        Node node;
        node.kind = NodeKind::kTrack;
        node.line = line_of(*a.get(i));
        name(t, node, w0);
        const std::string w = "track \"" + node.name + "\"";
        only_keys(t, w,
                  {"name", "file", "bus", "gain_db", "pan", "pan_law_db", "fader_db", "mute",
                   "solo", "chain", "automation"});
        auto f = string(t, "file", w);
        if (!f || f->empty())
          fail(a.get(i), w + ".file", "missing: the stem's path, relative to the session file");
        node.file = std::filesystem::path(*f).is_absolute() ? std::filesystem::path(*f)
                                                            : file.parent_path() / *f;
        node.output = string(t, "bus", w).value_or("master");
        node.mute = boolean_or_default(t, node_spec(), "mute", w);
        node.solo = boolean_or_default(t, node_spec(), "solo", w);
        common(t, node, w, true);
        s.nodes.push_back(std::move(node));
      }
    }
    if (const toml::node* n = root.get("bus")) {
      const auto& a = array(*n, "[[bus]]");
      for (size_t i = 0; i < a.size(); ++i) {
        const std::string w0 = "[[bus]] #" + std::to_string(i + 1);
        const auto& t = table(*a.get(i), w0);
        Node node;
        node.kind = NodeKind::kBus;
        node.line = line_of(*a.get(i));
        name(t, node, w0);
        const std::string w = "bus \"" + node.name + "\"";
        only_keys(t, w,
                  {"name", "output", "gain_db", "pan", "fader_db", "mute", "solo", "chain",
                   "automation"});
        node.output = string(t, "output", w).value_or("master");
        node.mute = boolean_or_default(t, node_spec(), "mute", w);
        node.solo = boolean_or_default(t, node_spec(), "solo", w);
        common(t, node, w, false);
        s.nodes.push_back(std::move(node));
      }
    }
    {
      Node m;
      m.kind = NodeKind::kMaster;
      m.name = "master";
      if (const toml::node* n = root.get("master")) {
        const auto& t = table(*n, "[master]");
        m.line = line_of(*n);
        only_keys(t, "[master]", {"chain", "gain_db", "pan", "fader_db", "automation"});
        common(t, m, "[master]", false);
      }
      s.nodes.push_back(std::move(m));
    }

    // Names, routing, sidechains, cycles.
    std::map<std::string, int> seen;
    for (size_t i = 0; i + 1 < s.nodes.size(); ++i) {
      auto [it, fresh] = seen.emplace(s.nodes[i].name, (int)i);
      if (!fresh)
        fail_line(
            s.nodes[i].line,
            (s.nodes[i].kind == NodeKind::kTrack ? "track" : "bus") + std::string(" \"") +
                s.nodes[i].name + "\".name",
            "duplicate name (first used on line " + std::to_string(s.nodes[it->second].line) + ")");
    }
    std::string bus_list = "master";
    for (const auto& n : s.nodes)
      if (n.kind == NodeKind::kBus) bus_list += ", " + n.name;
    for (const auto& n : s.nodes) {
      if (n.kind == NodeKind::kMaster) continue;
      const std::string key = n.kind == NodeKind::kTrack ? "bus" : "output";
      const int target = s.find(n.output);
      if (target < 0 || s.nodes[target].kind == NodeKind::kTrack)
        fail_line(n.line, kind_name(n) + " \"" + n.name + "\"." + key,
                  "\"" + n.output + "\" is not a bus (allowed: " + bus_list + ")");
      if (target == s.find(n.name))
        fail_line(n.line, kind_name(n) + " \"" + n.name + "\".output", "a bus cannot feed itself");
    }
    for (const auto& n : s.nodes)
      for (const auto& p : n.chain) {
        auto sc = p.values.find("sidechain");
        if (sc == p.values.end()) continue;
        const int src = s.find(sc->second.text);
        if (src < 0 || s.nodes[src].kind == NodeKind::kMaster)
          fail_line(sc->second.line, node_label(n) + ".chain." + p.id + ".sidechain",
                    "\"" + sc->second.text + "\" is not a track or bus of this session");
        if (src == s.find(n.name))
          fail_line(sc->second.line, node_label(n) + ".chain." + p.id + ".sidechain",
                    "a node cannot key itself");
      }
    check_cycles(s);
    if (const toml::node* n = root.get("variants")) variants(table(*n, "[variants]"), s);
    if (const toml::node* n = root.get("ranking")) {
      const auto& t = table(*n, "[ranking]");
      only_keys(t, "[ranking]", {"spectral", "dynamics", "stereo", "width", "translation"});
      ScoreWeights& w = s.ranking;
      w.spectral = number(t, "spectral", "[ranking]", 0, 100).value_or(w.spectral);
      w.dynamics = number(t, "dynamics", "[ranking]", 0, 100).value_or(w.dynamics);
      w.stereo = number(t, "stereo", "[ranking]", 0, 100).value_or(w.stereo);
      w.width = number(t, "width", "[ranking]", 0, 100).value_or(w.width);
      w.translation = number(t, "translation", "[ranking]", 0, 100).value_or(w.translation);
    }
    if (const toml::node* n = root.get("reference")) {
      const auto& a = array(*n, "[[reference]]");
      for (size_t i = 0; i < a.size(); ++i) {
        const std::string w = "[[reference]] #" + std::to_string(i + 1);
        const auto& t = table(*a.get(i), w);
        only_keys(t, w, {"file", "weight"});
        Reference r;
        r.line = line_of(*a.get(i));
        auto f = string(t, "file", w);
        if (!f || f->empty()) fail(a.get(i), w + ".file", "missing: the reference's path");
        r.file = std::filesystem::path(*f).is_absolute() ? std::filesystem::path(*f)
                                                         : file.parent_path() / *f;
        r.weight = number(t, "weight", w, 0, 100).value_or(1.0);
        s.references.push_back(r);
      }
    }
    return s;
  }

  static std::string kind_name(const Node& n) {
    return n.kind == NodeKind::kTrack ? "track" : n.kind == NodeKind::kBus ? "bus" : "master";
  }
  static std::string node_label(const Node& n) {
    return n.kind == NodeKind::kMaster ? "[master]" : kind_name(n) + " \"" + n.name + "\"";
  }

  [[noreturn]] void fail_line(int line, const std::string& key, const std::string& what) const {
    std::ostringstream os;
    os << shown;
    if (line) os << ":" << line;
    os << ": " << key << ": " << what;
    throw InputError(os.str());
  }

  // A node depends on its inputs (routing) and on the sources of its sidechains.
  void check_cycles(const Session& s) const {
    const int n = (int)s.nodes.size();
    const std::vector<std::vector<int>> deps = node_dependencies(s);
    std::vector<int> state(n, 0), stack;
    std::function<void(int)> visit = [&](int v) {
      state[v] = 1;
      stack.push_back(v);
      for (int d : deps[v]) {
        if (state[d] == 1) {
          std::string path;
          auto it = std::find(stack.begin(), stack.end(), d);
          for (; it != stack.end(); ++it) path += s.nodes[*it].name + " <- ";
          path += s.nodes[d].name;
          fail_line(
              s.nodes[d].line, node_label(s.nodes[d]),
              "routing cycle (each node waits for the next: " + path +
                  "); buses must form a tree towards the master and sidechains must not loop back");
        }
        if (state[d] == 0) visit(d);
      }
      stack.pop_back();
      state[v] = 2;
    };
    for (int i = 0; i < n; ++i)
      if (state[i] == 0) visit(i);
  }

  void variants(const toml::table& t, Session& s) const {
    only_keys(t, "[variants]", {"mode", "count", "seed", "sweep"});
    s.variants.mode = choice(t, "mode", "[variants]", {"grid", "random"}, "grid");
    if (auto c = number(t, "count", "[variants]", 1, 100000)) s.variants.count = (int)*c;
    s.variants.seed = (uint64_t)number(t, "seed", "[variants]", 0, 4294967295.0).value_or(1);
    if (s.variants.mode == "random" && s.variants.count == 0)
      fail(&t, "[variants].count", "missing: random mode needs a count (allowed: 1 .. 100000)");
    if (s.variants.mode == "grid" && t.get("count"))
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
      const auto& a = array(v, w);
      if (a.empty()) fail(&v, w, "must list at least one value");
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
        axis.values.push_back(x);
      }
      s.variants.sweep.push_back(std::move(axis));
    }
    if (s.variants.sweep.empty())
      fail(sw, "[variants.sweep]", "empty: name at least one parameter");
    size_t total = 1;
    for (const auto& a : s.variants.sweep) {
      total *= a.values.size();
      if (total > 100000 && s.variants.mode == "grid")
        fail(sw, "[variants.sweep]",
             "the grid has more than 100000 variants (use mode = \"random\" with a count)");
    }
  }

  // Resolves a sweep path to the parameter it names (`target`) and that key's range.
  KeySpec sweep_target(const Session& s, const std::string& path, const toml::node& v,
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
        if (k.kind == KeySpec::Kind::kNumber)
          list += (list.empty() ? "" : ", ") + std::string(k.key);
      fail(&v, w,
           "\"" + key + "\" is not a numeric parameter of " + spec->type + " (allowed: " + list +
               ")");
    }
    return *ks;
  }
};

}  // namespace

Session parse_session_text(const std::string& text, const std::filesystem::path& file) {
  Parser p{file, file.filename().string().empty() ? file.string() : file.string()};
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file.string() << ":" << e.source().begin.line
       << ": TOML syntax error: " << e.description();
    throw InputError(os.str());
  }
  return p.parse(root);
}

Session parse_session_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw InputError(file.string() + ": session file not found");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot read the session file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_session_text(buf.str(), file);
}

}  // namespace td
