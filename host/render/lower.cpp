// Lowering: a prepared session's plan turned into the jobs of every level, with stream,
// meter, keep and stage indices offset into the launch's shared arrays. The mixer's own
// stages (track inputs, sums, faders, meters) are built here; every chain processor adds
// its jobs through its module (processors/).
#include "render/lower.h"

#include <algorithm>
#include <functional>

namespace td {
namespace {

PanLaw pan_law_of(double db) {
  return db == 0.0    ? PanLaw::k0dB
         : db == -4.5 ? PanLaw::k4_5dB
         : db == -6.0 ? PanLaw::k6dB
                      : PanLaw::k3dB;
}

// The product of the chain's enabled constant gains (plan.h: a folded node has no other
// processing).
float chain_gain(const std::vector<Processor>& chain) {
  float g = 1.0f;
  for (const auto& p : chain)
    if (enabled(p))
      if (auto gain = find_processor(p.type)->constant_gain) g *= gain(p);
  return g;
}

bool same_value(const ProcessorValue& a, const ProcessorValue& b) {
  return a.kind == b.kind && a.number == b.number && a.text == b.text && a.flag == b.flag &&
         a.list == b.list;
}

bool same_settings(const Processor& a, const Processor& b) {
  if (a.type != b.type || a.id != b.id || a.values.size() != b.values.size() ||
      a.bands.size() != b.bands.size())
    return false;
  for (auto i = a.values.begin(), j = b.values.begin(); i != a.values.end(); ++i, ++j)
    if (i->first != j->first || !same_value(i->second, j->second)) return false;
  for (size_t k = 0; k < a.bands.size(); ++k)
    if (!same_settings(a.bands[k], b.bands[k])) return false;
  return true;
}

// Chain-prefix sharing: instance k of a node computes nothing before chain position
// `length`, where its stream is set to instance `leader`'s (leader -1: no sharing).
struct PrefixShare {
  int leader = -1;
  size_t length = 0;
};

// A sweep makes one instance per distinct setting of a node's reaching axes, but the
// processors before the first swept one are the same in several of them (an EQ before a
// swept compressor). An instance shares the longest such prefix with an earlier instance
// that computes its whole chain, if both have the same input (the same input instances,
// gain and pan) and the prefix holds a processor that shares (processor.h).
std::vector<PrefixShare> prefix_shares(const SessionWork& w, int node) {
  const std::vector<NodeInstance>& inst = w.plan.instances[node];
  std::vector<PrefixShare> out(inst.size());
  for (size_t k = 1; k < inst.size(); ++k) {
    const NodeSettings& a = w.settings[node][k];
    for (size_t j = 0; j < k; ++j) {
      const NodeSettings& b = w.settings[node][j];
      if (out[j].leader >= 0 || inst[k].inputs != inst[j].inputs ||
          inst[k].input_nodes != inst[j].input_nodes || a.gain_db != b.gain_db || a.pan != b.pan)
        continue;
      size_t p = 0;
      bool useful = false;
      for (; p < a.chain.size() && p < b.chain.size(); ++p) {
        const Processor &x = a.chain[p], &y = b.chain[p];
        if (!enabled(x) && !enabled(y)) continue;
        if (!enabled(x) || !enabled(y) || !find_processor(x.type)->shares_prefix ||
            !same_settings(x, y))
          break;
        useful = true;
      }
      if (useful && p > out[k].length) out[k] = {(int)j, p};
    }
  }
  return out;
}

}  // namespace

FirLaunch& launch_for(ChainStep& step, const FirShape& shape) {
  for (auto& f : step.firs)
    if (f.shape.fft_size == shape.fft_size && f.shape.taps == shape.taps) return f;
  step.firs.push_back({shape, {}});
  return step.firs.back();
}

void Lowering::add_fir(int stream, const FirDesign& d) {
  const long long spectrum = w.fir_spectrum_offset + design_of(w, d);
  launch_for(step, d.shape)
      .jobs.push_back({stream, spectrum, w.fir_state_offset + w.fir_state_floats});
  w.fir_state_floats += fir_state_floats(d.shape.fft_size, d.shape.hop);
}

long long Lowering::add_trace(long long& hops) {
  hops = w.frames / trace_hop_frames(w.s->sample_rate) + 1;
  const long long at = w.trace_offset + w.trace_floats;
  w.trace_floats += hops;
  return at;
}

long long trace_hop_frames(int rate) {
  return std::llround(rate / kTraceHz);
}

void lower(SessionWork& w) {
  const Session& s = *w.s;
  const Plan& plan = w.plan;
  const int so = w.slot_offset;
  // The constant gains a folded node applies to each channel: gain_db with pan or
  // balance, the chain's gain processors, the fader, mute and solo (plan.h: folded nodes
  // have no automation and no other processing).
  auto folded_gains = [&](int node, int k) {
    const Node& n = s.nodes[node];
    const NodeSettings& st = w.settings[node][k];
    TrackInputJob job{};
    job.gain_db = (float)st.gain_db;
    job.pan = (float)st.pan;
    job.pan_law = (int)pan_law_of(n.pan_law_db.value_or(s.pan_law_db));
    job.mute_gain = 1.0f;
    job.stereo_source = n.kind != NodeKind::kTrack || plan.sources[node].size() > 1;
    const StereoGains g = track_input_gains(job, nullptr, 0.0);
    float after = plan.audible[node] ? db_to_gain((float)st.fader_db) : 0.0f;
    after *= chain_gain(st.chain);
    return StereoGains{g.left * after, g.right * after};
  };
  // The terms a node instance adds to the sum of the bus that reads it.
  std::function<void(int, int, float, float, std::vector<SumTerm>&)> add_terms =
      [&](int node, int k, float gl, float gr, std::vector<SumTerm>& out) {
        const NodeInstance& inst = plan.instances[node][k];
        if (!plan.folded[node]) {
          if (gl != 0.0f) out.push_back({so + inst.out[0], gl, 0.0f});
          if (gr != 0.0f) out.push_back({so + inst.out[1], 0.0f, gr});
          return;
        }
        const StereoGains g = folded_gains(node, k);
        if (s.nodes[node].kind == NodeKind::kTrack) {
          const auto& src = plan.sources[node];
          const float l = gl * g.left, rr = gr * g.right;
          if (src.size() == 1) {
            if (l != 0.0f || rr != 0.0f) out.push_back({so + src[0], l, rr});
          } else {
            if (l != 0.0f) out.push_back({so + src[0], l, 0.0f});
            if (rr != 0.0f) out.push_back({so + src[1], 0.0f, rr});
          }
          return;
        }
        for (size_t j = 0; j < inst.inputs.size(); ++j)
          add_terms(inst.input_nodes[j], inst.inputs[j], gl * g.left, gr * g.right, out);
      };

  w.levels.assign(plan.levels.size(), {});
  for (size_t l = 0; l < plan.levels.size(); ++l) {
    LevelJobs& lj = w.levels[l];
    size_t max_chain = 0;
    std::vector<std::vector<PrefixShare>> shares(plan.levels[l].size());
    for (size_t i = 0; i < plan.levels[l].size(); ++i) {
      const int node = plan.levels[l][i];
      if (plan.folded[node]) continue;
      shares[i] = prefix_shares(w, node);
      for (const PrefixShare& sh : shares[i])  // a whole chain shared: copied after it
        max_chain = std::max(max_chain, sh.leader >= 0 ? sh.length + 1 : 0);
    }
    for (int node : plan.levels[l]) {
      if (plan.folded[node]) continue;  // mixed into its reader's sum
      const Node& n = s.nodes[node];
      for (size_t k = 0; k < plan.instances[node].size(); ++k) {
        const NodeInstance& inst = plan.instances[node][k];
        const NodeSettings& st = w.settings[node][k];
        max_chain = std::max(max_chain, st.chain.size());
        TrackInputJob job{};
        if (n.kind == NodeKind::kTrack) {
          const auto& src = plan.sources[node];
          job.src_left = so + src[0];
          job.src_right = so + (src.size() > 1 ? src[1] : src[0]);
          job.stereo_source = src.size() > 1;
        } else {
          SumJob sj{so + inst.out[0], so + inst.out[1], (int)lj.terms.size(), 0};
          for (size_t j = 0; j < inst.inputs.size(); ++j)
            add_terms(inst.input_nodes[j], inst.inputs[j], 1.0f, 1.0f, lj.terms);
          sj.term_count = (int)lj.terms.size() - sj.term_offset;
          lj.sums.push_back(sj);
          job.src_left = so + inst.out[0];
          job.src_right = so + inst.out[1];
          job.stereo_source = 1;
        }
        job.dst_left = so + inst.out[0];
        job.dst_right = so + inst.out[1];
        job.gain_db = (float)st.gain_db;
        job.pan = (float)st.pan;
        job.pan_law = (int)pan_law_of(n.pan_law_db.value_or(s.pan_law_db));
        job.mute_gain = 1.0f;
        for (const auto& au : n.automation) {
          const int offset = (int)lj.points.size();
          // Breakpoints on the node's input stream, which lags the song by in_delay.
          for (const auto& pt : au.points)
            lj.points.push_back(
                {pt.time_s * s.sample_rate + (double)w.in_delay[node], (float)pt.value});
          if (au.param == "gain_db") {
            job.gain_env_offset = offset;
            job.gain_env_count = (int)au.points.size();
          } else {
            job.pan_env_offset = offset;
            job.pan_env_count = (int)au.points.size();
          }
        }
        const bool identity = n.kind != NodeKind::kTrack && job.gain_db == 0.0f &&
                              job.pan == 0.0f && job.gain_env_count == 0 && job.pan_env_count == 0;
        if (!identity) lj.inputs.push_back(job);
        const float fader = plan.audible[node] ? db_to_gain((float)st.fader_db) : 0.0f;
        if (fader != 1.0f)
          for (int c = 0; c < 2; ++c) lj.faders.push_back({so + inst.out[c], fader});
        // Metered: the master, every bus (unless the render asks not to), and tracks with
        // a processor that meters them (the imager: their correlation) when buses are.
        const bool meters_track = std::any_of(
            n.chain.begin(), n.chain.end(),
            [](const Processor& p) { return enabled(p) && find_processor(p.type)->meters_tracks; });
        if (n.kind == NodeKind::kMaster ||
            ((n.kind == NodeKind::kBus || meters_track) && w.opt.bus_meters)) {
          const int index = w.meter_offset + (int)w.metered.size();
          w.metered.push_back({node, (int)k});
          const long long in = w.in_delay[node], out = w.out_delay[node];
          lj.pre_chain_peaks.push_back({so + inst.out[0], index, in, in + w.frames});
          lj.pre_chain_peaks.push_back({so + inst.out[1], index, in, in + w.frames});
          lj.meters.push_back({so + inst.out[0], so + inst.out[1], 2, index, out, out + w.frames});
        }
      }
    }
    // The chains, position by position; one launch per processor type (and FIR shape) at
    // each position.
    int scratch_used = 0;  // band and mid/side streams of this level
    for (size_t pos = 0; pos < max_chain; ++pos) {
      ChainStep step;
      for (size_t i = 0; i < plan.levels[l].size(); ++i) {
        const int node = plan.levels[l][i];
        if (plan.folded[node]) continue;
        for (size_t k = 0; k < plan.instances[node].size(); ++k) {
          const PrefixShare& sh = shares[i][k];
          if (sh.leader >= 0 && pos < sh.length) {  // computed by the leader
            w.r.shared_stages += enabled(w.settings[node][k].chain[pos]);
            continue;
          }
          if (sh.leader >= 0 && pos == sh.length) {
            // 0 + 1 x = x: an exact copy (but for the sign of a zero).
            const NodeInstance &from = plan.instances[node][sh.leader],
                               &to = plan.instances[node][k];
            step.copies.push_back({so + to.out[0], so + to.out[1], (int)step.terms.size(), 2});
            step.terms.push_back({so + from.out[0], 1.0f, 0.0f});
            step.terms.push_back({so + from.out[1], 0.0f, 1.0f});
          }
          const NodeSettings& st = w.settings[node][k];
          if (pos >= st.chain.size() || !enabled(st.chain[pos])) continue;
          const Processor& proc = st.chain[pos];
          Lowering lowering{w, node, (int)k, (int)pos, step, scratch_used};
          find_processor(proc.type)->lower(lowering, proc);
        }
      }
      lj.chain.push_back(std::move(step));
    }
    w.scratch_slots = std::max(w.scratch_slots, scratch_used);
  }
}

void append_level(LevelJobs& a, const LevelJobs& b) {
  const int points = (int)a.points.size(), terms = (int)a.terms.size();
  for (TrackInputJob j : b.inputs) {
    if (j.gain_env_count) j.gain_env_offset += points;
    if (j.pan_env_count) j.pan_env_offset += points;
    a.inputs.push_back(j);
  }
  a.points.insert(a.points.end(), b.points.begin(), b.points.end());
  for (SumJob j : b.sums) {
    j.term_offset += terms;
    a.sums.push_back(j);
  }
  a.terms.insert(a.terms.end(), b.terms.begin(), b.terms.end());
  if (a.chain.size() < b.chain.size()) a.chain.resize(b.chain.size());
  auto append = [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); };
  for (size_t p = 0; p < b.chain.size(); ++p) {
    ChainStep& to = a.chain[p];
    const ChainStep& from = b.chain[p];
    const int base = (int)to.terms.size();
    for (SumJob j : from.copies) {
      j.term_offset += base;
      to.copies.push_back(j);
    }
    for (SumJob j : from.pre_sums) {
      j.term_offset += base;
      to.pre_sums.push_back(j);
    }
    for (SumJob j : from.post_sums) {
      j.term_offset += base;
      to.post_sums.push_back(j);
    }
    append(to.terms, from.terms);
    append(to.gains, from.gains);
    append(to.utilities, from.utilities);
    append(to.consoles, from.consoles);
    append(to.compressors, from.compressors);
    append(to.limiters, from.limiters);
    append(to.saturations, from.saturations);
    for (const FirLaunch& f : from.firs) append(launch_for(to, f.shape).jobs, f.jobs);
  }
  append(a.faders, b.faders);
  append(a.pre_chain_peaks, b.pre_chain_peaks);
  append(a.meters, b.meters);
}

}  // namespace td
