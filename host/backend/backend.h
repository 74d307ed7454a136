// A Backend runs the batched stages. It owns two planar float32 arenas: the work arena,
// one segment long, where every level's stages run, and the keep arena, the whole song
// long, which holds each master variant for measurement and delivery. The executor
// describes each stage as plain jobs (kernels/mix.h) and calls one method per stage type
// and graph level; the CPU and CUDA backends run the same TD_HD math.
#pragma once
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/fir_design.h"
#include "kernels/spectrum.h"
#include "kernels/stages.h"

namespace td {

// The stateful stages whose storage allocate_stage holds, and each one's state type.
enum class StageKind { kCompressor, kLimiter, kSaturation, kUtility, kConsole };
constexpr int kStageKinds = 5;
template <class Params>
struct StageOf;
template <>
struct StageOf<CompressorParams> {
  static constexpr StageKind kind = StageKind::kCompressor;
  using State = CompressorState;
};
template <>
struct StageOf<LimiterParams> {
  static constexpr StageKind kind = StageKind::kLimiter;
  using State = LimiterState;
};
template <>
struct StageOf<SaturationParams> {
  static constexpr StageKind kind = StageKind::kSaturation;
  using State = SaturationState;
};
struct UtilityState {};  // the utility keeps only its histories (memory)
template <>
struct StageOf<UtilityParams> {
  static constexpr StageKind kind = StageKind::kUtility;
  using State = UtilityState;
};
struct ConsoleState {};  // the console keeps only each channel's last t (memory)
template <>
struct StageOf<ConsoleParams> {
  static constexpr StageKind kind = StageKind::kConsole;
  using State = ConsoleState;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Segment length this backend works best with (long enough to fill it, short enough
  // to keep the working set small).
  virtual long long preferred_segment_frames() const = 0;

  // work_slots streams of segment_frames; keep_streams streams of total_frames, zeroed.
  // Before allocate: keep the keep arena in a file in `dir` (reserved up front, unlinked,
  // its pages released from memory as they are written and read back) instead of memory,
  // so that a render's memory does not grow with the song. A device keeps it in device
  // memory and ignores this.
  virtual void spill_keep_to(const std::filesystem::path& dir) { (void)dir; }
  virtual void allocate(int work_slots, long long segment_frames, int keep_streams,
                        long long total_frames) = 0;
  // The work arena now holds samples [origin, origin + frames) of the song.
  virtual void begin_segment(long long origin, long long frames) = 0;
  // Host memory of a work slot that decoding may fill directly (CPU), else nullptr.
  virtual float* host_slot(int slot) = 0;
  // Copies a segment's worth of samples into a work slot.
  virtual void upload(int slot, const float* samples) = 0;
  // Copies the song part of a work slot into keep stream `keep`: the slot lags the song by
  // `delay` samples (the latency of the processing before it), so stream position p is
  // keep sample p - delay; positions outside [delay, delay + total_frames) are dropped.
  virtual void keep(int slot, int keep, long long delay) = 0;

  // Stages on the work arena.
  virtual void track_input(const std::vector<TrackInputJob>& jobs,
                           const std::vector<Breakpoint>& points) = 0;
  virtual void sum(const std::vector<SumJob>& jobs, const std::vector<SumTerm>& terms) = 0;
  virtual void gain(const std::vector<GainJob>& jobs) = 0;
  // The FIR stage (kernels/fir.h). allocate_fir sets up the launch's FIR states
  // (state_floats zeroed floats) and designed spectra (interleaved complex floats); fir
  // runs every job of one shape on the current segment.
  virtual void allocate_fir(long long state_floats, const std::vector<float>& spectra) = 0;
  virtual void fir(const FirShape& shape, const std::vector<FirJob>& jobs) = 0;
  // The stateful chain stages' storage, one generic call per stage kind: the launch's
  // parameter sets, zeroed states and zeroed float memory (delay lines, histories); and
  // the gain-reduction traces that compressors and limiters share. Typed helpers below.
  virtual void allocate_stage(StageKind kind, const void* params, size_t param_bytes,
                              size_t state_bytes, long long memory_floats) = 0;
  // The stage's states as bytes (what allocate_stage was given room for).
  virtual std::vector<unsigned char> read_stage_states(StageKind kind) = 0;
  virtual void allocate_traces(long long floats) = 0;
  virtual std::vector<float> read_traces() = 0;

  template <class Params>
  void allocate_stage(const std::vector<Params>& params, int states, long long memory_floats) {
    using State = typename StageOf<Params>::State;
    allocate_stage(StageOf<Params>::kind, params.data(), sizeof(Params) * params.size(),
                   sizeof(State) * (size_t)states, memory_floats);
  }
  template <class Params>
  std::vector<typename StageOf<Params>::State> read_states() {
    using State = typename StageOf<Params>::State;
    const std::vector<unsigned char> bytes = read_stage_states(StageOf<Params>::kind);
    std::vector<State> out(bytes.size() / sizeof(State));
    if (!out.empty()) std::memcpy((void*)out.data(), bytes.data(), sizeof(State) * out.size());
    return out;
  }

  // The stages' launches: every job of one chain position (kernels/stages.h).
  virtual void compressor(const std::vector<CompressorJob>& jobs, long long trace_hop_frames) = 0;
  virtual void limiter(const std::vector<LimiterJob>& jobs, const TruePeakFilter& f,
                       long long trace_hop_frames) = 0;
  virtual void saturation(const std::vector<SaturationJob>& jobs) = 0;
  virtual void utility(const std::vector<UtilityJob>& jobs) = 0;
  virtual void console(const std::vector<ConsoleJob>& jobs) = 0;

  // Long-term mid/side spectra (kernels/spectrum_stage.h): `states` zeroed spectra of
  // fft_size points; spectra feeds samples [skip, skip + frames) of the current segment of
  // every job into its state; read_spectra returns each state's mean-square bins (a state
  // that saw less than one frame is analysed zero-padded, so short files count).
  virtual void allocate_spectra(int states, int fft_size) = 0;
  virtual void spectra(const std::vector<SpectrumJob>& jobs, long long skip, long long frames) = 0;
  virtual std::vector<MidSideBins> read_spectra() = 0;

  // Meters: `states` meter states (zeroed) with hops_per_state hop records each.
  virtual void allocate_meters(int states, long long hops_per_state) = 0;
  // Meters samples [skip, skip + frames) of the current segment of every job
  // (kernels/meters.h): the part that is the song for streams that lag it; on the song's
  // last segment the true-peak filter's tail after them is included.
  virtual void meters(const std::vector<MeterJob>& jobs, const KWeighting& k,
                      const TruePeakFilter& f, long long hop_frames, bool last_segment,
                      long long skip, long long frames) = 0;
  virtual void read_meters(std::vector<MeterState>& states, std::vector<MeterHop>& hops) = 0;
  // Sample-peak holds: `count` zeroed slots; peak_hold folds each job's segment into one.
  virtual void allocate_peaks(int count) = 0;
  virtual void peak_hold(const std::vector<PeakJob>& jobs) = 0;
  virtual std::vector<float> read_peaks() = 0;

  // Delivery on the keep arena, a range at a time (memory bounded by the range, not the
  // song). Samples [begin, begin + frames) of keep stream `stream` into host memory.
  virtual void read_keep(int stream, long long begin, long long frames, float* out) = 0;
  // Interleaved stereo of samples [begin, begin + frames) of a pair of keep streams at
  // `gain`, into host memory: dithered left-aligned int32 (the dither drawn at each
  // sample's index in the song) or float.
  virtual void deliver_pcm(int left, int right, float gain, uint64_t seed, int bits,
                           long long begin, long long frames, int32_t* out) = 0;
  virtual void deliver_float(int left, int right, float gain, long long begin, long long frames,
                             float* out) = 0;
};

std::unique_ptr<Backend> make_cpu_backend();

// True when this build has the CUDA backend and a device answers; otherwise `why` says
// what is missing (no toolkit at build time, or the runtime's error text).
bool cuda_available(std::string* why);
// Throws std::runtime_error with the reason when CUDA is unavailable.
std::unique_ptr<Backend> make_cuda_backend();

// "cpu", "cuda" or "auto" (CUDA when available, else the CPU with `notice` set); "auto"
// takes TOPDOWN_BACKEND (cpu | cuda | auto) when the environment sets it.
std::unique_ptr<Backend> make_backend(const std::string& choice, std::string* notice);
// Called with the notice when `auto` falls back to the CPU, as the backend is chosen (before
// the work): the command line prints it once per process.
void set_backend_notice_handler(std::function<void(const std::string&)> handler);
// Says the notice now (through the handler) if `choice` would fall back to the CPU: a
// command calls it before its work, so the notice comes first.
void announce_backend(const std::string& choice);

}  // namespace td
