#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "render/backend.h"

namespace td {
namespace {

class CpuBackend final : public Backend {
 public:
  ~CpuBackend() override { release(); }
  std::string name() const override { return "cpu"; }

  void allocate(int slots, long long frames) override {
    // Stride rounded up to 16 floats keeps every stream 64-byte aligned for SIMD.
    arena_.frames = frames;
    arena_.stride = (frames + 15) / 16 * 16;
    // Anonymous memory comes zeroed from the kernel, page by page as it is first touched.
    // A 4-minute session touches gigabytes: with 4 KiB pages that is a million page faults
    // (measured: more system time than the mixing itself), so ask for transparent huge
    // pages, which cut the faults 512-fold where the kernel allows them.
    release();
    bytes_ = sizeof(float) * (size_t)slots * arena_.stride;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      bytes_ = 0;
      throw std::runtime_error("out of memory for " + std::to_string(slots) + " streams of " +
                               std::to_string(frames) + " samples");
    }
    madvise(p, bytes_, MADV_HUGEPAGE);
    arena_.data = static_cast<float*>(p);
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
  void sum(const std::vector<SumJob>& jobs, const std::vector<SumTerm>& terms) override {
    cpu::sum(arena_, jobs.data(), (int)jobs.size(), terms.data());
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
  void release() {
    if (arena_.data) munmap(arena_.data, bytes_);
    arena_.data = nullptr;
  }
  StreamArena arena_;
  size_t bytes_ = 0;
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
