#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "backend/backend.h"
#include "backend/prefault.h"
#include "base/input_error.h"
#include "kernels/launch_policy.h"

namespace td {
namespace {

// An arena: a private anonymous mapping and its size.
struct Mapping {
  float* data = nullptr;
  size_t bytes = 0;
};

// Arenas a finished launch hands back, kept for the next launch of the process (a batch
// renders launch after launch, a staged render pass after pass). Memory the kernel has not
// handed out lately is slow to touch the first time on the virtual machines topdown runs
// on (about 5 s per GiB on the 2-core bench machine; huge pages freed by a launch count as
// such within seconds), where zeroing a kept arena again costs 0.04 s per GiB. Work arenas
// (a segment of every slot) and keep arenas (whole masters) wait apart, at most kRetained
// of each kind: a launch whose work arena outgrew the last took a waiting keep arena for
// it, and then mapped its keep arena fresh. One too small for the next request of its kind
// is unmapped instead.
enum class ArenaKind { kWork, kKeep };
constexpr size_t kRetained = 2;
std::mutex retained_mutex;
std::vector<Mapping> retained[2];

// Zeroed memory of at least `bytes`: a waiting arena of the kind zeroed again, or a fresh
// mapping (zeroed by the kernel as it is first touched) with transparent huge pages, which
// cut the page faults of large arenas 512-fold.
Mapping take_zeroed(size_t bytes, ArenaKind kind) {
  if (bytes == 0) return {};
  {
    std::lock_guard<std::mutex> lock(retained_mutex);
    std::vector<Mapping>& waiting = retained[(int)kind];
    int best = -1;
    for (size_t i = 0; i < waiting.size(); ++i)
      if (waiting[i].bytes >= bytes && (best < 0 || waiting[i].bytes < waiting[best].bytes))
        best = (int)i;
    if (best >= 0) {
      const Mapping m = waiting[best];
      waiting.erase(waiting.begin() + best);
      std::memset(m.data, 0, bytes);
      return m;
    }
    // None fits: the waiting ones are smaller than what launches now need.
    for (const Mapping& m : waiting) munmap(m.data, m.bytes);
    waiting.clear();
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error("out of memory: cannot map " + std::to_string(bytes >> 20) + " MiB");
  madvise(p, bytes, MADV_HUGEPAGE);
  return {static_cast<float*>(p), bytes};
}

void give_back(const Mapping& m, ArenaKind kind) {
  if (!m.data) return;
  std::lock_guard<std::mutex> lock(retained_mutex);
  std::vector<Mapping>& waiting = retained[(int)kind];
  waiting.push_back(m);
  if (waiting.size() > kRetained) {  // the smallest goes
    auto smallest =
        std::min_element(waiting.begin(), waiting.end(),
                         [](const Mapping& a, const Mapping& b) { return a.bytes < b.bytes; });
    munmap(smallest->data, smallest->bytes);
    waiting.erase(smallest);
  }
}

// A zeroed mapping of a file in `dir` that exists only while mapped: created, unlinked at
// once (nothing is left behind, whatever stops the process), its space reserved (a full
// disk is an error here, not a SIGBUS at the thousandth write).
float* map_spill_file(const std::filesystem::path& dir, size_t bytes) {
  if (bytes == 0) return nullptr;
  std::string path = (dir / ".topdown-keep-XXXXXX").string();
  const int fd = mkstemp(path.data());
  if (fd < 0)
    throw InputError(dir.string() + ": cannot create a file to keep the masters in (" +
                     std::strerror(errno) + ")");
  unlink(path.c_str());
  const int err = posix_fallocate(fd, 0, (off_t)bytes);
  if (err != 0) {
    close(fd);
    throw InputError(dir.string() + ": no room to keep the masters on disk (" +
                     std::to_string(bytes >> 20) + " MiB: " + std::strerror(err) + ")");
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED)
    throw std::runtime_error("cannot map the kept masters' file (" + std::to_string(bytes >> 20) +
                             " MiB)");
  return static_cast<float*>(p);
}

// Drops the whole pages of [from, to) from a file mapping: its data stays in the file (and
// the page cache, which the kernel may reclaim), no longer in this process's memory.
void release_pages(const float* from, const float* to) {
  const uintptr_t page = 4096;
  const uintptr_t b = (reinterpret_cast<uintptr_t>(from)) / page * page;
  const uintptr_t e = (reinterpret_cast<uintptr_t>(to)) / page * page;
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

// One stateful stage's storage (Backend::allocate_stage), as bytes and floats.
struct StageMemory {
  std::vector<unsigned char> params, states;
  std::vector<float> memory;
  template <class T>
  const T* params_as() const {
    return reinterpret_cast<const T*>(params.data());
  }
  template <class T>
  T* states_as() {
    return reinterpret_cast<T*>(states.data());
  }
};

class CpuBackend final : public Backend {
 public:
  ~CpuBackend() override { release(); }
  std::string name() const override { return "cpu"; }
  long long preferred_segment_frames() const override { return kCpuSegmentFrames; }

  void allocate(int work_slots, long long segment_frames, int keep_streams,
                long long total_frames) override {
    release();
    // Strides rounded up to 16 floats keep every stream 64-byte aligned for SIMD.
    work_.stride = (segment_frames + 15) / 16 * 16;
    work_.frames = segment_frames;
    work_map_ = take_zeroed(sizeof(float) * (size_t)work_slots * work_.stride, ArenaKind::kWork);
    work_.data = work_map_.data;
    keep_.stride = (total_frames + 15) / 16 * 16;
    keep_.frames = total_frames;
    const size_t keep_bytes = sizeof(float) * (size_t)keep_streams * keep_.stride;
    if (spill_dir_.empty())
      keep_map_ = take_zeroed(keep_bytes, ArenaKind::kKeep);
    else
      spill_map_ = {map_spill_file(spill_dir_, keep_bytes), keep_bytes};
    keep_.data = spill_dir_.empty() ? keep_map_.data : spill_map_.data;
    prefault_.start(keep_.data, keep_streams, keep_.stride, keep_.frames, segment_frames);
  }
  void spill_keep_to(const std::filesystem::path& dir) override { spill_dir_ = dir; }
  void begin_segment(long long origin, long long frames) override {
    work_.origin = origin;
    work_.frames = frames;
    prefault_.ahead_of(origin, frames);
  }
  float* host_slot(int slot) override { return work_.stream(slot); }
  void upload(int slot, const float* samples) override {
    std::memcpy(work_.stream(slot), samples, sizeof(float) * work_.frames);
  }
  void keep(int slot, int keep, long long delay) override {
    long long b, e;
    job_range(work_.origin, work_.frames, delay, delay + keep_.frames, b, e);
    if (e <= b) return;
    float* to = keep_.stream(keep) + (work_.origin + b - delay);
    const float* from = work_.stream(slot) + b;
    // On all cores: the first touch of the keep arena's pages (the kernel zeroing them)
    // costs more than the copy, a third of a plain batch's time when done on one.
    const long long n = e - b, piece = 1 << 15;
#pragma omp parallel for schedule(static) if (n > piece)
    for (long long i = 0; i < n; i += piece)
      std::memcpy(to + i, from + i, sizeof(float) * std::min(piece, n - i));
    if (!spill_dir_.empty()) release_pages(to, to + (e - b));
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
  void allocate_stage(StageKind kind, const void* params, size_t param_bytes, size_t state_bytes,
                      long long memory_floats) override {
    StageMemory& m = stages_[(int)kind];
    const auto* p = static_cast<const unsigned char*>(params);
    m.params.assign(p, p + param_bytes);
    m.states.assign(state_bytes, 0);
    m.memory.assign((size_t)memory_floats, 0.0f);
  }
  std::vector<unsigned char> read_stage_states(StageKind kind) override {
    return stages_[(int)kind].states;
  }
  void allocate_traces(long long floats) override {
    trace_.assign((size_t)floats, 0.0f);
  }
  std::vector<float> read_traces() override {
    return trace_;
  }
  void compressor(const std::vector<CompressorJob>& jobs, long long trace_hop_frames) override {
    StageMemory& m = stages_[(int)StageKind::kCompressor];
    cpu::compressor(work_, jobs.data(), (int)jobs.size(), m.params_as<CompressorParams>(),
                    m.states_as<CompressorState>(), m.memory.data(), trace_.data(),
                    trace_hop_frames);
  }
  void limiter(const std::vector<LimiterJob>& jobs, const TruePeakFilter& f,
               long long trace_hop_frames) override {
    StageMemory& m = stages_[(int)StageKind::kLimiter];
    cpu::limiter(work_, jobs.data(), (int)jobs.size(), m.params_as<LimiterParams>(), f,
                 m.states_as<LimiterState>(), m.memory.data(), trace_.data(), trace_hop_frames);
  }
  void saturation(const std::vector<SaturationJob>& jobs) override {
    StageMemory& m = stages_[(int)StageKind::kSaturation];
    cpu::saturation(work_, jobs.data(), (int)jobs.size(), m.params_as<SaturationParams>(),
                    m.states_as<SaturationState>(), m.memory.data());
  }
  void utility(const std::vector<UtilityJob>& jobs) override {
    StageMemory& m = stages_[(int)StageKind::kUtility];
    cpu::utility(work_, jobs.data(), (int)jobs.size(), m.params_as<UtilityParams>(),
                 m.memory.data());
  }
  void console(const std::vector<ConsoleJob>& jobs) override {
    StageMemory& m = stages_[(int)StageKind::kConsole];
    cpu::console(work_, jobs.data(), (int)jobs.size(), m.params_as<ConsoleParams>(),
                 m.memory.data());
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
  void read_keep(int stream, long long begin, long long frames, float* out) override {
    const float* from = keep_.stream(stream) + begin;
    std::copy(from, from + frames, out);
    if (!spill_dir_.empty()) release_pages(from, from + frames);
  }
  void deliver_pcm(int left, int right, float gain, uint64_t seed, int bits, long long begin,
                   long long frames, int32_t* out) override {
    cpu::deliver_pcm(keep_, left, right, gain, seed, bits, begin, begin, frames, out);
    release_read(left, right, begin, frames);
  }
  void deliver_float(int left, int right, float gain, long long begin, long long frames,
                     float* out) override {
    cpu::deliver_float(keep_, left, right, gain, begin, frames, out);
    release_read(left, right, begin, frames);
  }

 private:
  // A kept master in a file is read a segment at a time: its pages are let go behind the
  // reader (they stay in the file), so memory does not grow with the song.
  void release_read(int left, int right, long long begin, long long frames) {
    if (spill_dir_.empty()) return;
    for (int stream : {left, right})
      release_pages(keep_.stream(stream) + begin, keep_.stream(stream) + begin + frames);
  }
  void release() {
    prefault_.stop();
    give_back(work_map_, ArenaKind::kWork);
    give_back(keep_map_, ArenaKind::kKeep);
    if (spill_map_.data) munmap(spill_map_.data, spill_map_.bytes);
    work_map_ = keep_map_ = spill_map_ = Mapping{};
    work_.data = keep_.data = nullptr;
  }
  StreamArena work_, keep_;
  Mapping work_map_, keep_map_, spill_map_;  // spill_map_: the keep arena's file, if any
  std::filesystem::path spill_dir_;          // the keep arena is a file there (spill_keep_to)
  Prefaulter prefault_;                      // the keep arena's next segment, ahead
  std::vector<MeterState> states_;
  std::vector<MeterHop> hops_;
  long long hops_per_state_ = 0;
  std::vector<float> peaks_;
  std::vector<float> fir_states_, fir_spectra_;
  std::vector<LongTermSpectrum> spectra_;
  std::vector<float> trace_;
  StageMemory stages_[kStageKinds];
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() {
  return std::make_unique<CpuBackend>();
}

namespace {
std::function<void(const std::string&)>& notice_handler() {
  static std::function<void(const std::string&)> f;
  return f;
}
}  // namespace

void set_backend_notice_handler(std::function<void(const std::string&)> handler) {
  notice_handler() = std::move(handler);
}

// What `requested` runs on: "cpu" or "cuda", and for an `auto` that falls back, why.
std::string resolve_backend(const std::string& requested, std::string& notice) {
  std::string choice = requested;
  // `auto` defers to TOPDOWN_BACKEND where the operator set it (a farm's CPU-only nodes).
  if (choice == "auto")
    if (const char* env = std::getenv("TOPDOWN_BACKEND"))  // the CLI checked its value
      if (std::string(env) == "cpu" || std::string(env) == "cuda") choice = env;
  if (choice != "auto") return choice;
  // Asked once per process: the answer does not change while it runs.
  static const std::pair<bool, std::string> probe = [] {
    std::string why;
    const bool ok = cuda_available(&why);
    return std::make_pair(ok, why);
  }();
  if (probe.first) return "cuda";
  notice = "no usable GPU (" + probe.second + "): rendering on the CPU";
  return "cpu";
}

void announce_backend(const std::string& requested) {
  std::string notice;
  resolve_backend(requested, notice);
  if (!notice.empty() && notice_handler()) notice_handler()(notice);
}

std::unique_ptr<Backend> make_backend(const std::string& requested, std::string* notice) {
  std::string text;
  const std::string choice = resolve_backend(requested, text);
  if (!text.empty()) {
    if (notice) *notice = text;
    if (notice_handler()) notice_handler()(text);
  }
  return choice == "cuda" ? make_cuda_backend() : make_cpu_backend();
}

}  // namespace td
