// After a launch: each session's meters read out, every variant delivered (in parallel on
// the CPU backend), ranked against the references, and the dynamics reported.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>

#include "analysis/analyze.h"
#include "render/deliver.h"

namespace td {
namespace {

// The session's references and the render's --reference files, each measured like a
// delivered master (BS.1770-4 loudness, LRA, peaks, correlation, 1/3-octave spectrum).
std::vector<std::pair<Reference, Measured>> measure_references(const SessionWork& w) {
  std::vector<Reference> refs = w.s->references;
  for (const auto& f : w.opt.references) refs.push_back({f, 1.0, 0});
  std::vector<std::pair<Reference, Measured>> out;
  MeterOptions mo;
  mo.series = true;
  for (const auto& ref : refs) {
    const FileAnalysis a = analyze_file(ref.file, "cpu", mo);
    out.emplace_back(ref, Measured{a.readings, a.spectra});
  }
  return out;
}

std::string kind_of(const Node& n) {
  return n.kind == NodeKind::kMaster ? "master" : n.kind == NodeKind::kBus ? "bus" : "track";
}

// The (sweep path, value) pairs of a node instance: its reaching axes' values.
std::vector<std::pair<std::string, double>> instance_params(const SessionWork& w, int node, int k) {
  const Session& s = *w.s;
  std::vector<std::pair<std::string, double>> out;
  for (size_t a = 0; a < w.plan.reaching_axes[node].size(); ++a) {
    const int axis = w.plan.reaching_axes[node][a];
    out.emplace_back(s.variants.sweep[axis].path,
                     s.variants.sweep[axis].values[w.plan.instances[node][k].choice[a]]);
  }
  return out;
}

// Each compressor's and limiter's gain reduction: maximum, mean and trace (compressors
// first, then limiters, each in lowering order).
void report_dynamics(SessionWork& w, const LaunchReadings& in) {
  const Session& s = *w.s;
  for (bool limiters : {false, true})
    for (const DynamicsReport& d : w.dynamics) {
      if (d.limiter != limiters) continue;
      double sum, max;
      if (d.limiter) {
        const LimiterState& st = in.limiters[w.limiters.state_offset + d.state];
        sum = (double)st.reduction_sum_q * kReductionQuantum;
        max = st.reduction_max;
      } else {
        const CompressorState& st = in.compressors[w.compressors.state_offset + d.state];
        sum = (double)st.reduction_sum_q * kReductionQuantum;
        max = st.reduction_max;
      }
      DynamicsMeters m;
      m.node = s.nodes[d.node].name;
      const Processor& proc = s.nodes[d.node].chain[d.pos];
      m.processor = proc.id;
      if (d.band >= 0)
        m.processor +=
            "." + (proc.type == "deesser" ? std::string("sibilance") : proc.bands[d.band].id);
      m.params = instance_params(w, d.node, d.k);
      m.max_db = max;
      m.mean_db = sum / std::max<long long>(1, w.frames);
      m.trace_hz = kTraceHz;
      const float* t = in.traces.data() + w.trace_offset + d.trace;
      m.trace_db.assign(t, t + d.hops);
      w.r.dynamics.push_back(std::move(m));
    }
}

}  // namespace

void finish(SessionWork& w, Backend& backend, LaunchReadings& in) {
  const Session& s = *w.s;
  const RenderOptions& opt = w.opt;
  const Plan& plan = w.plan;
  RenderResult& r = w.r;
  auto progress = [&](const std::string& stage, double f) {
    if (opt.progress) opt.progress(stage, f);
  };
  const auto t_measure = Clock::now();
  MeterOptions mo;
  mo.series = true;  // the VU trace goes into the report
  mo.vu_reference_dbfs = s.vu_reference_dbfs;
  r.headroom_dbfs = s.headroom_dbfs;
  r.vu_reference_dbfs = s.vu_reference_dbfs;
  std::vector<Readings> readings(w.metered.size());
  std::vector<StereoSpectra> spectra(w.metered.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long m = 0; m < (long long)w.metered.size(); ++m) {
    const long long g = w.meter_offset + m;
    MeterHop* h = in.hops.data() + g * in.hops_per_state;
    meter_finish(in.meter_states[g], h, 2);
    readings[m] = compute_readings(in.meter_states[g], h, 2, s.sample_rate, mo);
    spectra[m] = stereo_spectra(in.spectra[g].mid, in.spectra[g].side, s.sample_rate);
  }
  const int master = (int)s.nodes.size() - 1;
  std::vector<int> master_state(plan.instances[master].size(), -1);
  for (size_t m = 0; m < w.metered.size(); ++m) {
    const int node = w.metered[m].node, k = w.metered[m].k;
    if (node == master) master_state[k] = (int)m;
    NodeMeters nm;
    nm.node = s.nodes[node].name;
    nm.kind = kind_of(s.nodes[node]);
    nm.params = instance_params(w, node, k);
    nm.readings = readings[m];
    nm.spectrum = spectra[m].total;
    nm.pre_chain_peak_dbfs = gain_to_db(in.pre_chain_peaks[w.meter_offset + m]);
    nm.exceeds_headroom = nm.pre_chain_peak_dbfs > s.headroom_dbfs + 1e-9;
    r.meters.push_back(std::move(nm));
  }
  r.timings.measure_s = seconds_since(t_measure);

  const auto t_write = Clock::now();
  if (opt.write_audio && !s.variants.sweep.empty())
    std::filesystem::create_directories(opt.out_dir / "variants");
  // References, measured once: the comparison of every variant with them.
  const std::vector<std::pair<Reference, Measured>> references = measure_references(w);
  for (const auto& [ref, m] : references) r.references.push_back({ref.file, ref.weight, m});
  DeliveryInputs inputs{&readings, &spectra, &master_state, &references, mo};
  // Every variant measured and compared; the audio of those asked for written (top:K:
  // after the ranking, the chosen ones delivered again: the same bits).
  // Variants are delivered in parallel on the CPU backend (each one's limiter passes and
  // measurements are independent; the CUDA backend's copies share one stream), as many at
  // once as a quarter of the memory holds (a delivery keeps about 8 stereo copies, and the
  // written pass's audio: 9).
  const std::string mode = opt.write_audio ? opt.write_variants : "none";
  const int count = plan.variant_count();
  const double per_delivery = 72.0 * (double)std::max<long long>(1, w.frames);
  const int threads = backend.name() != "cpu"
                          ? 1
                          : (int)std::clamp(0.25 * physical_memory_bytes() / per_delivery, 1.0,
                                            (double)std::max(1, omp_get_max_threads()));
  // The written pass's audio, kept by each delivery at once: held in memory beside kept
  // masters in memory, and beside masters in a file while it fits the budget that sent
  // them there (else the pass is run again: memory then does not grow with the song). A
  // 16-variant render with its masters in a file ran a second pass for every variant.
  inputs.keep_passes =
      !r.masters_on_disk || threads * 8.0 * (double)w.frames <= w.memory_budget_bytes;
  r.variants.assign(count, VariantResult{});
  std::exception_ptr failure;
  std::atomic<int> delivered{0};
  auto deliver = [&](int v) {
    try {
      r.variants[v] = deliver_variant(w, backend, inputs, v, mode == "all");
    } catch (...) {
#pragma omp critical(td_deliver_failure)
      if (!failure) failure = std::current_exception();
    }
    const int done = ++delivered;
    if (omp_get_thread_num() == 0) progress("write", (double)done / count);
  };
  // One delivery at a time outside any parallel region, so that its own loops (dither,
  // packing, the measurement) run on every core from the usual thread pool: inside a
  // region, even a team of one, they ran on one core or on freshly made threads.
  const int at_once = std::max(1, std::min(threads, count));
  if (at_once == 1) {
    for (int v = 0; v < count; ++v) deliver(v);
  } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(at_once)
    for (int v = 0; v < count; ++v) deliver(v);
  }
  if (failure) std::rethrow_exception(failure);
  if (count > 0) progress("write", 1.0);
  std::vector<int> order(r.variants.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = (int)i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return r.variants[a].score < r.variants[b].score; });
  for (size_t i = 0; i < order.size(); ++i) r.variants[order[i]].rank = (int)i + 1;
  if (mode.rfind("top:", 0) == 0) {
    const int k = std::stoi(mode.substr(4));
    for (int i = 0; i < k && i < (int)order.size(); ++i) {
      const int rank = r.variants[order[i]].rank;
      r.variants[order[i]] = deliver_variant(w, backend, inputs, order[i], true);
      r.variants[order[i]].rank = rank;
    }
  }
  r.timings.write_s = seconds_since(t_write);
  report_dynamics(w, in);
}

}  // namespace td
