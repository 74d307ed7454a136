// `topdown analyze`: the meters of an audio file, run on a backend like a render's.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "analysis/meters.h"
#include "analysis/spectra.h"

namespace td {

struct FileAnalysis {
  std::filesystem::path file;
  int sample_rate = 0;
  int channels = 0;
  long long frames = 0;
  Readings readings;
  StereoSpectra spectra;
  std::string backend;
  std::string backend_notice;  // set when --backend auto fell back to the CPU
};

// Meters audio pushed a segment at a time on a backend (a file's analysis, the delivery's
// measurement of its limited master): memory bounded by the segment, not the length.
class StreamAnalyzer {
 public:
  StreamAnalyzer(int sample_rate, int channels, long long frames, const std::string& backend,
                 long long segment_frames = 0);
  ~StreamAnalyzer();
  long long segment_frames() const;
  // Where the next segment goes: channel c's host buffer, segment_frames() long.
  float* input(int channel);
  // Meters the next `len` frames written to input(); `frames` in all.
  void push(long long len);
  FileAnalysis finish(const MeterOptions& options);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Throws InputError for a missing or unreadable file, NaN samples or more than 2 channels.
// own_lossy: the file is one topdown wrote (a deliverable), MP3 and Ogg Opus allowed.
FileAnalysis analyze_file(const std::filesystem::path& file, const std::string& backend,
                          const MeterOptions& options, bool own_lossy = false);

// The same for planar audio in memory (1 or 2 channels); segment_frames 0: the backend's.
FileAnalysis analyze_audio(const std::vector<std::vector<float>>& audio, int sample_rate,
                           const std::string& backend, const MeterOptions& options,
                           long long segment_frames = 0);

}  // namespace td
