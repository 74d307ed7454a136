#include "analysis/analyze.h"

#include <algorithm>

#include "backend/backend.h"
#include "io/audio_file.h"
#include "kernels/spectrum.h"

namespace td {

struct StreamAnalyzer::Impl {
  std::unique_ptr<Backend> backend;
  std::string notice;
  int sample_rate = 0, channels = 0;
  long long frames = 0, segment = 0, origin = 0, hop_frames = 0;
  KWeighting k;
  TruePeakFilter f;
  std::vector<std::vector<float>> staging;
  float* input[2] = {nullptr, nullptr};
};

StreamAnalyzer::StreamAnalyzer(int sample_rate, int channels, long long frames,
                               const std::string& backend_choice, long long segment_frames)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.backend = make_backend(backend_choice, &m.notice);
  m.sample_rate = sample_rate;
  m.channels = channels;
  m.frames = frames;
  const long long length = std::max(1LL, frames);
  m.segment =
      std::min(length, segment_frames > 0 ? segment_frames : m.backend->preferred_segment_frames());
  m.hop_frames = meter_hop_frames(sample_rate);
  m.backend->allocate(2, m.segment, 0, 0);
  m.backend->allocate_meters(1, length / m.hop_frames + 2);
  m.k = design_kweighting(sample_rate);
  m.f = design_true_peak_filter(sample_rate);
  m.backend->allocate_spectra(1, spectrum_fft_size(sample_rate));
  m.staging.assign(2, std::vector<float>());
  for (int c = 0; c < channels; ++c) {
    float* h = m.backend->host_slot(c);
    if (!h) {
      m.staging[c].resize((size_t)m.segment);
      h = m.staging[c].data();
    }
    m.input[c] = h;
  }
}

StreamAnalyzer::~StreamAnalyzer() = default;

long long StreamAnalyzer::segment_frames() const {
  return impl_->segment;
}

float* StreamAnalyzer::input(int channel) {
  return impl_->input[channel];
}

void StreamAnalyzer::push(long long len) {
  Impl& m = *impl_;
  m.backend->begin_segment(m.origin, len);
  for (int c = 0; c < m.channels; ++c)
    if (!m.staging[c].empty()) m.backend->upload(c, m.staging[c].data());
  const MeterJob job{0, m.channels > 1 ? 1 : 0, m.channels, 0, 0, m.frames};
  m.backend->meters({job}, m.k, m.f, m.hop_frames, m.origin + len == m.frames, 0, len);
  // A mono signal is its own mid and has no side.
  m.backend->spectra({{0, m.channels > 1 ? 1 : 0, 0}}, 0, len);
  m.origin += len;
}

FileAnalysis StreamAnalyzer::finish(const MeterOptions& options) {
  Impl& m = *impl_;
  FileAnalysis a;
  a.sample_rate = m.sample_rate;
  a.channels = m.channels;
  a.frames = m.frames;
  a.backend = m.backend->name();
  a.backend_notice = m.notice;
  std::vector<MeterState> states;
  std::vector<MeterHop> hops;
  m.backend->read_meters(states, hops);
  meter_finish(states[0], hops.data(), m.channels);
  a.readings = compute_readings(states[0], hops.data(), m.channels, m.sample_rate, options);
  const std::vector<MidSideBins> bins = m.backend->read_spectra();
  a.spectra = stereo_spectra(bins[0].mid, bins[0].side, m.sample_rate);
  return a;
}

namespace {

FileAnalysis analyze(const StemInfo& info, StemReader& reader, const std::string& backend_choice,
                     const MeterOptions& options, long long segment_frames) {
  StreamAnalyzer meter(info.sample_rate, info.channels, info.frames, backend_choice,
                       segment_frames);
  for (long long origin = 0; origin < info.frames; origin += meter.segment_frames()) {
    const long long len = std::min(meter.segment_frames(), info.frames - origin);
    float* out[2] = {meter.input(0), info.channels > 1 ? meter.input(1) : nullptr};
    reader.read(out, len);
    meter.push(len);
  }
  FileAnalysis a = meter.finish(options);
  a.file = info.file;
  return a;
}

}  // namespace

FileAnalysis analyze_file(const std::filesystem::path& file, const std::string& backend,
                          const MeterOptions& options, bool own_lossy) {
  StemInfo info = probe_stem(file, 0, own_lossy);
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
