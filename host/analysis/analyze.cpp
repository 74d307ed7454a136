#include "analysis/analyze.h"

#include <algorithm>

#include "backend/backend.h"
#include "io/audio_file.h"
#include "kernels/spectrum.h"

namespace td {

namespace {

FileAnalysis analyze(const StemInfo& info, StemReader& reader, const std::string& backend_choice,
                     const MeterOptions& options, long long segment_frames) {
  FileAnalysis a;
  a.file = info.file;
  a.sample_rate = info.sample_rate;
  a.channels = info.channels;
  a.frames = info.frames;
  std::unique_ptr<Backend> backend = make_backend(backend_choice, &a.backend_notice);
  a.backend = backend->name();

  const long long frames = std::max(1LL, info.frames);
  const long long segment =
      std::min(frames, segment_frames > 0 ? segment_frames : backend->preferred_segment_frames());
  const long long hop_frames = meter_hop_frames(info.sample_rate);
  const long long hops_per_state = frames / hop_frames + 2;
  backend->allocate(2, segment, 0, 0);
  backend->allocate_meters(1, hops_per_state);
  const KWeighting k = design_kweighting(info.sample_rate);
  const TruePeakFilter f = design_true_peak_filter(info.sample_rate);
  backend->allocate_spectra(1, spectrum_fft_size(info.sample_rate));
  std::vector<std::vector<float>> staging(2, std::vector<float>(segment));
  const MeterJob job{0, info.channels > 1 ? 1 : 0, info.channels, 0, 0, info.frames};

  for (long long origin = 0; origin < info.frames; origin += segment) {
    const long long len = std::min(segment, info.frames - origin);
    backend->begin_segment(origin, len);
    float* out[2];
    for (int c = 0; c < info.channels; ++c) {
      float* h = backend->host_slot(c);
      out[c] = h ? h : staging[c].data();
    }
    reader.read(out, len);
    for (int c = 0; c < info.channels; ++c)
      if (!backend->host_slot(c)) backend->upload(c, staging[c].data());
    backend->meters({job}, k, f, hop_frames, origin + len == info.frames, 0, len);
    // A mono file is its own mid and has no side.
    backend->spectra({{0, info.channels > 1 ? 1 : 0, 0}}, 0, len);
  }
  std::vector<MeterState> states;
  std::vector<MeterHop> hops;
  backend->read_meters(states, hops);
  meter_finish(states[0], hops.data(), info.channels);
  a.readings = compute_readings(states[0], hops.data(), info.channels, info.sample_rate, options);
  const std::vector<MidSideBins> bins = backend->read_spectra();
  a.spectra = stereo_spectra(bins[0].mid, bins[0].side, info.sample_rate);
  return a;
}

}  // namespace

FileAnalysis analyze_file(const std::filesystem::path& file, const std::string& backend,
                          const MeterOptions& options) {
  StemInfo info = probe_stem(file, 0);
  info.frames_at_rate = info.frames;
  std::unique_ptr<StemReader> reader = open_stem(info, info.sample_rate);
  return analyze(info, *reader, backend, options, 0);
}

FileAnalysis analyze_audio(const std::vector<std::vector<float>>& audio, int sample_rate,
                           const std::string& backend, const MeterOptions& options,
                           long long segment_frames) {
  StemInfo info;
  info.file = "(memory)";
  info.channels = (int)audio.size();
  info.sample_rate = sample_rate;
  info.frames = audio.empty() ? 0 : (long long)audio[0].size();
  info.frames_at_rate = info.frames;
  std::unique_ptr<StemReader> reader = open_memory_stem(audio);
  return analyze(info, *reader, backend, options, segment_frames);
}

}  // namespace td
