// `topdown master` and `init` on a finished mix: a one-track session whose track is the
// stereo (or mono) mix, routed straight to the master, whose chain is a mastering template
// (docs/workflow.md, "Mastering a stereo mix").
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace td {

struct MasteringOptions {
  std::string template_name = "glue";  // transparent | glue | loud
  std::optional<double> target_lufs;   // default: the template's (-14, loud -9)
  std::optional<double> ceiling_dbtp;  // default: the template's (-1, loud -0.5)
  std::string backend = "auto";        // for the measuring renders
};

struct MasteringResult {
  std::string toml;  // the session file's text
  // Measured on the finished session: each calibrated compressor's mean gain reduction (dB).
  std::vector<std::pair<std::string, double>> reductions;
  int passes = 0;  // measuring renders
};

// The templates `master --template` accepts (and `init` uses for a mix).
std::vector<std::string> mastering_templates();

// Whether a folder's audio files are a finished mix rather than stems: a single file, or
// files whose names say mix, master, final, bounce or premaster. Returns that file.
std::optional<std::filesystem::path> mix_in_folder(const std::vector<std::filesystem::path>& files);

// Builds the mastering session for `mix`, to be written at `session_file` (the mix's path
// is made relative to it). The template's compressors are set by measuring renders so that
// each reduces by its target on average. Throws InputError for an unknown template, a file
// that is not audio, more than two channels, or a target/ceiling out of range.
MasteringResult mastering_session(const std::filesystem::path& mix,
                                  const std::filesystem::path& session_file,
                                  const MasteringOptions& options);

}  // namespace td
