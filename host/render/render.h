// Renders a session: decode stems, run the plan level by level on a backend, measure and
// deliver every master variant, write the audio atomically.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

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
  std::function<void(const std::string& stage, double fraction)> progress;
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
  std::vector<std::string> warnings;
};

struct NodeStats {
  std::string name;
  std::string kind;
  int level = 0;
  std::vector<std::string> reaching_axes;
  int renders = 0;
  bool folded = false;  // mixed straight into its bus (no output of its own)
};

struct Timings {
  double decode_s = 0, stages_s = 0, measure_s = 0, write_s = 0, total_s = 0;
};

struct RenderResult {
  std::string backend;
  std::string backend_notice;
  int sample_rate = 0;
  long long frames = 0;
  std::vector<StemInfo> stems;  // per track, session order
  std::vector<NodeStats> nodes;
  int total_renders = 0;
  int slots = 0;
  long long segment_frames = 0;
  std::vector<VariantResult> variants;
  std::vector<std::string> warnings;
  Timings timings;
};

// Throws InputError for bad input (including processors not implemented yet).
RenderResult render_session(const Session& session, const std::vector<StemSource>& stems,
                            const RenderOptions& options);

}  // namespace td
