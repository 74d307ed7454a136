// prepare(): a session validated and planned before any audio is read.
#include <algorithm>
#include <sstream>

#include "processors/console.h"
#include "render/launch.h"

namespace td {
namespace {

NodeSettings settings_for(const Session& s, const Plan& p, int node, const NodeInstance& inst) {
  const Node& n = s.nodes[node];
  NodeSettings st{n.gain_db, n.pan, n.fader_db, n.chain};
  for (size_t k = 0; k < p.reaching_axes[node].size(); ++k) {
    const int a = p.reaching_axes[node][k];
    SweepTarget t = s.variants.sweep[a].target;
    // The console of its bus (plan.cpp) goes into its channel step; other axes that reach
    // it from upstream set nothing here.
    if (t.node != node && !console_channel_target(s, node, t)) continue;
    const double v = s.variants.sweep[a].values[inst.choice[k]];
    set_target_value(t, v, st.gain_db, st.pan, st.fader_db, st.chain);
  }
  return st;
}

void reject_unimplemented(const Session& s) {
  for (const auto& n : s.nodes)
    for (size_t i = 0; i < n.chain.size(); ++i) {
      const Processor& p = n.chain[i];
      const ProcessorSpec* spec = find_processor_spec(p.type);
      if (spec && spec->implemented) continue;
      std::ostringstream os;
      os << s.file.string() << ":" << p.line << ": "
         << (n.kind == NodeKind::kMaster ? std::string("[master]") : n.name) << ".chain[" << i
         << "] (type \"" << p.type << "\", id \"" << p.id << "\"): processor not supported yet"
         << " (tracked in issue " << (spec ? spec->issue : "?") << ")";
      throw InputError(os.str());
    }
}

void check_write_variants(const std::string& m) {
  bool ok = m == "all" || m == "none";
  if (m.rfind("top:", 0) == 0) {
    const std::string k = m.substr(4);
    ok = !k.empty() && k.size() < 7 && std::all_of(k.begin(), k.end(), ::isdigit) &&
         std::stoi(k) > 0;
  }
  if (!ok)
    throw InputError("--write-variants: \"" + m + "\" (allowed: all, none, top:K with K >= 1)");
}

// Inputs are never written: refuse an output folder where a delivered file or the report
// would land on a stem, a reference or the session file itself.
void check_outputs(const SessionWork& w) {
  const Session& s = *w.s;
  const RenderOptions& opt = w.opt;
  std::vector<std::filesystem::path> inputs = {s.file};
  for (const auto& st : w.r.stems) inputs.push_back(st.file);
  for (const auto& ref : s.references) inputs.push_back(ref.file);
  auto same = [](const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code e1, e2;
    const auto ca = std::filesystem::weakly_canonical(a, e1),
               cb = std::filesystem::weakly_canonical(b, e2);
    return !e1 && !e2 && ca == cb;
  };
  std::vector<std::filesystem::path> outputs = {
      opt.out_dir / "report.json", opt.out_dir / "report.csv", opt.out_dir / "report.html",
      opt.out_dir / ("master." + s.delivery.format)};
  for (int v = 0; v < w.plan.variant_count() && !s.variants.sweep.empty(); ++v)
    outputs.push_back(
        opt.out_dir / "variants" /
        (variant_id(w.plan.variant_ids[v], w.plan.variant_total) + "." + s.delivery.format));
  for (const auto& out : outputs)
    for (const auto& in : inputs)
      if (same(out, in))
        throw InputError(out.string() + ": this output would overwrite an input (" + in.string() +
                         "); choose another output folder");
}

}  // namespace

void prepare(SessionWork& w) {
  const Session& s = *w.s;
  const RenderOptions& opt = w.opt;
  RenderResult& r = w.r;
  w.t_start = Clock::now();
  reject_unimplemented(s);
  // References must exist and be readable before any rendering.
  for (const auto& ref : s.references) probe_stem(ref.file, s.sample_rate);
  for (const auto& f : opt.references) probe_stem(f, s.sample_rate);
  check_write_variants(opt.write_variants);

  // Stems: channel counts and the session length (longest stem plus the tail).
  w.channels.assign(s.nodes.size(), 2);
  w.stem_of.assign(s.nodes.size(), -1);
  {
    int k = 0;
    for (size_t i = 0; i < s.nodes.size(); ++i)
      if (s.nodes[i].kind == NodeKind::kTrack) {
        w.stem_of[i] = k;
        w.channels[i] = (*w.stems)[k].info.channels;
        w.frames = std::max(w.frames, (*w.stems)[k].info.frames_at_rate);
        r.stems.push_back((*w.stems)[k].info);
        w.tracks.push_back((int)i);
        ++k;
      }
  }
  w.frames += (long long)std::llround(s.tail_s * s.sample_rate);
  if (w.frames == 0)
    throw InputError(s.file.string() +
                     ": the session has no audio (no tracks, or only empty stems)");
  r.sample_rate = s.sample_rate;
  r.frames = w.frames;

  w.plan = make_plan(s, w.channels, !opt.bus_meters,
                     opt.only_variants.empty() ? nullptr : &opt.only_variants);
  if (w.plan.variants.empty())
    throw InputError(s.file.string() + ": none of the requested variants exists (the session has " +
                     std::to_string(w.plan.variant_total) + ")");
  const Plan& plan = w.plan;
  r.slots = plan.slot_count;
  r.total_renders = plan.instance_count();
  r.variant_total = plan.variant_total;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    NodeStats ns;
    ns.name = s.nodes[i].name;
    ns.kind = s.nodes[i].kind == NodeKind::kTrack ? "track"
              : s.nodes[i].kind == NodeKind::kBus ? "bus"
                                                  : "master";
    ns.level = plan.level_of[i];
    for (int a : plan.reaching_axes[i]) ns.reaching_axes.push_back(s.variants.sweep[a].path);
    ns.renders = (int)plan.instances[i].size();
    ns.folded = plan.folded[i];
    r.nodes.push_back(ns);
  }
  align_latencies(w);
  if (opt.write_audio) check_outputs(w);
  w.settings.assign(s.nodes.size(), {});
  for (size_t i = 0; i < s.nodes.size(); ++i)
    for (const auto& inst : plan.instances[i])
      w.settings[i].push_back(settings_for(s, plan, (int)i, inst));
}

}  // namespace td
