// The session parser's shared part: the TOML accessors that give every message its file,
// line and key, and the parser's steps, each defined in its own file (parse_session.cpp:
// the tables; parse_chain.cpp: chains and automation; routing.cpp: names, routing,
// cycles; sweep.cpp: [variants] and sweep paths). Private to host/session.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>
// Newlines and trailing commas inside inline tables (TOML 1.1), so that chains can be
// written over several lines (docs/session-format.md).
#define TOML_ENABLE_UNRELEASED_FEATURES 1
#include <toml++/toml.h>

#include "session/schema.h"
#include "session/session.h"

namespace td::session_parser {

inline std::string fmt_num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

inline std::vector<std::string> split(const char* choices) {  // "a|b" -> {a, b}
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
                      const std::string& default_id) const;

  std::vector<Processor> chain(const toml::table& t, const std::string& where) const;

  std::vector<Automation> automation(const toml::table& t, const std::string& where) const;

  void name(const toml::table& t, Node& node, const std::string& where) const;

  void common(const toml::table& t, Node& node, const std::string& where, bool mono_capable) const;

  Session parse(const toml::table& root);
  // Every frequency (a key in Hz, given, defaulted or swept) below the session's Nyquist
  // frequency.
  void check_frequencies(const Session& s) const;

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

  // Names unique, every output a bus, sidechains naming a track or bus, no cycles.
  void check_routing(const Session& s) const;
  // A node depends on its inputs (routing) and on the sources of its sidechains.
  void check_cycles(const Session& s) const;

  void variants(const toml::table& t, Session& s) const;
  void search(const toml::table& t, Session& s) const;
  // [metadata] and [[deliverable]] (parse_deliverables.cpp); after [session] and [delivery].
  void deliverables(const toml::table& root, Session& s) const;
  void metadata(const toml::table& t, const std::string& where, Metadata& m) const;

  // Resolves a sweep path to the parameter it names (`target`) and that key's range.
  void check_sweepable(const Session& s, const SweepTarget& t, const toml::node& v,
                       const std::string& w) const;
  void spectral_shortcut(const toml::node& at, Session& s) const;
  std::vector<double> value_list(const toml::node& v, const std::string& w,
                                 const KeySpec& spec) const;
  KeySpec sweep_target(const Session& s, const std::string& path, const toml::node& v,
                       const std::string& w, SweepTarget& target) const;
};

}  // namespace td::session_parser
