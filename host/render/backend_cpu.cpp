#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "render/backend.h"

namespace td {
namespace {

class CpuBackend final : public Backend {
 public:
  std::string name() const override { return "cpu"; }

  void allocate(int slots, long long frames) override {
    // Stride rounded up to 16 floats keeps every stream 64-byte aligned for SIMD.
    arena_.frames = frames;
    arena_.stride = (frames + 15) / 16 * 16;
    // calloc: the kernel hands out zero pages lazily, so untouched tails cost nothing.
    storage_.reset(
        static_cast<float*>(std::calloc((size_t)slots * arena_.stride + 16, sizeof(float))));
    if (!storage_)
      throw std::runtime_error("out of memory for " + std::to_string(slots) + " streams");
    auto base = reinterpret_cast<std::uintptr_t>(storage_.get());
    arena_.data = storage_.get() + ((64 - base % 64) % 64) / sizeof(float);
    slots_ = slots;
  }
  float* host_slot(int slot) override { return arena_.stream(slot); }
  void upload(int slot, const float* samples, long long count) override {
    float* dst = arena_.stream(slot);
    std::memcpy(dst, samples, sizeof(float) * count);
    std::memset(dst + count, 0, sizeof(float) * (arena_.frames - count));
  }
  void download(int slot, float* samples) override {
    std::memcpy(samples, arena_.stream(slot), sizeof(float) * arena_.frames);
  }
  void track_input(const std::vector<TrackInputJob>& jobs,
                   const std::vector<Breakpoint>& points) override {
    cpu::track_input(arena_, jobs.data(), (int)jobs.size(), points.data());
  }
  void sum(const std::vector<SumJob>& jobs, const std::vector<int>& sources) override {
    cpu::sum(arena_, jobs.data(), (int)jobs.size(), sources.data());
  }
  void gain(const std::vector<GainJob>& jobs) override {
    cpu::gain(arena_, jobs.data(), (int)jobs.size());
  }
  std::vector<std::vector<double>> kweight_energies(const std::vector<int>& streams,
                                                    const KWeighting& k,
                                                    long long hop_frames) override {
    const long long hops = (arena_.frames + hop_frames - 1) / hop_frames;
    std::vector<double> flat(streams.size() * hops);
    cpu::kweight_energies(arena_, streams.data(), (int)streams.size(), k, hop_frames, flat.data());
    std::vector<std::vector<double>> out(streams.size());
    for (size_t i = 0; i < streams.size(); ++i)
      out[i].assign(flat.begin() + i * hops, flat.begin() + (i + 1) * hops);
    return out;
  }
  void peaks(const std::vector<int>& streams, const TruePeakFilter& f,
             std::vector<float>& sample_peak, std::vector<float>& true_peak) override {
    sample_peak.resize(streams.size());
    true_peak.resize(streams.size());
    cpu::peaks(arena_, streams.data(), (int)streams.size(), f, sample_peak.data(),
               true_peak.data());
  }
  void deliver_pcm(int left, int right, float gain, uint64_t seed, int bits,
                   std::vector<int32_t>& out) override {
    out.resize(2 * arena_.frames);
    cpu::deliver_pcm(arena_, left, right, gain, seed, bits, out.data());
  }
  void deliver_float(int left, int right, float gain, std::vector<float>& out) override {
    out.resize(2 * arena_.frames);
    cpu::deliver_float(arena_, left, right, gain, out.data());
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> storage_;
  StreamArena arena_;
  int slots_ = 0;
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
