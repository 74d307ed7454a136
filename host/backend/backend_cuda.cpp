// The CUDA backend: the stream arena lives in device memory; jobs are copied to the device
// once per stage call and the launchers of kernels/stages_cuda.cu run them on one stream.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "backend/backend.h"
#include "kernels/launch_policy.h"

namespace td {
namespace {

void check(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in ") + what + " (" + file + ":" +
                             std::to_string(line) + "): " + cudaGetErrorString(e));
}
#define TD_CUDA_CHECK(call) check((call), #call, __FILE__, __LINE__)

void check_launch(const char* what) {
  if (const char* e = cuda::last_error())
    throw std::runtime_error(std::string("CUDA launch of ") + what + " failed: " + e);
}

// A device buffer that grows as needed and is reused across stage calls.
template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t capacity = 0;
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  T* fit(size_t count) {
    if (count > capacity) {
      if (ptr) TD_CUDA_CHECK(cudaFree(ptr));
      ptr = nullptr;
      TD_CUDA_CHECK(cudaMalloc(&ptr, sizeof(T) * count));
      capacity = count;
    }
    return ptr;
  }
  T* upload(const std::vector<T>& v, cudaStream_t s) {
    T* p = fit(v.empty() ? 1 : v.size());
    if (!v.empty())
      TD_CUDA_CHECK(cudaMemcpyAsync(p, v.data(), sizeof(T) * v.size(), cudaMemcpyHostToDevice, s));
    return p;
  }
};

// The job lists of a launch on the device, uploaded once: the renderer's lists are the same
// in every segment, so each is kept under its host address and uploaded again only when its
// bytes differ. The upload is a synchronous copy: it also waits for the kernels queued on
// the stream that may still read the list it replaces. Stage calls therefore need no
// synchronisation of their own; the stream keeps their order.
class JobCache {
 public:
  ~JobCache() { clear(); }
  template <class T>
  const T* get(const std::vector<T>& v) {
    const size_t bytes = sizeof(T) * v.size();
    if (entries_.size() >= kMaxEntries) clear();  // lists made afresh each segment
    Entry& e = entries_[{static_cast<const void*>(v.data()), typeid(T).hash_code()}];
    if (e.host.size() == bytes && (bytes == 0 || std::memcmp(e.host.data(), v.data(), bytes) == 0))
      return static_cast<const T*>(e.device);
    if (e.capacity < bytes || !e.device) {
      if (e.device) TD_CUDA_CHECK(cudaFree(e.device));
      e.device = nullptr;
      TD_CUDA_CHECK(cudaMalloc(&e.device, std::max<size_t>(1, bytes)));
      e.capacity = std::max<size_t>(1, bytes);
    }
    if (bytes) TD_CUDA_CHECK(cudaMemcpy(e.device, v.data(), bytes, cudaMemcpyHostToDevice));
    e.host.assign(reinterpret_cast<const unsigned char*>(v.data()),
                  reinterpret_cast<const unsigned char*>(v.data()) + bytes);
    return static_cast<const T*>(e.device);
  }
  void clear() {
    for (auto& [key, e] : entries_)
      if (e.device) cudaFree(e.device);
    entries_.clear();
  }

 private:
  static constexpr size_t kMaxEntries = 4096;
  struct Entry {
    void* device = nullptr;
    size_t capacity = 0;
    std::vector<unsigned char> host;
  };
  std::map<std::pair<const void*, size_t>, Entry> entries_;
};

// One stateful stage's storage (Backend::allocate_stage) in device memory, with a host
// copy of its parameters (the chunked compressor plans from them; the utility sizes its
// scratch lines).
struct DeviceStage {
  DeviceBuffer<unsigned char> params, states;
  DeviceBuffer<float> memory;
  std::vector<unsigned char> host_params;
  size_t state_bytes = 0;
  template <class T>
  const T* params_as() const {
    return reinterpret_cast<const T*>(params.ptr);
  }
  template <class T>
  T* states_as() {
    return reinterpret_cast<T*>(states.ptr);
  }
};

class CudaBackend final : public Backend {
 public:
  CudaBackend() { TD_CUDA_CHECK(cudaStreamCreate(&stream_)); }
  ~CudaBackend() override {
    cudaStreamSynchronize(stream_);
    cuda::release_fft_plans();
    cuda::release_scratch();
    if (work_.data) cudaFree(work_.data);
    if (keep_.data) cudaFree(keep_.data);
    cudaStreamDestroy(stream_);
  }
  std::string name() const override { return "cuda"; }
  long long preferred_segment_frames() const override { return kGpuSegmentFrames; }

  void allocate(int work_slots, long long segment_frames, int keep_streams,
                long long total_frames) override {
    jobs_cache_.clear();  // a new launch: new job lists
    auto alloc = [&](StreamArena& a, int streams, long long frames) {
      if (a.data) TD_CUDA_CHECK(cudaFree(a.data));
      a.data = nullptr;
      a.frames = frames;
      a.stride = (frames + 63) / 64 * 64;  // 256-byte aligned streams: coalesced access
      const size_t bytes = sizeof(float) * (size_t)std::max(1, streams) * a.stride;
      TD_CUDA_CHECK(cudaMalloc(&a.data, bytes));
      TD_CUDA_CHECK(cudaMemsetAsync(a.data, 0, bytes, stream_));
    };
    alloc(work_, work_slots, segment_frames);
    alloc(keep_, keep_streams, total_frames);
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void begin_segment(long long origin, long long frames) override {
    work_.origin = origin;
    work_.frames = frames;
  }
  float* host_slot(int) override { return nullptr; }
  void upload(int slot, const float* samples) override {
    TD_CUDA_CHECK(cudaMemcpyAsync(work_.stream(slot), samples, sizeof(float) * work_.frames,
                                  cudaMemcpyHostToDevice, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));  // `samples` may be reused on return
  }
  void keep(int slot, int keep, long long delay) override {
    long long b, e;
    job_range(work_.origin, work_.frames, delay, delay + keep_.frames, b, e);
    if (e > b)
      TD_CUDA_CHECK(cudaMemcpyAsync(keep_.stream(keep) + (work_.origin + b - delay),
                                    work_.stream(slot) + b, sizeof(float) * (e - b),
                                    cudaMemcpyDeviceToDevice, stream_));
  }
  void allocate_fir(long long state_floats, const std::vector<float>& spectra) override {
    float* st = fir_states_.fit((size_t)std::max(1LL, state_floats));
    TD_CUDA_CHECK(
        cudaMemsetAsync(st, 0, sizeof(float) * (size_t)std::max(1LL, state_floats), stream_));
    fir_spectra_.upload(spectra, stream_);
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void allocate_spectra(int states, int fft_size) override {
    const LongTermSpectrum shape = make_spectrum(fft_size, 0);  // the window
    spec_fft_size_ = fft_size;
    spec_window_power_ = shape.window_power;
    spec_window_.upload(shape.window, stream_);
    const size_t slots = 2 * (size_t)std::max(1, states);
    float* pending = spec_pending_.fit(slots * fft_size);
    double* power = spec_power_.fit(slots * (fft_size / 2 + 1));
    TD_CUDA_CHECK(cudaMemsetAsync(pending, 0, sizeof(float) * slots * fft_size, stream_));
    TD_CUDA_CHECK(cudaMemsetAsync(power, 0, sizeof(double) * slots * (fft_size / 2 + 1), stream_));
    spec_pending_len_.assign(2 * (size_t)states, 0);
    spec_frames_.assign(2 * (size_t)states, 0);
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void spectra(const std::vector<SpectrumJob>& jobs, long long skip, long long frames) override {
    StreamArena view = work_;
    cuda::spectra(view, jobs.data(), (int)jobs.size(), skip, frames, spec_fft_size_,
                  spec_window_.ptr, spec_pending_.ptr, spec_pending_len_.data(), spec_power_.ptr,
                  spec_frames_.data(), stream_);
    check_launch("spectra");
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  std::vector<MidSideBins> read_spectra() override {
    const int n = spec_fft_size_, nbins = n / 2 + 1;
    const size_t slots = spec_frames_.size();
    std::vector<double> power(slots * nbins);
    if (slots)
      TD_CUDA_CHECK(cudaMemcpy(power.data(), spec_power_.ptr, sizeof(double) * power.size(),
                               cudaMemcpyDeviceToHost));
    std::vector<std::vector<double>> bins(slots);
    for (size_t slot = 0; slot < slots; ++slot) {
      std::vector<double> p(power.begin() + slot * nbins, power.begin() + (slot + 1) * nbins);
      long long frames = spec_frames_[slot];
      if (frames == 0) {  // shorter than a frame: the pending samples, zero-padded, once
        LongTermSpectrum one = make_spectrum(n, 1);
        std::vector<float> pending(n, 0.0f);
        TD_CUDA_CHECK(cudaMemcpy(pending.data(), spec_pending_.ptr + slot * n,
                                 sizeof(float) * spec_pending_len_[slot], cudaMemcpyDeviceToHost));
        spectrum_add_channel(one, 0, pending.data(), spec_pending_len_[slot]);
        spectrum_finish(one);
        p = one.channels[0].power;
        frames = one.channels[0].frames_analysed;
      }
      bins[slot] = mean_square_bins(p, frames, n, spec_window_power_);
    }
    std::vector<MidSideBins> out(slots / 2);
    for (size_t s = 0; s < out.size(); ++s)
      out[s] = {std::move(bins[2 * s]), std::move(bins[2 * s + 1])};
    return out;
  }
  void allocate_stage(StageKind kind, const void* params, size_t param_bytes, size_t state_bytes,
                      long long memory_floats) override {
    DeviceStage& m = stages_[(int)kind];
    const auto* p = static_cast<const unsigned char*>(params);
    m.host_params.assign(p, p + param_bytes);
    m.params.upload(m.host_params, stream_);
    m.state_bytes = state_bytes;
    unsigned char* st = m.states.fit(std::max<size_t>(1, state_bytes));
    float* mem = m.memory.fit((size_t)std::max(1LL, memory_floats));
    TD_CUDA_CHECK(cudaMemsetAsync(st, 0, std::max<size_t>(1, state_bytes), stream_));
    TD_CUDA_CHECK(
        cudaMemsetAsync(mem, 0, sizeof(float) * (size_t)std::max(1LL, memory_floats), stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));  // host_params may be replaced next call
  }
  std::vector<unsigned char> read_stage_states(StageKind kind) override {
    DeviceStage& m = stages_[(int)kind];
    std::vector<unsigned char> out(m.state_bytes);
    if (!out.empty()) {
      TD_CUDA_CHECK(
          cudaMemcpyAsync(out.data(), m.states.ptr, out.size(), cudaMemcpyDeviceToHost, stream_));
      TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    return out;
  }
  void allocate_traces(long long floats) override {
    trace_count_ = floats;
    float* t = trace_.fit((size_t)std::max(1LL, floats));
    TD_CUDA_CHECK(cudaMemsetAsync(t, 0, sizeof(float) * (size_t)std::max(1LL, floats), stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  std::vector<float> read_traces() override {
    std::vector<float> out((size_t)trace_count_);
    if (!out.empty()) {
      TD_CUDA_CHECK(cudaMemcpyAsync(out.data(), trace_.ptr, sizeof(float) * out.size(),
                                    cudaMemcpyDeviceToHost, stream_));
      TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    return out;
  }
  void compressor(const std::vector<CompressorJob>& jobs, long long trace_hop_frames) override {
    if (jobs.empty()) return;
    DeviceStage& m = stages_[(int)StageKind::kCompressor];
    cuda::compressor(work_, jobs_cache_.get(jobs), jobs.data(), (int)jobs.size(),
                     m.params_as<CompressorParams>(),
                     reinterpret_cast<const CompressorParams*>(m.host_params.data()),
                     m.states_as<CompressorState>(), m.memory.ptr, trace_.ptr, trace_hop_frames, 0,
                     stream_);
    check_launch("compressor");
  }
  void limiter(const std::vector<LimiterJob>& jobs, const TruePeakFilter& f,
               long long trace_hop_frames) override {
    if (jobs.empty()) return;
    DeviceStage& m = stages_[(int)StageKind::kLimiter];
    cuda::limiter(
        work_, jobs_cache_.get(jobs), jobs.data(), (int)jobs.size(), m.params_as<LimiterParams>(),
        reinterpret_cast<const LimiterParams*>(m.host_params.data()), f,
        m.states_as<LimiterState>(), m.memory.ptr, trace_.ptr, trace_hop_frames, 0, stream_);
    check_launch("limiter");
  }
  void saturation(const std::vector<SaturationJob>& jobs) override {
    if (jobs.empty()) return;
    DeviceStage& m = stages_[(int)StageKind::kSaturation];
    cuda::saturation(work_, jobs_cache_.get(jobs), jobs.data(), (int)jobs.size(),
                     m.params_as<SaturationParams>(),
                     reinterpret_cast<const SaturationParams*>(m.host_params.data()),
                     m.states_as<SaturationState>(), m.memory.ptr, stream_);
    check_launch("saturation");
  }
  void utility(const std::vector<UtilityJob>& jobs) override {
    if (jobs.empty()) return;
    DeviceStage& m = stages_[(int)StageKind::kUtility];
    const auto* host = reinterpret_cast<const UtilityParams*>(m.host_params.data());
    int history = 0;
    for (const UtilityJob& j : jobs) history = std::max(history, host[j.params].history);
    const long long stride = history + work_.frames;
    float* line = utility_lines_.fit(2 * jobs.size() * (size_t)stride);
    cuda::utility(work_, jobs_cache_.get(jobs), (int)jobs.size(), m.params_as<UtilityParams>(),
                  m.memory.ptr, line, stride, stream_);
    check_launch("utility");
  }
  void console(const std::vector<ConsoleJob>& jobs) override {
    if (jobs.empty()) return;
    DeviceStage& m = stages_[(int)StageKind::kConsole];
    cuda::console(work_, jobs_cache_.get(jobs), (int)jobs.size(), m.params_as<ConsoleParams>(),
                  m.memory.ptr, stream_);
    check_launch("console");
  }
  void fir(const FirShape& shape, const std::vector<FirJob>& jobs) override {
    if (jobs.empty()) return;
    const long long fill = work_.origin % shape.hop;
    const long long batch = (long long)jobs.size() * ((fill + work_.frames) / shape.hop);
    float* scratch = fir_scratch_.fit((size_t)std::max(1LL, batch) * shape.fft_size);
    float* bins = fir_bins_.fit((size_t)std::max(1LL, batch) * (shape.fft_size / 2 + 1) * 2);
    float* next = fir_next_.fit(jobs.size() * (size_t)shape.fft_size);
    cuda::fir(work_, jobs_cache_.get(jobs), (int)jobs.size(), shape.fft_size, shape.taps, shape.hop,
              fir_spectra_.ptr, fir_states_.ptr, scratch, bins, next, stream_);
    check_launch("fir");
  }
  void track_input(const std::vector<TrackInputJob>& jobs,
                   const std::vector<Breakpoint>& points) override {
    cuda::track_input(work_, jobs_cache_.get(jobs), (int)jobs.size(), jobs_cache_.get(points),
                      stream_);
    check_launch("track_input");
  }
  void sum(const std::vector<SumJob>& jobs, const std::vector<SumTerm>& terms) override {
    cuda::sum(work_, jobs_cache_.get(jobs), (int)jobs.size(), jobs_cache_.get(terms), stream_);
    check_launch("sum");
  }
  void gain(const std::vector<GainJob>& jobs) override {
    cuda::gain(work_, jobs_cache_.get(jobs), (int)jobs.size(), stream_);
    check_launch("gain");
  }
  void allocate_meters(int states, long long hops_per_state) override {
    state_count_ = states;
    hops_per_state_ = hops_per_state;
    MeterState* st = states_.fit((size_t)std::max(1, states));
    MeterHop* h = hops_.fit((size_t)std::max(1, states) * hops_per_state);
    TD_CUDA_CHECK(cudaMemsetAsync(st, 0, sizeof(MeterState) * std::max(1, states), stream_));
    TD_CUDA_CHECK(
        cudaMemsetAsync(h, 0, sizeof(MeterHop) * std::max(1, states) * hops_per_state, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void meters(const std::vector<MeterJob>& jobs, const KWeighting& k, const TruePeakFilter& f,
              long long hop_frames, bool last_segment, long long skip, long long frames) override {
    const int chunks = kCudaMeterChunks;
    float* partial = partials_.fit(2 * std::min<size_t>(jobs.size(), 32767) * chunks + 1);
    StreamArena view = work_;  // the samples to meter, as an arena of their own
    view.data += skip;
    view.origin += skip;
    view.frames = frames;
    cuda::meters(view, jobs_cache_.get(jobs), (int)jobs.size(), k, f, hop_frames, last_segment,
                 states_.ptr, hops_.ptr, hops_per_state_, partial, chunks, stream_);
    check_launch("meters");
  }
  void allocate_peaks(int count) override {
    peak_count_ = count;
    float* p = peaks_.fit((size_t)std::max(1, count));
    TD_CUDA_CHECK(cudaMemsetAsync(p, 0, sizeof(float) * std::max(1, count), stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void peak_hold(const std::vector<PeakJob>& jobs) override {
    if (jobs.empty()) return;
    const int chunks = kCudaPeakChunks;
    float* partial = partials_.fit((size_t)std::min<size_t>(jobs.size(), 65535) * chunks + 1);
    cuda::peak_hold(work_, jobs_cache_.get(jobs), (int)jobs.size(), peaks_.ptr, partial, chunks,
                    stream_);
    check_launch("peak_hold");
  }
  std::vector<float> read_peaks() override {
    std::vector<float> out(peak_count_);
    if (peak_count_ > 0) {
      TD_CUDA_CHECK(cudaMemcpyAsync(out.data(), peaks_.ptr, sizeof(float) * out.size(),
                                    cudaMemcpyDeviceToHost, stream_));
      TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    return out;
  }
  void read_meters(std::vector<MeterState>& states, std::vector<MeterHop>& hops) override {
    states.resize(state_count_);
    hops.resize((size_t)state_count_ * hops_per_state_);
    TD_CUDA_CHECK(cudaMemcpyAsync(states.data(), states_.ptr, sizeof(MeterState) * states.size(),
                                  cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaMemcpyAsync(hops.data(), hops_.ptr, sizeof(MeterHop) * hops.size(),
                                  cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  // The delivery limiter is one recurrence over the whole song (docs/architecture.md: not
  // chunked yet), one thread's work: it runs on the host over the kept pair, read back a
  // range at a time.
  void read_keep(int stream, long long begin, long long frames, float* out) override {
    TD_CUDA_CHECK(cudaMemcpyAsync(out, keep_.stream(stream) + begin, sizeof(float) * frames,
                                  cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void deliver_pcm(int left, int right, float gain, uint64_t seed, int bits, long long begin,
                   long long frames, int32_t* out) override {
    int32_t* d = pcm_.fit(2 * (size_t)frames + 1);
    cuda::deliver_pcm(keep_, left, right, gain, seed, bits, begin, begin, frames, d, stream_);
    check_launch("deliver_pcm");
    TD_CUDA_CHECK(
        cudaMemcpyAsync(out, d, sizeof(int32_t) * 2 * frames, cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void deliver_float(int left, int right, float gain, long long begin, long long frames,
                     float* out) override {
    float* d = floats_.fit(2 * (size_t)frames + 1);
    cuda::deliver_float(keep_, left, right, gain, begin, frames, d, stream_);
    check_launch("deliver_float");
    TD_CUDA_CHECK(
        cudaMemcpyAsync(out, d, sizeof(float) * 2 * frames, cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

 private:
  cudaStream_t stream_ = nullptr;
  JobCache jobs_cache_;
  StreamArena work_, keep_;
  DeviceBuffer<float> peaks_;
  int peak_count_ = 0;
  DeviceBuffer<MeterState> states_;
  DeviceBuffer<MeterHop> hops_;
  int state_count_ = 0;
  long long hops_per_state_ = 0;
  DeviceBuffer<float> partials_;
  DeviceBuffer<int32_t> pcm_;
  DeviceBuffer<float> floats_;
  DeviceBuffer<float> spec_window_, spec_pending_;
  DeviceBuffer<double> spec_power_;
  std::vector<long long> spec_pending_len_, spec_frames_;
  int spec_fft_size_ = 0;
  double spec_window_power_ = 0.0;
  DeviceBuffer<float> trace_;
  long long trace_count_ = 0;
  DeviceBuffer<float> utility_lines_;
  DeviceStage stages_[kStageKinds];
  DeviceBuffer<float> fir_states_, fir_spectra_, fir_scratch_, fir_bins_, fir_next_;
};

}  // namespace

bool cuda_available(std::string* why) {
#if defined(TOPDOWN_CUDA_EMU)
  // The emulated device is for tests: never chosen by --backend auto.
  if (why) *why = "this is the emulated-device build (tests/emu); --backend cuda selects it";
  return false;
#endif
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  // Without a driver the runtime returns an error (e.g. 35, insufficient driver) rather
  // than zero devices: any error means "no GPU".
  if (e != cudaSuccess) {
    if (why) *why = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e);
    cudaGetLastError();
    return false;
  }
  if (count == 0) {
    if (why) *why = "no CUDA device found";
    return false;
  }
  return true;
}

std::unique_ptr<Backend> make_cuda_backend() {
#if !defined(TOPDOWN_CUDA_EMU)
  std::string why;
  if (!cuda_available(&why)) throw std::runtime_error("--backend cuda: " + why);
#endif
  return std::make_unique<CudaBackend>();
}

}  // namespace td
