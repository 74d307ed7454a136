#include "render/render.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "analysis/loudness.h"
#include "analysis/meters.h"
#include "render/backend.h"
#include "session/schema.h"
#include "spectrum.h"

namespace td {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

PanLaw pan_law_of(double db) {
  return db == 0.0    ? PanLaw::k0dB
         : db == -4.5 ? PanLaw::k4_5dB
         : db == -6.0 ? PanLaw::k6dB
                      : PanLaw::k3dB;
}

// A node's settings in one instance: the session's values with the sweep applied.
struct NodeSettings {
  double gain_db = 0, pan = 0, fader_db = 0;
  std::vector<Processor> chain;
};

NodeSettings settings_for(const Session& s, const Plan& p, int node, const NodeInstance& inst) {
  const Node& n = s.nodes[node];
  NodeSettings st{n.gain_db, n.pan, n.fader_db, n.chain};
  for (size_t k = 0; k < p.reaching_axes[node].size(); ++k) {
    const int a = p.reaching_axes[node][k];
    const AxisTarget& t = p.axes[a];
    if (t.node != node) continue;
    const double v = s.variants.sweep[a].values[inst.choice[k]];
    switch (t.what) {
      case AxisTarget::What::kGain:
        st.gain_db = v;
        break;
      case AxisTarget::What::kPan:
        st.pan = v;
        break;
      case AxisTarget::What::kFader:
        st.fader_db = v;
        break;
      case AxisTarget::What::kProcessor: {
        Processor& proc = t.band >= 0 ? st.chain[t.processor].bands[t.band] : st.chain[t.processor];
        ProcessorValue& pv = proc.values[t.key];
        pv.kind = ProcessorValue::Kind::kNumber;
        pv.number = v;
        break;
      }
    }
  }
  return st;
}

Readings shift_readings(Readings r, double gain_db) {
  for (double* v : {&r.integrated_lufs, &r.momentary_max_lufs, &r.short_term_max_lufs,
                    &r.true_peak_dbtp, &r.sample_peak_dbfs, &r.rms_dbfs, &r.vu_max})
    *v += gain_db;
  for (auto* series : {&r.momentary_series, &r.short_term_series, &r.vu_series})
    for (auto& point : *series) point.second += gain_db;
  return r;
}

bool enabled(const Processor& p) {
  auto en = p.values.find("enabled");
  return en == p.values.end() || en->second.flag;
}

// The product of the chain's enabled gain processors (the only linear, constant ones).
float chain_gain(const std::vector<Processor>& chain) {
  float g = 1.0f;
  for (const auto& p : chain) {
    if (!enabled(p) || p.type != "gain") continue;
    auto inv = p.values.find("invert");
    const bool invert = inv != p.values.end() && inv->second.flag;
    g *= db_to_gain((float)p.number("gain_db", 0.0)) * (invert ? -1.0f : 1.0f);
  }
  return g;
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
         << " (tracked in issue " << (spec ? spec->issue : "?") << "); implemented today: gain";
      throw InputError(os.str());
    }
}

}  // namespace

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
  const auto t_start = Clock::now();
  reject_unimplemented(s);
  auto progress = [&](const std::string& stage, double f) {
    if (opt.progress) opt.progress(stage, f);
  };
  RenderResult r;
  for (const auto& ref : s.references)
    r.warnings.push_back("[[reference]] " + ref.file.string() +
                         ": reference comparison is not supported yet (issue #7); not compared");

  // Stems: channel counts and the session length (longest stem plus the tail).
  std::vector<int> channels(s.nodes.size(), 2);
  std::vector<int> stem_of(s.nodes.size(), -1);
  long long frames = 0;
  {
    int k = 0;
    for (size_t i = 0; i < s.nodes.size(); ++i)
      if (s.nodes[i].kind == NodeKind::kTrack) {
        stem_of[i] = k;
        channels[i] = stems[k].info.channels;
        frames = std::max(frames, stems[k].info.frames_at_rate);
        r.stems.push_back(stems[k].info);
        ++k;
      }
  }
  frames += (long long)std::llround(s.tail_s * s.sample_rate);
  if (frames == 0)
    throw InputError(s.file.string() +
                     ": the session has no audio (no tracks, or only empty stems)");
  r.sample_rate = s.sample_rate;
  r.frames = frames;

  const Plan plan = make_plan(s, channels, !opt.bus_meters);
  r.slots = plan.slot_count;
  r.total_renders = plan.instance_count();
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

  // Inputs are never written: refuse an output folder where a delivered file or the
  // report would land on a stem, a reference or the session file itself.
  if (opt.write_audio) {
    std::vector<std::filesystem::path> inputs = {s.file};
    for (const auto& st : r.stems) inputs.push_back(st.file);
    for (const auto& ref : s.references) inputs.push_back(ref.file);
    auto same = [](const std::filesystem::path& a, const std::filesystem::path& b) {
      std::error_code e1, e2;
      const auto ca = std::filesystem::weakly_canonical(a, e1),
                 cb = std::filesystem::weakly_canonical(b, e2);
      return !e1 && !e2 && ca == cb;
    };
    std::vector<std::filesystem::path> outputs = {opt.out_dir / "report.json",
                                                  opt.out_dir / ("master." + s.delivery.format)};
    for (int v = 0; v < plan.variant_count() && !s.variants.sweep.empty(); ++v)
      outputs.push_back(opt.out_dir / "variants" /
                        (variant_id(v, plan.variant_count()) + "." + s.delivery.format));
    for (const auto& out : outputs)
      for (const auto& in : inputs)
        if (same(out, in))
          throw InputError(out.string() + ": this output would overwrite an input (" + in.string() +
                           "); choose another output folder");
  }

  std::unique_ptr<Backend> backend = make_backend(opt.backend, &r.backend_notice);
  r.backend = backend->name();
  const int master = (int)s.nodes.size() - 1;
  const auto& masters = plan.instances[master];
  const long long segment = std::min(
      frames, opt.segment_frames > 0 ? opt.segment_frames : backend->preferred_segment_frames());
  r.segment_frames = segment;
  backend->allocate(plan.slot_count, segment, 2 * (int)masters.size(), frames);

  std::vector<int> tracks;
  for (size_t i = 0; i < s.nodes.size(); ++i)
    if (s.nodes[i].kind == NodeKind::kTrack) tracks.push_back((int)i);

  // Runs body(t) for every track on all cores; rethrows the error of the first failing
  // track in session order, so the message does not depend on thread timing.
  auto for_each_track = [&](const std::function<void(size_t)>& body) {
    std::vector<std::string> errors(tracks.size());
    std::vector<char> failed(tracks.size(), 0);
#pragma omp parallel for schedule(dynamic, 1)
    for (long long t = 0; t < (long long)tracks.size(); ++t) {
      try {
        body((size_t)t);
      } catch (const std::exception& e) {
        errors[t] = e.what();
        failed[t] = 1;
      }
    }
    for (size_t t = 0; t < tracks.size(); ++t)
      if (failed[t]) throw InputError(errors[t]);
  };

  const auto t_open = Clock::now();
  std::vector<std::unique_ptr<StemReader>> readers(tracks.size());
  for_each_track([&](size_t t) { readers[t] = stems[stem_of[tracks[t]]].open(); });
  r.timings.decode_s += seconds_since(t_open);

  // Every level's jobs, built once: only the segment's origin changes between segments.
  std::vector<std::vector<NodeSettings>> settings(s.nodes.size());
  for (size_t i = 0; i < s.nodes.size(); ++i)
    for (const auto& inst : plan.instances[i])
      settings[i].push_back(settings_for(s, plan, (int)i, inst));

  // The constant gains a folded node applies to each channel: gain_db with pan or
  // balance, the chain's gain processors, the fader, mute and solo (plan.h: folded nodes
  // have no automation and no other processing).
  auto folded_gains = [&](int node, int k) {
    const Node& n = s.nodes[node];
    const NodeSettings& st = settings[node][k];
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
          if (gl != 0.0f) out.push_back({inst.out[0], gl, 0.0f});
          if (gr != 0.0f) out.push_back({inst.out[1], 0.0f, gr});
          return;
        }
        const StereoGains g = folded_gains(node, k);
        if (s.nodes[node].kind == NodeKind::kTrack) {
          const auto& src = plan.sources[node];
          const float l = gl * g.left, rr = gr * g.right;
          if (src.size() == 1) {
            if (l != 0.0f || rr != 0.0f) out.push_back({src[0], l, rr});
          } else {
            if (l != 0.0f) out.push_back({src[0], l, 0.0f});
            if (rr != 0.0f) out.push_back({src[1], 0.0f, rr});
          }
          return;
        }
        for (size_t j = 0; j < inst.inputs.size(); ++j)
          add_terms(inst.input_nodes[j], inst.inputs[j], gl * g.left, gr * g.right, out);
      };

  struct LevelJobs {
    std::vector<TrackInputJob> inputs;
    std::vector<Breakpoint> points;
    std::vector<SumJob> sums;
    std::vector<SumTerm> terms;
    std::vector<std::vector<GainJob>> chain_gains;  // one launch per chain position
    std::vector<GainJob> faders;
    std::vector<PeakJob> pre_chain_peaks;  // buses and master, before their chains
    std::vector<MeterJob> meters;          // buses and master, after their faders
  };
  // Every bus and master instance is metered; its index here is its meter state.
  struct Metered {
    int node, k;
  };
  std::vector<Metered> metered;
  std::vector<LevelJobs> levels(plan.levels.size());
  for (size_t l = 0; l < plan.levels.size(); ++l) {
    LevelJobs& lj = levels[l];
    size_t max_chain = 0;
    for (int node : plan.levels[l]) {
      if (plan.folded[node]) continue;  // mixed into its reader's sum
      const Node& n = s.nodes[node];
      for (size_t k = 0; k < plan.instances[node].size(); ++k) {
        const NodeInstance& inst = plan.instances[node][k];
        const NodeSettings& st = settings[node][k];
        max_chain = std::max(max_chain, st.chain.size());
        TrackInputJob job{};
        if (n.kind == NodeKind::kTrack) {
          const auto& src = plan.sources[node];
          job.src_left = src[0];
          job.src_right = src.size() > 1 ? src[1] : src[0];
          job.stereo_source = src.size() > 1;
        } else {
          SumJob sj{inst.out[0], inst.out[1], (int)lj.terms.size(), 0};
          for (size_t j = 0; j < inst.inputs.size(); ++j)
            add_terms(inst.input_nodes[j], inst.inputs[j], 1.0f, 1.0f, lj.terms);
          sj.term_count = (int)lj.terms.size() - sj.term_offset;
          lj.sums.push_back(sj);
          job.src_left = inst.out[0];
          job.src_right = inst.out[1];
          job.stereo_source = 1;
        }
        job.dst_left = inst.out[0];
        job.dst_right = inst.out[1];
        job.gain_db = (float)st.gain_db;
        job.pan = (float)st.pan;
        job.pan_law = (int)pan_law_of(n.pan_law_db.value_or(s.pan_law_db));
        job.mute_gain = 1.0f;
        for (const auto& au : n.automation) {
          const int offset = (int)lj.points.size();
          for (const auto& pt : au.points)
            lj.points.push_back({pt.time_s * s.sample_rate, (float)pt.value});
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
          for (int c = 0; c < 2; ++c) lj.faders.push_back({inst.out[c], fader});
        if (n.kind == NodeKind::kMaster || (n.kind == NodeKind::kBus && opt.bus_meters)) {
          const int index = (int)metered.size();
          metered.push_back({node, (int)k});
          lj.pre_chain_peaks.push_back({inst.out[0], index});
          lj.pre_chain_peaks.push_back({inst.out[1], index});
          lj.meters.push_back({inst.out[0], inst.out[1], 2, index});
        }
      }
    }
    // The chains, position by position; one launch per processor type at each position.
    for (size_t pos = 0; pos < max_chain; ++pos) {
      std::vector<GainJob> gains;
      for (int node : plan.levels[l]) {
        if (plan.folded[node]) continue;
        for (size_t k = 0; k < plan.instances[node].size(); ++k) {
          const NodeSettings& st = settings[node][k];
          if (pos >= st.chain.size() || !enabled(st.chain[pos])) continue;
          if (st.chain[pos].type == "gain") {
            const float g = chain_gain({st.chain[pos]});
            for (int c = 0; c < 2; ++c) gains.push_back({plan.instances[node][k].out[c], g});
          }
        }
      }
      if (!gains.empty()) lj.chain_gains.push_back(std::move(gains));
    }
  }

  // Meters: hop sums and true peaks on the backend; the long-term spectrum on the host.
  const long long hop_frames = meter_hop_frames(s.sample_rate);
  const KWeighting kweighting = design_kweighting(s.sample_rate);
  const TruePeakFilter tp_filter = design_true_peak_filter(s.sample_rate);
  const long long hops_per_state = frames / hop_frames + 2;
  backend->allocate_meters((int)metered.size(), hops_per_state);
  backend->allocate_peaks((int)metered.size());
  const int fft_size = spectrum_fft_size(s.sample_rate);
  std::vector<LongTermSpectrum> spectra;
  for (size_t m = 0; m < metered.size(); ++m) spectra.push_back(make_spectrum(fft_size, 2));
  std::vector<std::vector<float>> spectrum_staging;

  // Segment by segment: decode every stem's next segment on all cores (straight into the
  // arena when it is host memory), run the levels, keep the master variants.
  std::vector<std::vector<std::vector<float>>> staging(tracks.size());
  for (long long origin = 0; origin < frames; origin += segment) {
    const long long len = std::min(segment, frames - origin);
    backend->begin_segment(origin, len);
    const auto t_decode = Clock::now();
    std::mutex upload_mutex;
    for_each_track([&](size_t t) {
      const std::vector<int>& slots = plan.sources[tracks[t]];
      std::vector<float*> outs;
      for (size_t c = 0; c < slots.size(); ++c) {
        float* h = backend->host_slot(slots[c]);
        if (!h) {
          staging[t].resize(slots.size());
          staging[t][c].resize(segment);
          h = staging[t][c].data();
        }
        outs.push_back(h);
      }
      readers[t]->read(outs.data(), len);
      if (!staging[t].empty()) {
        std::lock_guard<std::mutex> lock(upload_mutex);
        for (size_t c = 0; c < slots.size(); ++c) backend->upload(slots[c], staging[t][c].data());
      }
    });
    r.timings.decode_s += seconds_since(t_decode);

    const auto t_stages = Clock::now();
    const bool last_segment = origin + len == frames;
    for (const LevelJobs& lj : levels) {
      if (!lj.sums.empty()) backend->sum(lj.sums, lj.terms);
      if (!lj.inputs.empty()) backend->track_input(lj.inputs, lj.points);
      if (!lj.pre_chain_peaks.empty()) backend->peak_hold(lj.pre_chain_peaks);
      for (const auto& gains : lj.chain_gains) backend->gain(gains);
      if (!lj.faders.empty()) backend->gain(lj.faders);
      if (lj.meters.empty()) continue;
      // Metered now, while this level's outputs are in the arena (later levels reuse it).
      backend->meters(lj.meters, kweighting, tp_filter, hop_frames, last_segment);
      std::vector<std::array<const float*, 2>> audio(lj.meters.size());
      spectrum_staging.resize(2 * lj.meters.size());
      for (size_t j = 0; j < lj.meters.size(); ++j)
        for (int c = 0; c < 2; ++c) {
          const int slot = c ? lj.meters[j].right : lj.meters[j].left;
          const float* h = backend->host_slot(slot);
          if (!h) {
            spectrum_staging[2 * j + c].resize(segment);
            backend->download(slot, spectrum_staging[2 * j + c].data());
            h = spectrum_staging[2 * j + c].data();
          }
          audio[j][c] = h;
        }
#pragma omp parallel for schedule(dynamic, 1)
      for (long long t = 0; t < 2 * (long long)lj.meters.size(); ++t)
        spectrum_add_channel(spectra[lj.meters[t / 2].state], (int)(t % 2), audio[t / 2][t % 2],
                             len);
    }
    for (size_t k = 0; k < masters.size(); ++k) {
      backend->keep(masters[k].out[0], 2 * (int)k);
      backend->keep(masters[k].out[1], 2 * (int)k + 1);
    }
    r.timings.stages_s += seconds_since(t_stages);
    progress("render", (double)(origin + len) / frames);
  }

  // The meters' readings: every bus and master instance.
  const auto t_measure = Clock::now();
  std::vector<MeterState> states;
  std::vector<MeterHop> hops;
  backend->read_meters(states, hops);
  const std::vector<float> pre_chain_peaks = backend->read_peaks();
  MeterOptions mo;
  mo.series = true;  // the VU trace goes into the report
  mo.vu_reference_dbfs = s.vu_reference_dbfs;
  r.headroom_dbfs = s.headroom_dbfs;
  r.vu_reference_dbfs = s.vu_reference_dbfs;
  std::vector<Readings> readings(metered.size());
  std::vector<std::vector<Band>> bands(metered.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long m = 0; m < (long long)metered.size(); ++m) {
    MeterHop* h = hops.data() + m * hops_per_state;
    meter_finish(states[m], h, 2);
    readings[m] = compute_readings(states[m], h, 2, s.sample_rate, mo);
    spectrum_finish(spectra[m]);
    bands[m] = third_octave_bands(spectrum_bins(spectra[m]), s.sample_rate, fft_size);
  }
  std::vector<int> master_state(masters.size(), -1);
  for (size_t m = 0; m < metered.size(); ++m) {
    const int node = metered[m].node, k = metered[m].k;
    if (node == master) master_state[k] = (int)m;
    NodeMeters nm;
    nm.node = s.nodes[node].name;
    nm.kind = s.nodes[node].kind == NodeKind::kMaster ? "master" : "bus";
    for (size_t a = 0; a < plan.reaching_axes[node].size(); ++a) {
      const int axis = plan.reaching_axes[node][a];
      nm.params.emplace_back(s.variants.sweep[axis].path,
                             s.variants.sweep[axis].values[plan.instances[node][k].choice[a]]);
    }
    nm.readings = readings[m];
    nm.spectrum = bands[m];
    nm.pre_chain_peak_dbfs = gain_to_db(pre_chain_peaks[m]);
    nm.exceeds_headroom = nm.pre_chain_peak_dbfs > s.headroom_dbfs + 1e-9;
    r.meters.push_back(std::move(nm));
  }
  r.timings.measure_s = seconds_since(t_measure);

  const auto t_write = Clock::now();
  const bool has_variants = !s.variants.sweep.empty();
  if (opt.write_audio && has_variants)
    std::filesystem::create_directories(opt.out_dir / "variants");
  for (int v = 0; v < plan.variant_count(); ++v) {
    const int k = plan.variant_instance[v][master];
    VariantResult vr;
    vr.id = has_variants ? variant_id(v, plan.variant_count()) : "master";
    for (size_t a = 0; a < s.variants.sweep.size(); ++a)
      vr.params.emplace_back(s.variants.sweep[a].path,
                             s.variants.sweep[a].values[plan.variants[v][a]]);
    const Readings& mr = readings[master_state[k]];
    vr.rendered_lufs = mr.integrated_lufs;
    double gain_db = 0.0;
    if (s.delivery.target_lufs) {
      if (std::isfinite(vr.rendered_lufs))
        gain_db = *s.delivery.target_lufs - vr.rendered_lufs;
      else
        vr.warnings.push_back(
            "the mix is silent (no block above -70 LUFS): delivered without loudness "
            "normalisation");
    }
    // Every level figure shifts exactly by the delivery gain (loudness, peaks, RMS and VU
    // are homogeneous in gain); ratios (LRA, crest, PLR, correlation) do not move.
    vr.readings = shift_readings(mr, gain_db);
    vr.spectrum = bands[master_state[k]];
    for (auto& b : vr.spectrum) b.db += gain_db;
    vr.delivery_gain_db = gain_db;
    vr.delivered_lufs = vr.readings.integrated_lufs;
    vr.sample_peak_dbfs = vr.readings.sample_peak_dbfs;
    vr.true_peak_dbtp = vr.readings.true_peak_dbtp;
    if (vr.true_peak_dbtp > s.delivery.ceiling_dbtp) {
      std::ostringstream os;
      os.setf(std::ios::fixed);
      os.precision(2);
      os << "true peak " << vr.true_peak_dbtp << " dBTP is above the ceiling of "
         << s.delivery.ceiling_dbtp << " dBTP (no limiter yet: issue #5)";
      vr.warnings.push_back(os.str());
    }
    if (s.delivery.bit_depth != 32 && vr.sample_peak_dbfs > 0.0) {
      std::ostringstream os;
      os.setf(std::ios::fixed);
      os.precision(2);
      os << "sample peak " << vr.sample_peak_dbfs << " dBFS: the fixed-point file clips";
      vr.warnings.push_back(os.str());
    }
    if (opt.write_audio) {
      vr.file = has_variants ? opt.out_dir / "variants" / (vr.id + "." + s.delivery.format)
                             : opt.out_dir / ("master." + s.delivery.format);
      WriteSpec ws{s.delivery.format, s.delivery.bit_depth, s.sample_rate};
      const float g = db_to_gain((float)gain_db);
      if (s.delivery.bit_depth == 32) {
        std::vector<float> out;
        backend->deliver_float(2 * k, 2 * k + 1, g, out);
        write_audio_atomic(vr.file, ws, 2, nullptr, out.data(), frames);
      } else {
        std::vector<int32_t> out;
        backend->deliver_pcm(2 * k, 2 * k + 1, g, s.delivery.dither_seed, s.delivery.bit_depth,
                             out);
        write_audio_atomic(vr.file, ws, 2, out.data(), nullptr, frames);
      }
    }
    r.variants.push_back(std::move(vr));
    progress("write", (double)(v + 1) / plan.variant_count());
  }
  r.timings.write_s = seconds_since(t_write);
  r.timings.total_s = seconds_since(t_start);
  return r;
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
      staged.nodes[t].gain_db = std::max(-60.0, wanted);
      if (wanted < -60.0) clamped.push_back(s.nodes[t].name);
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
                         "\" reached the lowest clip gain (-60 dB)");
  return r;
}

}  // namespace td
