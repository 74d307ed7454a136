// Reading stems (libsndfile, resampled with soxr) and writing delivered audio atomically.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/page_cache.h"
#include "base/temp_files.h"

struct sf_private_tag;  // libsndfile's SNDFILE

namespace td {

struct StemInfo {
  std::filesystem::path file;
  int channels = 0;
  int sample_rate = 0;
  long long frames = 0;          // in the file
  long long frames_at_rate = 0;  // after resampling to the session rate
  std::string format;            // "WAV 24-bit" etc., for reports
};

// Opens the header only. Throws InputError naming the file for a missing or unreadable
// file, an unknown format, or more than two channels.
StemInfo probe_stem(const std::filesystem::path& file, int session_rate, bool own_lossy = false);

// Sequential access to a stem at the session rate, segment by segment, so a render holds
// only a segment of each stem in memory.
class StemReader {
 public:
  virtual ~StemReader() = default;
  // The next `frames` frames of every channel into out[c][0 .. frames); silence after the
  // end. Throws InputError on NaN/Inf samples, naming the file, frame, time and channel.
  virtual void read(float* const* out, long long frames) = 0;
};

// Opens a stem file. When its rate differs from the session's, it is resampled as it is
// read, block by block, with soxr's very-high-quality recipe.
std::unique_ptr<StemReader> open_stem(const StemInfo& info, int session_rate);

// Serves planar audio already at the session rate (the demo, tests). `audio` must
// outlive the reader.
std::unique_ptr<StemReader> open_memory_stem(const std::vector<std::vector<float>>& audio);

// Decodes all channels into out[c][0 .. capacity) in one go (rest zero).
void decode_stem(const StemInfo& info, int session_rate, float* const* out, long long capacity);

// What a delivered file carries for the next tool: text tags and, for WAV, a BWF bext chunk
// (EBU Tech 3285 v2) whose loudness fields come from the file's own measurement.
struct FileTags {
  std::string title, artist, album, comment;        // LIST INFO / Vorbis comments / ID3v2
  std::string description, originator, date, isrc;  // bext (date: YYYY-MM-DD or empty)
  bool loudness = false;                            // the bext loudness fields below are known
  double lufs = 0, lra = 0, true_peak_dbtp = 0, max_momentary_lufs = 0, max_short_term_lufs = 0;
};

struct WriteSpec {
  std::string format = "wav";  // wav | flac | mp3 | opus
  int bit_depth = 24;  // 16 | 24 (left-aligned int32 samples) | 32 (float; mp3 and opus too)
  int sample_rate = 48000;
  int bitrate_kbps = 0;  // mp3, opus: constant bit rate (0: 320 / 160)
  double quality = -1;   // mp3, opus: variable bit rate quality 0 .. 1 instead (-1: off)
  const FileTags* tags = nullptr;
};

// Writes interleaved audio to a temporary file next to `file` and renames it over
// `file` only when complete; on failure nothing at `file` changes. Exactly one of
// pcm / floats is used, by bit_depth.
void write_audio_atomic(const std::filesystem::path& file, const WriteSpec& spec, int channels,
                        const int32_t* pcm, const float* floats, long long frames);

// The same a piece at a time (a delivery streams its master out segment by segment):
// write() appends interleaved frames (pcm or floats, by bit_depth), commit() checks that
// `frames` were written and puts the file in place; destroyed uncommitted, it removes the
// temporary and leaves `file` as it was.
// WAV is written as WAVE_FORMAT_EXTENSIBLE with its channel mask (RF64 past 4 GiB).
// frames < 0: the length is not known in advance (a resampled or encoded delivery); every
// write is still checked. place = false: commit() leaves the finished file at temp_path()
// for the caller (a verification pass), removed with the writer.
class AudioWriter {
 public:
  AudioWriter(const std::filesystem::path& file, const WriteSpec& spec, int channels,
              long long frames, bool place = true);
  const std::filesystem::path& temp_path() const { return tmp_; }
  ~AudioWriter();
  AudioWriter(const AudioWriter&) = delete;
  AudioWriter& operator=(const AudioWriter&) = delete;
  void write(const int32_t* pcm, const float* floats, long long frames);
  void commit();

 private:
  std::filesystem::path file_, tmp_;
  WriteSpec spec_;
  int channels_;
  long long frames_, written_ = 0;
  sf_private_tag* sf_ = nullptr;
  int fd_ = -1;
  std::unique_ptr<WriteBehind> behind_;  // keeps the page cache out of a long write
  std::unique_ptr<TempFileGuard> guard_;
  std::vector<uint8_t> bytes_;
  bool raw_ = false, committed_ = false, place_ = true, short_ = false;
};

// Writes text the same way (reports).
void write_text_atomic(const std::filesystem::path& file, const std::string& text);

// Encodes planar float audio as a 16-bit FLAC file in memory (libsndfile's virtual I/O): the
// report page's embedded excerpts. Samples are rounded (no dither: a listening preview).
std::string encode_flac16(const std::vector<std::vector<float>>& planar, int sample_rate);
// The same as Ogg Opus at a constant bit rate (resampled to 48 kHz first where needed).
std::string encode_opus(const std::vector<std::vector<float>>& planar, int sample_rate,
                        int bitrate_kbps);

// Reads any libsndfile format into planar float (tests and analysis).
struct AudioData {
  int sample_rate = 0;
  std::vector<std::vector<float>> channels;
};
AudioData read_audio(const std::filesystem::path& file);
// Only [start_s, start_s + length_s) of it (clipped to the file), read after a seek: the
// report's excerpts, which must not decode a whole master to keep 30 seconds.
AudioData read_audio_range(const std::filesystem::path& file, double start_s, double length_s);

}  // namespace td
