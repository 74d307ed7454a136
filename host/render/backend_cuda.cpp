// The CUDA backend: the stream arena lives in device memory; jobs are copied to the device
// once per stage call and the launchers of kernels/stages_cuda.cu run them on one stream.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "render/backend.h"

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

class CudaBackend final : public Backend {
 public:
  CudaBackend() { TD_CUDA_CHECK(cudaStreamCreate(&stream_)); }
  ~CudaBackend() override {
    if (work_.data) cudaFree(work_.data);
    if (keep_.data) cudaFree(keep_.data);
    cudaStreamDestroy(stream_);
  }
  std::string name() const override { return "cuda"; }
  // 2^21 frames (44 s at 48 kHz): a launch over a level's jobs then has millions of
  // threads, enough to fill an H100, while a 24-track level stays near 400 MiB.
  long long preferred_segment_frames() const override { return 1 << 21; }

  void allocate(int work_slots, long long segment_frames, int keep_streams,
                long long total_frames) override {
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
  void keep(int slot, int keep) override {
    TD_CUDA_CHECK(cudaMemcpyAsync(keep_.stream(keep) + work_.origin, work_.stream(slot),
                                  sizeof(float) * work_.frames, cudaMemcpyDeviceToDevice, stream_));
  }
  void track_input(const std::vector<TrackInputJob>& jobs,
                   const std::vector<Breakpoint>& points) override {
    cuda::track_input(work_, jobs_track_.upload(jobs, stream_), (int)jobs.size(),
                      points_.upload(points, stream_), stream_);
    check_launch("track_input");
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));  // job buffers are reused by the next call
  }
  void sum(const std::vector<SumJob>& jobs, const std::vector<SumTerm>& terms) override {
    cuda::sum(work_, jobs_sum_.upload(jobs, stream_), (int)jobs.size(),
              terms_.upload(terms, stream_), stream_);
    check_launch("sum");
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void gain(const std::vector<GainJob>& jobs) override {
    cuda::gain(work_, jobs_gain_.upload(jobs, stream_), (int)jobs.size(), stream_);
    check_launch("gain");
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  std::vector<std::vector<double>> kweight_energies(const std::vector<int>& keeps,
                                                    const KWeighting& k,
                                                    long long hop_frames) override {
    const long long hops = (keep_.frames + hop_frames - 1) / hop_frames;
    double* d = energies_.fit(keeps.size() * hops + 1);
    cuda::kweight_energies(keep_, ints_.upload(keeps, stream_), (int)keeps.size(), k, hop_frames, d,
                           stream_);
    check_launch("kweight_energies");
    std::vector<double> flat(keeps.size() * hops);
    TD_CUDA_CHECK(cudaMemcpyAsync(flat.data(), d, sizeof(double) * flat.size(),
                                  cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::vector<std::vector<double>> out(keeps.size());
    for (size_t i = 0; i < keeps.size(); ++i)
      out[i].assign(flat.begin() + i * hops, flat.begin() + (i + 1) * hops);
    return out;
  }
  void peaks(const std::vector<int>& keeps, const TruePeakFilter& f,
             std::vector<float>& sample_peak, std::vector<float>& true_peak) override {
    const int chunks = 1024;
    float* d = partials_.fit(2 * keeps.size() * chunks + 1);
    cuda::peaks(keep_, ints_.upload(keeps, stream_), (int)keeps.size(), f, d,
                d + keeps.size() * chunks, chunks, stream_);
    check_launch("peaks");
    std::vector<float> h(2 * keeps.size() * chunks);
    TD_CUDA_CHECK(
        cudaMemcpyAsync(h.data(), d, sizeof(float) * h.size(), cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
    sample_peak.assign(keeps.size(), 0.0f);
    true_peak.assign(keeps.size(), 0.0f);
    for (size_t i = 0; i < keeps.size(); ++i)
      for (int c = 0; c < chunks; ++c) {
        sample_peak[i] = std::max(sample_peak[i], h[i * chunks + c]);
        true_peak[i] = std::max(true_peak[i], h[(keeps.size() + i) * chunks + c]);
      }
  }
  void deliver_pcm(int left, int right, float gain, uint64_t seed, int bits,
                   std::vector<int32_t>& out) override {
    out.resize(2 * keep_.frames);
    int32_t* d = pcm_.fit(out.size());
    cuda::deliver_pcm(keep_, left, right, gain, seed, bits, d, stream_);
    check_launch("deliver_pcm");
    TD_CUDA_CHECK(cudaMemcpyAsync(out.data(), d, sizeof(int32_t) * out.size(),
                                  cudaMemcpyDeviceToHost, stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void deliver_float(int left, int right, float gain, std::vector<float>& out) override {
    out.resize(2 * keep_.frames);
    float* d = floats_.fit(out.size());
    cuda::deliver_float(keep_, left, right, gain, d, stream_);
    check_launch("deliver_float");
    TD_CUDA_CHECK(cudaMemcpyAsync(out.data(), d, sizeof(float) * out.size(), cudaMemcpyDeviceToHost,
                                  stream_));
    TD_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

 private:
  cudaStream_t stream_ = nullptr;
  StreamArena work_, keep_;
  DeviceBuffer<TrackInputJob> jobs_track_;
  DeviceBuffer<SumJob> jobs_sum_;
  DeviceBuffer<SumTerm> terms_;
  DeviceBuffer<GainJob> jobs_gain_;
  DeviceBuffer<Breakpoint> points_;
  DeviceBuffer<int> ints_;
  DeviceBuffer<double> energies_;
  DeviceBuffer<float> partials_;
  DeviceBuffer<int32_t> pcm_;
  DeviceBuffer<float> floats_;
};

}  // namespace

bool cuda_available(std::string* why) {
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
  std::string why;
  if (!cuda_available(&why)) throw std::runtime_error("--backend cuda: " + why);
  return std::make_unique<CudaBackend>();
}

}  // namespace td
