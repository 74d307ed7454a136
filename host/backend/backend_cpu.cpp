#include <sys/mman.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "backend/backend.h"

namespace td {
namespace {

// Anonymous memory comes zeroed from the kernel as it is first touched. Ask for
// transparent huge pages, which cut the page faults of large arenas 512-fold.
float* map_zeroed(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("out of memory: cannot map " + std::to_string(bytes >> 20) + " MiB");
  madvise(p, bytes, MADV_HUGEPAGE);
  return static_cast<float*>(p);
}

class CpuBackend final : public Backend {
 public:
  ~CpuBackend() override { release(); }
  std::string name() const override { return "cpu"; }
  // 2^18 frames (5.5 s at 48 kHz): a level's working set stays in the tens of MiB, so
  // memory the machine must first hand out stays small, while each OpenMP task (one chunk
  // of one job) still has enough samples to amortise its start.
  long long preferred_segment_frames() const override { return 1 << 18; }

  void allocate(int work_slots, long long segment_frames, int keep_streams,
                long long total_frames) override {
    release();
    // Strides rounded up to 16 floats keep every stream 64-byte aligned for SIMD.
    work_.stride = (segment_frames + 15) / 16 * 16;
    work_.frames = segment_frames;
    work_bytes_ = sizeof(float) * (size_t)work_slots * work_.stride;
    work_.data = map_zeroed(work_bytes_);
    keep_.stride = (total_frames + 15) / 16 * 16;
    keep_.frames = total_frames;
    keep_bytes_ = sizeof(float) * (size_t)keep_streams * keep_.stride;
    keep_.data = map_zeroed(keep_bytes_);
  }
  void begin_segment(long long origin, long long frames) override {
    work_.origin = origin;
    work_.frames = frames;
  }
  float* host_slot(int slot) override { return work_.stream(slot); }
  void upload(int slot, const float* samples) override {
    std::memcpy(work_.stream(slot), samples, sizeof(float) * work_.frames);
  }
  void keep(int slot, int keep, long long delay) override {
    long long b, e;
    job_range(work_.origin, work_.frames, delay, delay + keep_.frames, b, e);
    if (e > b)
      std::memcpy(keep_.stream(keep) + (work_.origin + b - delay), work_.stream(slot) + b,
                  sizeof(float) * (e - b));
  }
  void track_input(const std::vector<TrackInputJob>& jobs,
                   const std::vector<Breakpoint>& points) override {
    cpu::track_input(work_, jobs.data(), (int)jobs.size(), points.data());
  }
  void sum(const std::vector<SumJob>& jobs, const std::vector<SumTerm>& terms) override {
    cpu::sum(work_, jobs.data(), (int)jobs.size(), terms.data());
  }
  void gain(const std::vector<GainJob>& jobs) override {
    cpu::gain(work_, jobs.data(), (int)jobs.size());
  }
  void allocate_fir(long long state_floats, const std::vector<float>& spectra) override {
    fir_states_.assign((size_t)state_floats, 0.0f);
    fir_spectra_ = spectra;
  }
  void fir(const FirShape& shape, const std::vector<FirJob>& jobs) override {
    cpu::fir(work_, jobs.data(), (int)jobs.size(), shape.fft_size, shape.taps, shape.hop,
             fir_spectra_.data(), fir_states_.data());
  }
  void allocate_spectra(int states, int fft_size) override {
    spectra_.clear();
    for (int i = 0; i < states; ++i) spectra_.push_back(make_spectrum(fft_size, 2));
  }
  void spectra(const std::vector<SpectrumJob>& jobs, long long skip, long long frames) override {
#pragma omp parallel for schedule(dynamic, 1)
    for (long long t = 0; t < 2 * (long long)jobs.size(); ++t) {
      const SpectrumJob& job = jobs[t / 2];
      spectrum_add_mid_side(spectra_[job.state], (int)(t % 2), work_.stream(job.left) + skip,
                            work_.stream(job.right) + skip, frames);
    }
  }
  std::vector<MidSideBins> read_spectra() override {
    std::vector<MidSideBins> out(spectra_.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (long long i = 0; i < (long long)spectra_.size(); ++i) {
      spectrum_finish(spectra_[i]);
      out[i] = {spectrum_channel_bins(spectra_[i], 0), spectrum_channel_bins(spectra_[i], 1)};
    }
    return out;
  }
  void allocate_dynamics(const std::vector<CompressorParams>& params, int states,
                         long long ring_floats, long long trace_floats) override {
    comp_params_ = params;
    comp_states_.assign(states, CompressorState{});
    rings_.assign((size_t)ring_floats, 0.0f);
    trace_.assign((size_t)trace_floats, 0.0f);
  }
  void compressor(const std::vector<CompressorJob>& jobs, long long trace_hop_frames) override {
    cpu::compressor(work_, jobs.data(), (int)jobs.size(), comp_params_.data(), comp_states_.data(),
                    rings_.data(), trace_.data(), trace_hop_frames);
  }
  void read_dynamics(std::vector<CompressorState>& states, std::vector<float>& trace) override {
    states = comp_states_;
    trace = trace_;
  }
  void allocate_limiters(const std::vector<LimiterParams>& params, int states,
                         long long ring_floats) override {
    lim_params_ = params;
    lim_states_.assign(states, LimiterState{});
    lim_rings_.assign((size_t)ring_floats, 0.0f);
  }
  void limiter(const std::vector<LimiterJob>& jobs, const TruePeakFilter& f,
               long long trace_hop_frames) override {
    cpu::limiter(work_, jobs.data(), (int)jobs.size(), lim_params_.data(), f, lim_states_.data(),
                 lim_rings_.data(), trace_.data(), trace_hop_frames);
  }
  std::vector<LimiterState> read_limiters() override {
    return lim_states_;
  }
  void allocate_saturation(const std::vector<SaturationParams>& params, int states,
                           long long memory_floats) override {
    sat_params_ = params;
    sat_states_.assign(states, SaturationState{});
    sat_memory_.assign((size_t)memory_floats, 0.0f);
  }
  void saturation(const std::vector<SaturationJob>& jobs) override {
    cpu::saturation(work_, jobs.data(), (int)jobs.size(), sat_params_.data(), sat_states_.data(),
                    sat_memory_.data());
  }
  void allocate_meters(int states, long long hops_per_state) override {
    states_.assign(states, MeterState{});
    hops_.assign((size_t)states * hops_per_state, MeterHop{});
    hops_per_state_ = hops_per_state;
  }
  void meters(const std::vector<MeterJob>& jobs, const KWeighting& k, const TruePeakFilter& f,
              long long hop_frames, bool last_segment, long long skip, long long frames) override {
    StreamArena view = work_;  // the samples to meter, as an arena of their own
    view.data += skip;
    view.origin += skip;
    view.frames = frames;
    cpu::meters(view, jobs.data(), (int)jobs.size(), k, f, hop_frames, last_segment, states_.data(),
                hops_.data(), hops_per_state_);
  }
  void read_meters(std::vector<MeterState>& states, std::vector<MeterHop>& hops) override {
    states = states_;
    hops = hops_;
  }
  void allocate_peaks(int count) override {
    peaks_.assign(count, 0.0f);
  }
  void peak_hold(const std::vector<PeakJob>& jobs) override {
    cpu::peak_hold(work_, jobs.data(), (int)jobs.size(), peaks_.data());
  }
  std::vector<float> read_peaks() override {
    return peaks_;
  }
  void deliver_pcm(int left, int right, float gain, uint64_t seed, int bits, long long frames,
                   std::vector<int32_t>& out) override {
    out.resize(2 * frames);
    cpu::deliver_pcm(keep_, left, right, gain, seed, bits, frames, out.data());
  }
  void deliver_float(int left, int right, float gain, long long frames,
                     std::vector<float>& out) override {
    out.resize(2 * frames);
    cpu::deliver_float(keep_, left, right, gain, frames, out.data());
  }

 private:
  void release() {
    if (work_.data) munmap(work_.data, work_bytes_);
    if (keep_.data) munmap(keep_.data, keep_bytes_);
    work_.data = keep_.data = nullptr;
  }
  StreamArena work_, keep_;
  size_t work_bytes_ = 0, keep_bytes_ = 0;
  std::vector<MeterState> states_;
  std::vector<MeterHop> hops_;
  long long hops_per_state_ = 0;
  std::vector<float> peaks_;
  std::vector<float> fir_states_, fir_spectra_;
  std::vector<CompressorParams> comp_params_;
  std::vector<CompressorState> comp_states_;
  std::vector<LongTermSpectrum> spectra_;
  std::vector<float> rings_, trace_;
  std::vector<LimiterParams> lim_params_;
  std::vector<LimiterState> lim_states_;
  std::vector<float> lim_rings_;
  std::vector<SaturationParams> sat_params_;
  std::vector<SaturationState> sat_states_;
  std::vector<float> sat_memory_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() {
  return std::make_unique<CpuBackend>();
}

std::unique_ptr<Backend> make_backend(const std::string& choice, std::string* notice) {
  if (choice == "cpu") return make_cpu_backend();
  if (choice == "cuda") return make_cuda_backend();
  std::string why;
  if (cuda_available(&why)) return make_cuda_backend();
  if (notice) *notice = "no usable GPU (" + why + "): rendering on the CPU";
  return make_cpu_backend();
}

}  // namespace td
