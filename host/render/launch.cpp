// The segment loop of a launch: sessions' jobs merged level by level into one set of
// arenas on one backend, every stem decoded segment by segment on all cores, every level's
// stages run, the master variants kept whole for delivery.
#include "render/launch.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <mutex>

#include "processors/pitch.h"

namespace td {

void open_readers(std::vector<SessionWork*>& group) {
  struct TrackRef {
    SessionWork* w;
    size_t t;
  };
  std::vector<TrackRef> todo;
  for (SessionWork* w : group) {
    if (w->readers.size() == w->tracks.size()) continue;  // opened before
    w->readers.resize(w->tracks.size());
    for (size_t t = 0; t < w->tracks.size(); ++t) todo.push_back({w, t});
  }
  std::vector<std::string> errors(todo.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long i = 0; i < (long long)todo.size(); ++i) {
    SessionWork& w = *todo[i].w;
    try {
      const StemSource& src = (*w.stems)[w.stem_of[w.tracks[todo[i].t]]];
      std::unique_ptr<StemReader> r = src.open();
      // A track whose chain starts with `pitch` reads its stem shifted (pitch.h).
      if (auto p = track_pitch(w.s->nodes[w.tracks[todo[i].t]]))
        r = pitch_reader(std::move(r), src.info.channels, w.s->sample_rate, *p);
      w.readers[todo[i].t] = std::move(r);
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  }
  for (size_t i = 0; i < todo.size(); ++i)  // the first error of a session, in track order
    if (!errors[i].empty() && todo[i].w->error.empty()) todo[i].w->error = errors[i];
}

RenderedLaunch render_stages(std::vector<SessionWork*>& group, const RenderOptions& opt) {
  const int rate = group.front()->s->sample_rate;
  int slots = 0, meters = 0, keeps = 0;
  long long frames = 0;         // the longest song: what the keep arena holds
  long long render_frames = 0;  // the longest song plus its latency: what is rendered
  long long fir_states = 0, fir_bins = 0, traces = 0;
  LaunchStore<CompressorParams> compressors;
  LaunchStore<LimiterParams> limiters;
  LaunchStore<SaturationParams> saturations;
  LaunchStore<UtilityParams> utilities;
  LaunchStore<ConsoleParams> consoles;
  size_t max_levels = 0;
  for (SessionWork* w : group) {
    w->slot_offset = slots;
    w->meter_offset = meters;
    w->keep_offset = keeps;
    w->fir_state_offset = fir_states;
    w->fir_spectrum_offset = fir_bins;
    w->trace_offset = traces;
    compressors.place(w->compressors);
    limiters.place(w->limiters);
    saturations.place(w->saturations);
    utilities.place(w->utilities);
    consoles.place(w->consoles);
    lower(*w);
    slots += w->plan.slot_count + w->scratch_slots;
    fir_states += w->fir_state_floats;
    fir_bins += w->fir_spectrum_bins;
    traces += w->trace_floats;
    compressors.append(w->compressors);
    limiters.append(w->limiters);
    saturations.append(w->saturations);
    utilities.append(w->utilities);
    consoles.append(w->consoles);
    render_frames = std::max(render_frames, w->frames + w->latency);
    meters += (int)w->metered.size();
    keeps += 2 * (int)w->plan.instances[w->s->nodes.size() - 1].size();
    frames = std::max(frames, w->frames);
    max_levels = std::max(max_levels, w->levels.size());
  }
  std::string notice;
  std::unique_ptr<Backend> backend = make_backend(opt.backend, &notice);
  for (SessionWork* w : group) {
    w->r.backend = backend->name();
    w->r.backend_notice = notice;
  }
  const long long segment =
      std::min(render_frames,
               opt.segment_frames > 0 ? opt.segment_frames : backend->preferred_segment_frames());
  // The kept masters hold every variant whole until delivery: past the memory budget the
  // CPU backend keeps them in a file in the output folder. Refuse, with the way out, a
  // device launch that cannot fit in memory instead of failing half way.
  const double keep_bytes = 4.0 * (double)keeps * frames;
  double budget = opt.memory_budget_bytes;
  if (budget <= 0) budget = std::min(1073741824.0, 0.25 * physical_memory_bytes());
  const bool spill = backend->name() == "cpu" && budget > 0 && keep_bytes > budget;
  if (spill) {
    std::error_code ec;
    const bool out_ok = !opt.out_dir.empty() && std::filesystem::is_directory(opt.out_dir, ec);
    backend->spill_keep_to(out_ok ? opt.out_dir : std::filesystem::temp_directory_path());
  }
  for (SessionWork* w : group) {
    w->r.masters_on_disk = spill;
    w->memory_budget_bytes = budget;
  }
  {
    const double need = 4.0 * ((spill ? 0.0 : (double)keeps * frames) + (double)slots * segment);
    const double have = 0.8 * physical_memory_bytes();
    if (have > 0 && need > have) {
      char msg[512];
      std::snprintf(msg, sizeof msg,
                    "%s: %d master variant(s) of %.1f minutes need %.1f GiB to keep until "
                    "delivery, more than this machine has (%.1f GiB usable); render the "
                    "variants in shards (topdown batch --shard K/N splits a session's variants) "
                    "or sweep fewer values",
                    group.front()->s->file.string().c_str(), keeps / 2,
                    (double)frames / rate / 60.0, need / (1 << 30), have / (1 << 30));
      throw InputError(msg);
    }
  }
  backend->allocate(slots, segment, keeps, frames);
  const long long hop_frames = meter_hop_frames(rate);
  const KWeighting kweighting = design_kweighting(rate);
  const TruePeakFilter tp_filter = design_true_peak_filter(rate);
  const long long hops_per_state = frames / hop_frames + 2;
  backend->allocate_meters(meters, hops_per_state);
  backend->allocate_spectra(meters, spectrum_fft_size(rate));
  backend->allocate_peaks(meters);
  upload_fir_designs(group, fir_states, fir_bins, *backend);
  backend->allocate_stage(compressors.params, compressors.states, compressors.memory);
  backend->allocate_stage(limiters.params, limiters.states, limiters.memory);
  backend->allocate_stage(saturations.params, saturations.states, saturations.memory);
  backend->allocate_stage(utilities.params, utilities.states, utilities.memory);
  backend->allocate_stage(consoles.params, consoles.states, consoles.memory);
  backend->allocate_traces(traces);

  // All tracks of all sessions, for decoding on all cores.
  struct TrackRef {
    SessionWork* w;
    size_t t;
  };
  std::vector<TrackRef> all;
  for (SessionWork* w : group)
    for (size_t t = 0; t < w->tracks.size(); ++t) all.push_back({w, t});
  // Runs body on every track; an error fails that track's session (the first error in
  // session order is kept), never the launch.
  auto for_each_track = [&](const std::function<void(const TrackRef&)>& body) {
    std::vector<std::string> errors(all.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (long long i = 0; i < (long long)all.size(); ++i) {
      if (!all[i].w->error.empty()) continue;
      try {
        body(all[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
    for (size_t i = 0; i < all.size(); ++i)
      if (!errors[i].empty() && all[i].w->error.empty()) all[i].w->error = errors[i];
  };
  // Readers may have been opened already, while the previous launch rendered.
  const auto t_open = Clock::now();
  open_readers(group);
  const double open_s = seconds_since(t_open);

  // The levels of all sessions, merged: level l of every session in one set of launches.
  std::vector<LevelJobs> levels(max_levels);
  for (SessionWork* w : group)
    for (size_t l = 0; l < w->levels.size(); ++l) append_level(levels[l], w->levels[l]);
  double decode_s = 0.0, stages_s = 0.0;
  std::vector<double> stage_time(kStageTimes, 0.0);
  std::vector<std::vector<float>> staging(2 * all.size());
  for (long long origin = 0; origin < render_frames; origin += segment) {
    const long long len = std::min(segment, render_frames - origin);
    backend->begin_segment(origin, len);
    const auto t_decode = Clock::now();
    std::mutex upload_mutex;
    for_each_track([&](const TrackRef& ref) {
      const std::vector<int>& local = ref.w->plan.sources[ref.w->tracks[ref.t]];
      const size_t index = &ref - all.data();
      std::vector<float*> outs;
      for (size_t c = 0; c < local.size(); ++c) {
        float* h = backend->host_slot(ref.w->slot_offset + local[c]);
        if (!h) {
          staging[2 * index + c].resize(segment);
          h = staging[2 * index + c].data();
        }
        outs.push_back(h);
      }
      // The stem is read in_delay samples late (latency compensation): zeros first.
      const long long late = std::clamp(ref.w->in_delay[ref.w->tracks[ref.t]] - origin, 0LL, len);
      for (float* o : outs) std::fill(o, o + late, 0.0f);
      if (late < len) {
        for (float*& o : outs) o += late;
        ref.w->readers[ref.t]->read(outs.data(), len - late);
      }
      if (!backend->host_slot(ref.w->slot_offset + local[0])) {
        std::lock_guard<std::mutex> lock(upload_mutex);
        for (size_t c = 0; c < local.size(); ++c)
          backend->upload(ref.w->slot_offset + local[c], staging[2 * index + c].data());
      }
    });
    decode_s += seconds_since(t_decode);

    const auto t_stages = Clock::now();
    // Each backend call timed under its stage type (CPU: the work itself; CUDA: until the
    // call returns, which for queued stages is less than their device time).
    auto timed = [&](StageTime stage, const auto& call) {
      const auto t = Clock::now();
      call();
      stage_time[(int)stage] += seconds_since(t);
    };
    for (size_t l = 0; l < max_levels; ++l) {
      const LevelJobs& lj = levels[l];
      if (!lj.sums.empty()) timed(StageTime::kSums, [&] { backend->sum(lj.sums, lj.terms); });
      if (!lj.inputs.empty())
        timed(StageTime::kGains, [&] { backend->track_input(lj.inputs, lj.points); });
      if (!lj.pre_chain_peaks.empty())
        timed(StageTime::kMeters, [&] { backend->peak_hold(lj.pre_chain_peaks); });
      for (const ChainStep& step : lj.chain) {
        if (!step.copies.empty())
          timed(StageTime::kSums, [&] { backend->sum(step.copies, step.terms); });
        if (!step.pre_sums.empty())
          timed(StageTime::kSums, [&] { backend->sum(step.pre_sums, step.terms); });
        if (!step.gains.empty()) timed(StageTime::kGains, [&] { backend->gain(step.gains); });
        if (!step.utilities.empty())
          timed(StageTime::kUtility, [&] { backend->utility(step.utilities); });
        if (!step.consoles.empty())
          timed(StageTime::kConsole, [&] { backend->console(step.consoles); });
        for (const FirLaunch& f : step.firs)
          timed(StageTime::kFir, [&] { backend->fir(f.shape, f.jobs); });
        if (!step.compressors.empty())
          timed(StageTime::kCompressor,
                [&] { backend->compressor(step.compressors, trace_hop_frames(rate)); });
        if (!step.saturations.empty())
          timed(StageTime::kSaturation, [&] { backend->saturation(step.saturations); });
        if (!step.limiters.empty())
          timed(StageTime::kLimiter,
                [&] { backend->limiter(step.limiters, tp_filter, trace_hop_frames(rate)); });
        if (!step.post_sums.empty())
          timed(StageTime::kSums, [&] { backend->sum(step.post_sums, step.terms); });
      }
      if (!lj.faders.empty()) timed(StageTime::kGains, [&] { backend->gain(lj.faders); });
      if (lj.meters.empty()) continue;
      // Metered now, while this level's outputs are in the arena (later levels reuse it):
      // one call per distinct song span [begin, end), with just that part of the segment.
      std::vector<std::pair<long long, long long>> spans;
      for (const MeterJob& job : lj.meters)
        if (std::find(spans.begin(), spans.end(), std::make_pair(job.begin, job.end)) ==
            spans.end())
          spans.emplace_back(job.begin, job.end);
      for (const auto& span : spans) {
        long long b, e;
        job_range(origin, len, span.first, span.second, b, e);
        if (e <= b) continue;
        std::vector<MeterJob> jobs;
        for (const MeterJob& job : lj.meters)
          if (job.begin == span.first && job.end == span.second) jobs.push_back(job);
        timed(StageTime::kMeters, [&] {
          backend->meters(jobs, kweighting, tp_filter, hop_frames, span.second <= origin + len, b,
                          e - b);
        });
        std::vector<SpectrumJob> spectrum_jobs;
        for (const MeterJob& job : jobs) spectrum_jobs.push_back({job.left, job.right, job.state});
        timed(StageTime::kSpectra, [&] { backend->spectra(spectrum_jobs, b, e - b); });
      }
    }
    for (SessionWork* w : group) {
      const auto& masters = w->plan.instances[w->s->nodes.size() - 1];
      for (size_t k = 0; k < masters.size(); ++k) {
        const long long delay = w->out_delay.back();
        backend->keep(w->slot_offset + masters[k].out[0], w->keep_offset + 2 * (int)k, delay);
        backend->keep(w->slot_offset + masters[k].out[1], w->keep_offset + 2 * (int)k + 1, delay);
      }
    }
    stages_s += seconds_since(t_stages);
    if (opt.progress) opt.progress("render", (double)(origin + len) / render_frames);
  }

  RenderedLaunch out;
  LaunchReadings& readings = out.readings;
  backend->read_meters(readings.meter_states, readings.hops);
  readings.hops_per_state = hops_per_state;
  readings.pre_chain_peaks = backend->read_peaks();
  readings.spectra = backend->read_spectra();
  readings.compressors = backend->read_states<CompressorParams>();
  readings.limiters = backend->read_states<LimiterParams>();
  readings.traces = backend->read_traces();
  for (SessionWork* w : group) {
    // A launch's time is shared by its sessions in proportion to their length.
    const double share = (double)w->frames / std::max<long long>(1, frames) / group.size();
    w->r.timings.decode_s = (open_s + decode_s) * share;
    w->r.timings.stages_s = stages_s * share;
    w->r.timings.stage_s.clear();
    for (int t = 0; t < kStageTimes; ++t)
      w->r.timings.stage_s.emplace_back(stage_time_name((StageTime)t), stage_time[t] * share);
    w->r.segment_frames = segment;
  }
  out.group = group;
  out.backend = std::move(backend);
  return out;
}

void finish_launch(RenderedLaunch& launch) {
  for (SessionWork* w : launch.group) {
    if (w->error.empty()) try {
        finish(*w, *launch.backend, launch.readings);
      } catch (const std::exception& e) {
        w->error = e.what();
      }
    w->r.timings.total_s = seconds_since(w->t_start);
  }
  launch.backend.reset();  // its arenas go back (backend_cpu.cpp) for the next launch
}

void render_launch(std::vector<SessionWork*>& group, const RenderOptions& opt) {
  RenderedLaunch launch = render_stages(group, opt);
  finish_launch(launch);
}

}  // namespace td
