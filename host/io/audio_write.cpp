// Writing audio: delivered files atomically (AudioWriter, a piece at a time), reports' text
// the same way, and the report page's FLAC excerpts in memory (libsndfile's virtual I/O).
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

#include "base/input_error.h"
#include "base/temp_files.h"
#include "io/audio_file.h"
#include "io/output_set.h"

namespace td {
namespace {

// A finished temporary into place: now, or at its output set's publication.
void place(const std::filesystem::path& tmp, const std::filesystem::path& file,
           std::unique_ptr<TempFileGuard> guard) {
  if (OutputSet* set = OutputSet::covering(file)) {
    set->add(tmp, file, std::move(guard));
    return;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(file.string() +
                     ": cannot rename the finished file into place: " + ec.message());
  }
}

}  // namespace

AudioWriter::AudioWriter(const std::filesystem::path& file, const WriteSpec& spec, int channels,
                         long long frames)
    : file_(file), spec_(spec), channels_(channels), frames_(frames) {
  SF_INFO sfi{};
  sfi.samplerate = spec.sample_rate;
  sfi.channels = channels;
  const int major = spec.format == "flac" ? SF_FORMAT_FLAC : SF_FORMAT_WAV;
  const int sub = spec.bit_depth == 16   ? SF_FORMAT_PCM_16
                  : spec.bit_depth == 24 ? SF_FORMAT_PCM_24
                                         : SF_FORMAT_FLOAT;
  sfi.format = major | sub;
  // Over 4 GiB a RIFF header overflows; RF64 carries the same data.
  if (major == SF_FORMAT_WAV && (double)frames * channels * spec.bit_depth / 8 > 4.0e9)
    sfi.format = SF_FORMAT_RF64 | sub;
  tmp_ = temp_path_for(file);
  guard_ = std::make_unique<TempFileGuard>(tmp_);  // removed if SIGINT or SIGTERM stops us
  sf_ = sf_open(tmp_.string().c_str(), SFM_WRITE, &sfi);
  if (!sf_)
    throw InputError(file.string() + ": cannot create the output file (" + sf_strerror(nullptr) +
                     ")");
  // No PEAK chunk in float files: libsndfile stamps it with the time of writing, and the
  // same session must render to the same bytes.
  if (sub == SF_FORMAT_FLOAT) sf_command(sf_, SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
  // Little-endian 16/24-bit WAV: the samples are packed here and written raw, as
  // sf_writef_int's generic conversion took longer than everything else in the write
  // (the bytes are the same; audio_file_test checks it).
  raw_ = major == SF_FORMAT_WAV && spec.bit_depth != 32 && [] {
    const uint16_t probe = 1;
    return *reinterpret_cast<const uint8_t*>(&probe) == 1;
  }();
}

AudioWriter::~AudioWriter() {
  if (sf_) sf_close(sf_);
  std::error_code ec;
  if (!committed_) std::filesystem::remove(tmp_, ec);
}

void AudioWriter::write(const int32_t* pcm, const float* floats, long long frames) {
  const long long block = 1 << 20;
  for (long long pos = 0; pos < frames; pos += block) {
    const long long n = std::min(block, frames - pos);
    if (spec_.bit_depth == 32) {
      written_ += sf_writef_float(sf_, floats + channels_ * pos, n);
    } else if (!raw_) {
      written_ += sf_writef_int(sf_, pcm + channels_ * pos, n);
    } else {
      const int width = spec_.bit_depth / 8;
      const long long count = n * channels_;
      bytes_.resize((size_t)(count * width));
      const int32_t* src = pcm + channels_ * pos;
      uint8_t* dst = bytes_.data();
      const int shift = 32 - spec_.bit_depth;
#pragma omp parallel for schedule(static)
      for (long long i = 0; i < count; ++i) {
        const uint32_t v = (uint32_t)src[i] >> shift;
        for (int k = 0; k < width; ++k) dst[i * width + k] = (uint8_t)(v >> (8 * k));
      }
      written_ += sf_write_raw(sf_, bytes_.data(), (sf_count_t)bytes_.size()) / (width * channels_);
    }
  }
}

void AudioWriter::commit() {
  const int close_err = sf_close(sf_);
  sf_ = nullptr;
  if (written_ != frames_ || close_err != 0)
    throw InputError(file_.string() + ": write failed (disk full?)");
  committed_ = true;
  place(tmp_, file_, std::move(guard_));
}

void write_audio_atomic(const std::filesystem::path& file, const WriteSpec& spec, int channels,
                        const int32_t* pcm, const float* floats, long long frames) {
  AudioWriter w(file, spec, channels, frames);
  w.write(pcm, floats, frames);
  w.commit();
}

void write_text_atomic(const std::filesystem::path& file, const std::string& text) {
  const std::filesystem::path tmp = temp_path_for(file);
  auto guard = std::make_unique<TempFileGuard>(tmp);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(file.string() + ": cannot create the output file");
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw InputError(file.string() + ": write failed (disk full?)");
    }
  }
  place(tmp, file, std::move(guard));
}

namespace {

// libsndfile's virtual I/O over a growing string.
struct MemoryFile {
  std::string bytes;
  sf_count_t at = 0;
};

sf_count_t memory_length(void* user) {
  return (sf_count_t) static_cast<MemoryFile*>(user)->bytes.size();
}

sf_count_t memory_seek(sf_count_t offset, int whence, void* user) {
  MemoryFile* m = static_cast<MemoryFile*>(user);
  const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->at : m->bytes.size();
  m->at = base + offset;
  return m->at;
}

sf_count_t memory_read(void* ptr, sf_count_t count, void* user) {
  MemoryFile* m = static_cast<MemoryFile*>(user);
  const sf_count_t left = (sf_count_t)m->bytes.size() - m->at;
  const sf_count_t n = count < left ? count : (left > 0 ? left : 0);
  std::memcpy(ptr, m->bytes.data() + m->at, (size_t)n);
  m->at += n;
  return n;
}

sf_count_t memory_write(const void* ptr, sf_count_t count, void* user) {
  MemoryFile* m = static_cast<MemoryFile*>(user);
  if ((size_t)(m->at + count) > m->bytes.size()) m->bytes.resize((size_t)(m->at + count));
  std::memcpy(&m->bytes[(size_t)m->at], ptr, (size_t)count);
  m->at += count;
  return count;
}

sf_count_t memory_tell(void* user) {
  return static_cast<MemoryFile*>(user)->at;
}

}  // namespace

std::string encode_flac16(const std::vector<std::vector<float>>& planar, int sample_rate) {
  const int channels = (int)planar.size();
  const long long frames = channels ? (long long)planar[0].size() : 0;
  SF_VIRTUAL_IO io{memory_length, memory_seek, memory_read, memory_write, memory_tell};
  MemoryFile m;
  SF_INFO sfi{};
  sfi.samplerate = sample_rate;
  sfi.channels = channels;
  sfi.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open_virtual(&io, SFM_WRITE, &sfi, &m);
  if (!f) throw std::runtime_error(std::string("FLAC encoder: ") + sf_strerror(nullptr));
  std::vector<short> interleaved((size_t)(frames * channels));
  for (long long n = 0; n < frames; ++n)
    for (int c = 0; c < channels; ++c) {
      const float v = std::max(-1.0f, std::min(1.0f, planar[c][(size_t)n])) * 32767.0f;
      interleaved[(size_t)(n * channels + c)] = (short)std::lrint(v);
    }
  sf_writef_short(f, interleaved.data(), frames);
  sf_close(f);
  return m.bytes;
}

}  // namespace td
