#include "render/render.h"

#include <algorithm>
#include <future>
#include <memory>

#include "backend/backend.h"
#include "kernels/launch_policy.h"
#include "render/launch.h"

namespace td {

std::vector<StemSource> stems_from_files(const Session& session) {
  std::vector<StemSource> out;
  for (const auto& n : session.nodes) {
    if (n.kind != NodeKind::kTrack) continue;
    StemSource src;
    src.info = probe_stem(n.file, session.sample_rate);
    const int rate = session.sample_rate;
    const StemInfo info = src.info;
    src.open = [info, rate]() { return open_stem(info, rate); };
    out.push_back(std::move(src));
  }
  return out;
}

namespace {

RenderResult render_once(const Session& s, const std::vector<StemSource>& stems,
                         const RenderOptions& opt) {
  SessionWork w;
  w.s = &s;
  w.stems = &stems;
  w.opt = opt;
  prepare(w);
  std::vector<SessionWork*> group = {&w};
  render_launch(group, opt);
  if (!w.error.empty()) throw InputError(w.error);
  return std::move(w.r);
}

}  // namespace

// Auto gain staging ("adjust individual tracks using clip gain so that no bus is above
// -12 dBFS"): render without writing, and for every bus (the master included) whose
// pre-chain peak is above the headroom, lower the clip gain of every track routed into it,
// directly or through other buses, by the excess (plus 0.01 dB), all by the same amount so
// the balance within that bus stays; a track under several hot buses takes the largest
// cut. Repeat until no bus is over (processing can make one pass not enough), at most four
// passes, then render for real with the new clip gains.
RenderResult render_session(const Session& s, const std::vector<StemSource>& stems,
                            const RenderOptions& opt) {
  if (!opt.auto_gain_stage && !s.auto_gain_stage) return render_once(s, stems, opt);
  Session staged = s;
  std::vector<double> change(s.nodes.size(), 0.0);
  const double lowest_gain_db = spec_key(node_spec(), "gain_db").min;
  RenderOptions probe = opt;
  probe.write_audio = false;
  probe.bus_meters = true;  // staging reads every bus's pre-chain peak
  probe.progress = nullptr;
  auto feeds = [&](int track, int bus) {  // is `track` routed into `bus`?
    for (int n = track; s.nodes[n].kind != NodeKind::kMaster;) {
      n = s.find(s.nodes[n].output);
      if (n == bus) return true;
    }
    return false;
  };
  int passes = 0;
  bool settled = false;
  std::vector<std::string> clamped;
  while (passes < 4 && !settled) {
    ++passes;
    if (opt.progress) opt.progress("staging", (double)passes / 4);
    const RenderResult pr = render_once(staged, stems, probe);
    std::vector<double> cut(s.nodes.size(), 0.0);
    settled = true;
    for (const NodeMeters& m : pr.meters) {
      if (!m.exceeds_headroom) continue;
      settled = false;
      const double need = s.headroom_dbfs - m.pre_chain_peak_dbfs - 0.01;
      const int bus = s.find(m.node);
      for (size_t t = 0; t < s.nodes.size(); ++t)
        if (s.nodes[t].kind == NodeKind::kTrack && feeds((int)t, bus))
          cut[t] = std::min(cut[t], need);
    }
    for (size_t t = 0; t < s.nodes.size(); ++t) {
      if (cut[t] == 0.0) continue;
      const double wanted = staged.nodes[t].gain_db + cut[t];
      staged.nodes[t].gain_db = std::max(lowest_gain_db, wanted);
      if (wanted < lowest_gain_db) clamped.push_back(s.nodes[t].name);
      change[t] = staged.nodes[t].gain_db - s.nodes[t].gain_db;
    }
  }
  RenderResult r = render_once(staged, stems, opt);
  r.auto_gain_passes = passes;
  for (size_t t = 0; t < s.nodes.size(); ++t)
    if (s.nodes[t].kind == NodeKind::kTrack)
      r.auto_gain_db.emplace_back(s.nodes[t].name, change[t]);
  for (const NodeMeters& m : r.meters)
    if (m.exceeds_headroom)
      r.warnings.push_back("auto gain staging: bus \"" + m.node +
                           "\" still peaks above the headroom after " + std::to_string(passes) +
                           " passes");
  for (const auto& name : clamped)
    r.warnings.push_back("auto gain staging: track \"" + name +
                         "\" reached the lowest clip gain (" + std::to_string((int)lowest_gain_db) +
                         " dB)");
  return r;
}

std::vector<SessionOutcome> render_sessions(
    const std::vector<SessionJob>& jobs, const std::string& backend, double memory_budget_bytes,
    long long segment_frames, const std::function<void(size_t, const SessionOutcome&)>& on_done) {
  std::vector<SessionOutcome> out(jobs.size());
  std::vector<std::unique_ptr<SessionWork>> works(jobs.size());
  std::string why;
  const bool gpu = backend == "cuda" || (backend == "auto" && cuda_available(&why));
  const long long segment_guess = segment_frames > 0 ? segment_frames
                                  : gpu              ? kGpuSegmentFrames
                                                     : kCpuSegmentFrames;
  std::vector<double> bytes(jobs.size(), 0.0);
  for (size_t i = 0; i < jobs.size(); ++i) {
    RenderOptions o = jobs[i].options;
    o.backend = backend;
    o.segment_frames = segment_frames;
    o.memory_budget_bytes = memory_budget_bytes;
    if (o.auto_gain_stage || jobs[i].session->auto_gain_stage) {  // its own passes
      try {
        out[i].result = render_session(*jobs[i].session, jobs[i].stems, o);
      } catch (const std::exception& e) {
        out[i].error = e.what();
      }
      out[i].launch = -1;
      if (on_done) on_done(i, out[i]);
      continue;
    }
    auto w = std::make_unique<SessionWork>();
    w->s = jobs[i].session;
    w->stems = &jobs[i].stems;
    w->opt = o;
    try {
      prepare(*w);
    } catch (const std::exception& e) {
      out[i].error = e.what();
      if (on_done) on_done(i, out[i]);
      continue;
    }
    const double masters = 2.0 * w->plan.instances[w->s->nodes.size() - 1].size();
    const double metered = (double)w->plan.instance_count();  // an upper bound
    bytes[i] = 4.0 * (w->plan.slot_count * (double)std::min(segment_guess, w->frames) +
                      masters * w->frames) +
               metered * (64.0 * w->frames / meter_hop_frames(w->s->sample_rate) + 4.0 * 65536);
    works[i] = std::move(w);
  }
  // Launches: sessions of one sample rate, in order, while the estimate fits the budget.
  // On the CPU no larger than kCpuLaunchBytes too: every stage is parallel in time, so a
  // bigger launch is not faster there, and the next launch reuses its arenas
  // (backend_cpu.cpp) where fresh memory costs about 5 s per GiB to touch on the machines
  // measured (a batch of 24 four-minute stems: 2.7 GB in one launch, 18-20 s; 0.7 GB in
  // launches of two, 10-11 s).
  const double launch_budget =
      gpu ? memory_budget_bytes : std::min(memory_budget_bytes, kCpuLaunchBytes);
  std::vector<bool> done(jobs.size(), false);
  std::vector<std::vector<size_t>> launches;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!works[i] || done[i]) continue;
    std::vector<size_t> members = {i};
    double total = bytes[i];
    done[i] = true;
    for (size_t j = i + 1; j < jobs.size(); ++j) {
      if (!works[j] || done[j] || works[j]->s->sample_rate != works[i]->s->sample_rate) continue;
      if (total + bytes[j] > launch_budget) continue;
      members.push_back(j);
      total += bytes[j];
      done[j] = true;
    }
    launches.push_back(members);
  }
  auto group_of = [&](size_t l) {
    std::vector<SessionWork*> g;
    for (size_t m : launches[l]) g.push_back(works[m].get());
    return g;
  };
  std::vector<double> launch_bytes(launches.size(), 0.0);
  for (size_t l = 0; l < launches.size(); ++l)
    for (size_t m : launches[l]) launch_bytes[l] += bytes[m];
  // While a launch renders, the next one's stems are opened (files opened and checked) on
  // another thread, and the one before is finished (measured, delivered, written, its
  // sessions reported in order through on_done) on a third: delivery is partly serial
  // (one limiter pass per master, the writing), and the next launch's stages fill the
  // cores beside it. Both launches' arenas are alive meanwhile, so a launch waits for the
  // one before to finish first when the two would not fit in the memory budget together.
  std::future<void> next_open, finishing;
  for (size_t l = 0; l < launches.size(); ++l) {
    std::vector<SessionWork*> group = group_of(l);
    if (next_open.valid()) next_open.get();
    if (finishing.valid() && launch_bytes[l - 1] + launch_bytes[l] > memory_budget_bytes)
      finishing.get();
    if (l + 1 < launches.size())
      next_open = std::async(std::launch::async, [&, l]() {
        std::vector<SessionWork*> next = group_of(l + 1);
        open_readers(next);
      });
    RenderOptions lo = group.front()->opt;
    lo.progress = nullptr;
    auto launch = std::make_shared<RenderedLaunch>();
    try {
      *launch = render_stages(group, lo);
    } catch (const std::exception& e) {  // the launch itself failed: all its sessions fail
      for (SessionWork* w : group)
        if (w->error.empty()) w->error = e.what();
      launch->group.clear();  // nothing to finish
    }
    if (finishing.valid()) finishing.get();  // the sessions are reported in order
    finishing = std::async(std::launch::async, [&, l, launch]() {
      finish_launch(*launch);
      for (size_t m : launches[l]) {
        out[m].error = works[m]->error;
        out[m].result = std::move(works[m]->r);
        out[m].launch = (int)l;
        if (on_done) on_done(m, out[m]);
      }
    });
  }
  if (next_open.valid()) next_open.get();
  if (finishing.valid()) finishing.get();
  return out;
}

}  // namespace td
