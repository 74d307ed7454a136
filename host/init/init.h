// `topdown init`: from a folder of client stems to a routed, gain-staged session with a
// template's starting chains, the way a top-down mix begins (docs/workflow.md).
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace td {

struct InitOptions {
  std::string template_name = "pop-rock";  // pop-rock | electronic | orchestral | minimal
  std::string backend = "auto";            // for the measuring passes
  // Progress of each measuring render, as stage "init pass N" (nullptr: none).
  std::function<void(const std::string& stage, double fraction)> progress;
};

struct InitTrack {
  std::string name;
  std::filesystem::path file;        // absolute; a joined stereo file for an L/R pair
  std::vector<std::string> sources;  // the client's file name(s)
  std::string bus;
  std::string reason;  // "name: kick" / "audio: crest 18 dB" / "unknown"
  double gain_db = 0;  // clip gain from the gain staging
  // Lined up with another recording of its source (topdown align): a utility step that
  // delays it by align_delay_ms (negative: an advance) and flips it when align_invert.
  std::string aligned_to;  // the group's reference track; empty: not aligned
  double align_delay_ms = 0;
  bool align_invert = false;
  double align_lf_gain_db = 0;  // what the correction wins in the pair's sum below 200 Hz
};

struct InitResult {
  std::string toml;  // the session file's text
  std::vector<InitTrack> tracks;
  std::vector<std::string> unknown;  // client files routed to "other"
  // Measured on the finished session: each bus compressor's mean gain reduction (dB).
  std::vector<std::pair<std::string, double>> reductions;
  int passes = 0;  // measuring renders
  // The folder held a finished mix (a single file, or files named like one): the session
  // masters it (init/mastering.h) instead of routing stems, with this template.
  std::string mastering_template;
};

// The templates `--template` accepts.
std::vector<std::string> init_templates();

// Builds the session for the audio files of `stems_dir` (WAV, AIFF, FLAC), to be written
// at `session_file` (paths are made relative to it; joined L/R pairs are written next to
// it in <session-name>-stems/). A folder that holds a finished mix (mix_in_folder) gets a
// mastering session instead (template "glue" unless a mastering template is named).
// Throws InputError for an empty folder, an unknown template, or an unreadable file.
InitResult init_session(const std::filesystem::path& stems_dir,
                        const std::filesystem::path& session_file, const InitOptions& options);

}  // namespace td
