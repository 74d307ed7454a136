// A Backend runs the batched stages over a planar float32 stream arena it owns. The
// executor describes each stage as plain jobs (kernels/mix.h) and calls one method per
// stage type and graph level; the CPU and CUDA backends run the same TD_HD math.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../../kernels/stages.h"

namespace td {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Allocates `slots` streams of `frames` samples, all zero.
  virtual void allocate(int slots, long long frames) = 0;
  // Host-visible memory of a slot where decoding may write directly (CPU), else nullptr.
  virtual float* host_slot(int slot) = 0;
  virtual void upload(int slot, const float* samples, long long count) = 0;  // rest zeroed
  virtual void download(int slot, float* samples) = 0;

  virtual void track_input(const std::vector<TrackInputJob>& jobs,
                           const std::vector<Breakpoint>& points) = 0;
  virtual void sum(const std::vector<SumJob>& jobs, const std::vector<SumTerm>& terms) = 0;
  virtual void gain(const std::vector<GainJob>& jobs) = 0;
  // Per stream, the K-weighted sum of squares of every hop: [stream][hop].
  virtual std::vector<std::vector<double>> kweight_energies(const std::vector<int>& streams,
                                                            const KWeighting& k,
                                                            long long hop_frames) = 0;
  virtual void peaks(const std::vector<int>& streams, const TruePeakFilter& f,
                     std::vector<float>& sample_peak, std::vector<float>& true_peak) = 0;
  // Interleaved stereo output of a pair of streams at `gain`.
  virtual void deliver_pcm(int left, int right, float gain, uint64_t seed, int bits,
                           std::vector<int32_t>& out) = 0;
  virtual void deliver_float(int left, int right, float gain, std::vector<float>& out) = 0;
};

std::unique_ptr<Backend> make_cpu_backend();

// True when this build has the CUDA backend and a device answers; otherwise `why` says
// what is missing (no toolkit at build time, or the runtime's error text).
bool cuda_available(std::string* why);
// Throws std::runtime_error with the reason when CUDA is unavailable.
std::unique_ptr<Backend> make_cuda_backend();

// "cpu", "cuda" or "auto" (CUDA when available, else the CPU with `notice` set).
std::unique_ptr<Backend> make_backend(const std::string& choice, std::string* notice);

}  // namespace td
