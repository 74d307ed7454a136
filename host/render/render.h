// Renders a session: decode stems, run the plan level by level on a backend, measure and
// deliver every master variant, write the audio atomically.
#pragma once
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "analysis/compare.h"
#include "analysis/meters.h"
#include "base/system.h"
#include "graph/plan.h"
#include "io/audio_file.h"
#include "session/session.h"

namespace td {

// Where a track's audio comes from: a file on disk or a buffer made in memory (the demo).
struct StemSource {
  StemInfo info;
  // Opens a sequential reader at the session rate. Throws InputError.
  std::function<std::unique_ptr<StemReader>()> open;
};

std::vector<StemSource> stems_from_files(const Session& session);

struct RenderOptions {
  std::string backend = "auto";   // cpu | cuda | auto
  std::filesystem::path out_dir;  // written: master.wav or variants/<id>.wav
  bool write_audio = true;
  // Frames per segment of the work arena; 0: the backend's preference. The result does
  // not depend on it (tests render with odd sizes and compare bytes).
  long long segment_frames = 0;
  // Clip gains that keep every bus's pre-chain peak at or below [session] headroom_dbfs
  // (also [session] auto_gain_stage = true): extra passes, then the render.
  bool auto_gain_stage = false;
  // Meter every bus (report.json "buses"); off, only the master is metered and unprocessed
  // buses fold into the master's sum like unprocessed tracks: a faster render for farms
  // that need only the masters' figures.
  bool bus_meters = true;
  // Render only these variants (indices into the session's full variant list): a shard of
  // a session with many variants. Empty: all.
  std::vector<int> only_variants;
  std::function<void(const std::string& stage, double fraction)> progress;
  // Reference tracks besides the session's [[reference]] entries (weight 1).
  std::vector<std::filesystem::path> references;
  // Which variants' audio is written: "all", "top:K" (the K best by score) or "none";
  // every variant is measured and compared either way.
  std::string write_variants = "all";
  // Memory for the kept masters (every variant's master, whole, until delivery): past it
  // they are kept in a file in out_dir instead (CPU backend), so a render's memory stays
  // bounded by this and the segment size whatever the song's length. 0: 1 GiB or a quarter
  // of the machine's memory, whichever is less.
  double memory_budget_bytes = 0;
};

// One [[deliverable]] of a written master: its file and what the decoded file measures.
struct DeliverableResult {
  std::string name, format;
  std::filesystem::path file;
  int sample_rate = 0, bit_depth = 0, bitrate_kbps = 0;
  double target_lufs = 0, ceiling_dbtp = 0;
  double drive_db = 0;              // the limiter's input drive
  double limiter_ceiling_dbtp = 0;  // its ceiling after the corrections for the decoded peak
  int passes = 0;                   // encode-decode-measure passes
  Readings readings;                // of the decoded file
  std::vector<std::string> warnings;
};

struct VariantResult {
  std::string id;                                      // "master" without variants
  std::vector<std::pair<std::string, double>> params;  // sweep path -> value
  std::filesystem::path file;
  double rendered_lufs = 0.0;  // integrated loudness of the mix before delivery gain
  double delivery_gain_db = 0.0;
  double delivered_lufs = 0.0;
  double sample_peak_dbfs = 0.0;  // delivered
  double true_peak_dbtp = 0.0;    // delivered
  // The delivery limiter (the master's last processor, driven to [delivery] target_lufs):
  // its input drive and the gain reduction it applied (99th percentile and maximum, dB).
  // Against the references (loudness-matched), and the blended score (lower is closer);
  // rank 1 is the closest. Without references: no comparisons, score 0, rank by id.
  std::vector<Comparison> comparisons;
  double score = 0.0;
  int rank = 0;
  bool limited = false;
  double limiter_drive_db = 0.0, limiter_reduction_p99_db = 0.0, limiter_reduction_max_db = 0.0;
  int limiter_passes = 0;  // whole-song limiter passes the search ran (0: the limiter stays open)
  std::string limiter_id;
  std::vector<float> limiter_trace_db;  // its largest reduction of every tenth of a second
  std::vector<std::string> warnings;
  Readings readings;      // of the delivered file (measured, then shifted by the gain)
  StereoSpectra spectra;  // 1/3-octave long-term spectra of the delivered file
  std::vector<DeliverableResult> deliverables;  // [[deliverable]] files, when written
  // The report page's excerpt of the file (report/player_excerpt.h), encoded on another
  // thread while the file is written, from the written pass's own samples (the file's, bit
  // for bit): a render of one variant whose pass was kept. Its start (s; < 0: none) and
  // the base64 Ogg Opus.
  double excerpt_start_s = -1.0;
  std::shared_future<std::string> excerpt_opus;
};

// The meters of one rendered bus (or master) instance, at its output (after the fader).
struct NodeMeters {
  std::string node;
  std::string kind;                                    // bus | master
  std::vector<std::pair<std::string, double>> params;  // the sweep values that reach it
  Readings readings;
  std::vector<Band> spectrum;
  double pre_chain_peak_dbfs = 0.0;  // after the input sum and trim, before the chain
  bool exceeds_headroom = false;     // pre-chain peak above [session] headroom_dbfs
};

// A compressor's gain reduction over the song (dB, >= 0): its maximum, its mean, and the
// maximum of every trace_hz-th of a second.
struct DynamicsMeters {
  std::string node;
  std::string processor;                               // the processor's id
  std::vector<std::pair<std::string, double>> params;  // the sweep values that reach it
  double max_db = 0, mean_db = 0;
  double trace_hz = 10;
  std::vector<float> trace_db;
};

struct NodeStats {
  std::string name;
  std::string kind;
  int level = 0;
  std::vector<std::string> reaching_axes;
  int renders = 0;
  bool folded = false;            // mixed straight into its bus (no output of its own)
  long long latency_samples = 0;  // its chain's processing latency (compensated)
};

// Where a render's time went, in seconds (--json; not in report.json, which is the same
// bytes on every run). stage_s splits stages_s by stage type.
enum class StageTime {
  kSums,
  kGains,
  kFir,
  kCompressor,
  kSaturation,
  kLimiter,
  kUtility,
  kConsole,
  kMeters,
  kSpectra
};
constexpr int kStageTimes = 10;
inline const char* stage_time_name(StageTime t) {
  static const char* names[kStageTimes] = {"sums",       "gains",   "eq_fir",  "compressor",
                                           "saturation", "limiter", "utility", "console",
                                           "meters",     "spectra"};
  return names[(int)t];
}
struct Timings {
  double decode_s = 0, stages_s = 0, measure_s = 0, write_s = 0, total_s = 0;
  std::vector<std::pair<std::string, double>> stage_s;
};

// A reference track as measured for the comparisons (readings with their series).
struct ReferenceResult {
  std::filesystem::path file;
  double weight = 1.0;
  Measured measured;
};

struct RenderResult {
  std::string backend;
  std::string backend_notice;
  int sample_rate = 0;
  long long frames = 0;
  std::vector<StemInfo> stems;  // per track, session order
  std::vector<NodeStats> nodes;
  int total_renders = 0;
  int shared_stages = 0;  // processor stages of variants computed once (chain-prefix sharing)
  int variant_total = 1;  // variants of the session (only some rendered when sharded)
  int slots = 0;
  long long segment_frames = 0;
  bool masters_on_disk = false;   // the kept masters were over the memory budget
  long long latency_samples = 0;  // the master's processing latency, compensated
  std::vector<VariantResult> variants;
  std::vector<ReferenceResult> references;
  std::vector<NodeMeters> meters;        // every bus and master instance, in plan order
  std::vector<DynamicsMeters> dynamics;  // every compressor of every node instance
  double headroom_dbfs = 0.0;
  double vu_reference_dbfs = -18.0;
  // Auto gain staging: the clip gain change applied to each track (dB), and the passes.
  std::vector<std::pair<std::string, double>> auto_gain_db;
  int auto_gain_passes = 0;
  std::vector<std::string> warnings;
  Timings timings;
};

// Throws InputError for bad input (including processors not implemented yet).
RenderResult render_session(const Session& session, const std::vector<StemSource>& stems,
                            const RenderOptions& options);

// Many sessions: those of one sample rate are planned together and rendered in shared
// launches (one backend call per stage type and level over the jobs of all of them), as
// many per launch as fit `memory_budget_bytes` (estimated: work arena, kept masters,
// meters). A bad session fails alone. Sessions with auto gain staging render on their own.
struct SessionJob {
  const Session* session;
  std::vector<StemSource> stems;
  RenderOptions options;  // out_dir and the rest; backend and segment come from the call
};
struct SessionOutcome {
  std::string error;  // empty: ok
  RenderResult result;
  int launch = 0;  // which shared launch rendered it
};
// on_done(i, outcome) runs as soon as session i is finished (after its launch), so a
// caller can record progress launch by launch.
std::vector<SessionOutcome> render_sessions(
    const std::vector<SessionJob>& jobs, const std::string& backend, double memory_budget_bytes,
    long long segment_frames = 0,
    const std::function<void(size_t, const SessionOutcome&)>& on_done = nullptr);

}  // namespace td
