// The session file's tables: [session], [delivery], the nodes, [ranking], references.
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "processors/console.h"
#include "processors/processor.h"
#include "session/parser.h"

namespace td::session_parser {

void Parser::name(const toml::table& t, Node& node, const std::string& where) const {
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

void Parser::common(const toml::table& t, Node& node, const std::string& where,
                    bool mono_capable) const {
  const ProcessorSpec& ns = node_spec();
  node.gain_db = number_or_default(t, ns, "gain_db", where);
  node.pan = number_or_default(t, ns, "pan", where);
  node.fader_db = number_or_default(t, ns, "fader_db", where);
  if (mono_capable) node.pan_law_db = number(t, spec_key(ns, "pan_law_db"), where);
  node.chain = chain(t, where);
  node.automation = automation(t, where);
}

Session Parser::parse(const toml::table& root) {
  Session s;
  s.file = file;
  only_keys(root, "(top level)",
            {"session", "delivery", "metadata", "deliverable", "master", "bus", "track", "variants",
             "search", "reference", "ranking", "align"});

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

  deliverables(root, s);

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
                {"name", "file", "bus", "gain_db", "pan", "pan_law_db", "fader_db", "mute", "solo",
                 "chain", "automation"});
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
      only_keys(
          t, w,
          {"name", "output", "gain_db", "pan", "fader_db", "mute", "solo", "chain", "automation"});
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

  check_routing(s);
  // `pitch` shifts a stem as it is read (processors/pitch.h): only a track's first step.
  for (const Node& n : s.nodes)
    for (size_t i = 0; i < n.chain.size(); ++i)
      if (n.chain[i].type == "pitch" && (n.kind != NodeKind::kTrack || i != 0))
        fail_line(n.chain[i].line,
                  (n.kind == NodeKind::kMaster
                       ? std::string("[master]")
                       : (n.kind == NodeKind::kBus ? "bus \"" : "track \"") + n.name + "\"") +
                      ".chain[" + std::to_string(i) + "]",
                  "pitch runs on a track's stem as it is read: only as the first step of a "
                  "[[track]] chain");
  // `console` is the summing mixer a bus's inputs meet: the first step of a bus's chain.
  for (const Node& n : s.nodes)
    for (size_t i = 0; i < n.chain.size(); ++i)
      if (n.chain[i].type == "console" && (n.kind == NodeKind::kTrack || i != 0))
        fail_line(n.chain[i].line, node_label(n) + ".chain[" + std::to_string(i) + "]",
                  "console models the mixer a bus's inputs are summed in: only as the first "
                  "step of a [[bus]] or [master] chain");
  add_console_channels(s);
  if (const toml::node* n = root.get("variants")) variants(table(*n, "[variants]"), s);
  if (const toml::node* n = root.get("search")) search(table(*n, "[search]"), s);
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
  if (const toml::node* n = root.get("align")) {
    const auto& a = array(*n, "[[align]]");
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string w = "[[align]] #" + std::to_string(i + 1);
      const auto& t = table(*a.get(i), w);
      only_keys(t, w, {"tracks"});
      AlignGroup g;
      g.line = line_of(*a.get(i));
      const toml::node* tr = t.get("tracks");
      if (!tr) fail(a.get(i), w + ".tracks", "missing: the tracks of one source, reference first");
      const auto& names = array(*tr, w + ".tracks");
      for (size_t k = 0; k < names.size(); ++k) {
        const auto name = names.get(k)->value<std::string>();
        const std::string wk = w + ".tracks[" + std::to_string(k) + "]";
        if (!name) fail(names.get(k), wk, "must be a track name");
        const bool known = std::any_of(s.nodes.begin(), s.nodes.end(), [&](const Node& nd) {
          return nd.kind == NodeKind::kTrack && nd.name == *name;
        });
        if (!known) fail(names.get(k), wk, "\"" + *name + "\" is not a track of this session");
        if (std::find(g.tracks.begin(), g.tracks.end(), *name) != g.tracks.end())
          fail(names.get(k), wk, "\"" + *name + "\" is listed twice");
        g.tracks.push_back(*name);
      }
      if (g.tracks.size() < 2) fail(tr, w + ".tracks", "must list at least two tracks");
      s.align.push_back(std::move(g));
    }
  }
  check_frequencies(s);
  return s;
}

void Parser::check_frequencies(const Session& s) const {
  const double nyquist = s.sample_rate / 2.0;
  auto text = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  auto check = [&](double hz, int line, const std::string& key) {
    if (hz < nyquist) return;
    fail_line(line, key,
              text(hz) + " Hz is not below the Nyquist frequency of the session's " +
                  std::to_string(s.sample_rate) + " Hz rate (allowed: below " + text(nyquist) +
                  " Hz; raise [session] sample_rate or lower the frequency)");
  };
  auto check_processor = [&](const Processor& p, const ProcessorSpec& spec,
                             const std::string& label) {
    auto on = p.values.find("enabled");
    const bool enabled = on == p.values.end() || on->second.flag;
    for (const KeySpec& k : spec.keys) {
      if (std::string(k.unit) != "Hz") continue;
      const std::string key = label + "." + k.key;
      auto it = p.values.find(k.key);
      if (it == p.values.end()) {
        if (enabled && k.has_default && k.default_number > 0)
          check(k.default_number, p.line, key + " (its default)");
        continue;
      }
      const int line = it->second.line ? it->second.line : p.line;
      if (it->second.kind == ProcessorValue::Kind::kNumber) check(it->second.number, line, key);
      if (it->second.kind == ProcessorValue::Kind::kNumberList)
        for (double v : it->second.list) check(v, line, key);
    }
  };
  for (const Node& n : s.nodes)
    for (size_t i = 0; i < n.chain.size(); ++i) {
      const Processor& p = n.chain[i];
      const ProcessorSpec* spec = find_processor_spec(p.type);
      if (!spec) continue;
      const std::string label = node_label(n) + ".chain[" + std::to_string(i) + "]";
      check_processor(p, *spec, label);
      if (spec->band_type)
        for (size_t b = 0; b < p.bands.size(); ++b)
          check_processor(p.bands[b], *find_processor_spec(spec->band_type),
                          label + ".bands[" + std::to_string(b) + "]");
    }
  for (const SweepAxis& axis : s.variants.sweep) {
    const SweepTarget& t = axis.target;
    if (t.what != SweepTarget::What::kProcessor) continue;
    const Processor& p = s.nodes[t.node].chain[t.processor];
    const ProcessorSpec* spec = find_processor_spec(p.type);
    if (spec && t.band >= 0 && spec->band_type) spec = find_processor_spec(spec->band_type);
    const KeySpec* k = spec ? find_key(*spec, t.key) : nullptr;
    if (!k || std::string(k->unit) != "Hz") continue;
    for (double v : axis.values) check(v, axis.line, "[variants.sweep] \"" + axis.path + "\"");
  }
}

}  // namespace td::session_parser
