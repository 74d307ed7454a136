// Writing audio: delivered files atomically (AudioWriter, a piece at a time), reports' text
// the same way, and the report page's FLAC excerpts in memory (libsndfile's virtual I/O).
#include <fcntl.h>
#include <immintrin.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

#include "base/input_error.h"
#include "base/page_cache.h"
#include "base/temp_files.h"
#include "io/audio_file.h"
#include "io/ogg_serial.h"
#include "io/output_set.h"
#include "io/tags.h"

namespace td {
namespace {

// Left-aligned 32-bit samples packed as little-endian PCM of `width` bytes (their top
// bytes): what sf_writef_int writes for 16- and 24-bit WAV (audio_file_test checks it).
void pack_scalar(const int32_t* src, long long b, long long count, int width, uint8_t* dst) {
  const int shift = 32 - 8 * width;
  for (long long i = b; i < count; ++i) {
    const uint32_t v = (uint32_t)src[i] >> shift;
    for (int k = 0; k < width; ++k) dst[i * width + k] = (uint8_t)(v >> (8 * k));
  }
}

// 24 bits, 8 samples at a time with AVX2: each 128-bit half's 4 samples' top 3 bytes
// gathered to its bottom 12 bytes, the halves' 12 bytes joined, 32 bytes stored (the last 8
// are overwritten by the next step, so the steps stop 3 samples short of the end: no store
// reaches past the samples' bytes). Returns the samples done; the rest are the scalar
// loop's.
__attribute__((target("avx2"))) long long pack24_avx2(const int32_t* src, long long count,
                                                      uint8_t* dst) {
  const __m256i gather = _mm256_setr_epi8(1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, -1, -1, -1, -1,
                                          1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, -1, -1, -1, -1);
  const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  long long i = 0;
  for (; i + 8 + 3 <= count; i += 8) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, gather), join);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 3 * i), packed);
  }
  return i;
}

void pack_pcm(const int32_t* src, long long count, int width, uint8_t* dst) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  const long long done = width == 3 && avx2 ? pack24_avx2(src, count, dst) : 0;
  pack_scalar(src, done, count, width, dst);
}

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

namespace {

// The bext chunk (EBU Tech 3285 v2) of a delivered WAV: fixed-size text fields, the date
// only when the session gives one (a render stays the same bytes every day), the loudness
// fields in 0.01 units, the ISRC as a coding-history line.
void write_bext(SNDFILE* sf, const FileTags& t) {
  SF_BROADCAST_INFO b;
  std::memset(&b, 0, sizeof b);
  auto copy = [](char* dst, size_t size, const std::string& src) {
    std::memcpy(dst, src.data(), std::min(size, src.size()));
  };
  copy(b.description, sizeof b.description, t.description);
  copy(b.originator, sizeof b.originator, t.originator);
  copy(b.originator_reference, sizeof b.originator_reference, "topdown");
  copy(b.origination_date, sizeof b.origination_date, t.date);
  if (!t.date.empty()) copy(b.origination_time, sizeof b.origination_time, "00:00:00");
  b.version = 2;
  if (t.loudness) {
    auto field = [](double v) {
      return (int16_t)std::clamp(std::lround(v * 100.0), -32768L, 32767L);
    };
    b.loudness_value = field(t.lufs);
    b.loudness_range = field(t.lra);
    b.max_true_peak_level = field(t.true_peak_dbtp);
    b.max_momentary_loudness = field(t.max_momentary_lufs);
    b.max_shortterm_loudness = field(t.max_short_term_lufs);
  } else {
    // 0x7fff: not measured (Tech 3285 v2).
    b.loudness_value = b.loudness_range = b.max_true_peak_level = 0x7fff;
    b.max_momentary_loudness = b.max_shortterm_loudness = 0x7fff;
  }
  std::string history = "A=PCM,T=topdown\r\n";
  if (!t.isrc.empty()) history += "ISRC=" + t.isrc + "\r\n";
  copy(b.coding_history, sizeof b.coding_history, history);
  b.coding_history_size = (uint32_t)std::min(sizeof b.coding_history, history.size());
  sf_command(sf, SFC_SET_BROADCAST_INFO, &b, sizeof b);
}

}  // namespace

AudioWriter::AudioWriter(const std::filesystem::path& file, const WriteSpec& spec, int channels,
                         long long frames, bool place)
    : file_(file), spec_(spec), channels_(channels), frames_(frames), place_(place) {
  SF_INFO sfi{};
  sfi.samplerate = spec.sample_rate;
  sfi.channels = channels;
  const bool lossy = spec.format == "mp3" || spec.format == "opus";
  const int major = spec.format == "flac"   ? SF_FORMAT_FLAC
                    : spec.format == "mp3"  ? SF_FORMAT_MPEG
                    : spec.format == "opus" ? SF_FORMAT_OGG
                                            : SF_FORMAT_WAVEX;
  const int sub = spec.format == "mp3"    ? SF_FORMAT_MPEG_LAYER_III
                  : spec.format == "opus" ? SF_FORMAT_OPUS
                  : spec.bit_depth == 16  ? SF_FORMAT_PCM_16
                  : spec.bit_depth == 24  ? SF_FORMAT_PCM_24
                                          : SF_FORMAT_FLOAT;
  if (lossy) spec_.bit_depth = 32;  // the encoders take float
  sfi.format = major | sub;
  // Over 4 GiB a RIFF header overflows; RF64 carries the same data.
  if (major == SF_FORMAT_WAVEX &&
      (double)std::max(frames, 0LL) * channels * spec.bit_depth / 8 > 4.0e9)
    sfi.format = SF_FORMAT_RF64 | sub;
  tmp_ = temp_path_for(file);
  guard_ = std::make_unique<TempFileGuard>(tmp_);  // removed if SIGINT or SIGTERM stops us
  // Our own descriptor (libsndfile's mode, 0644), so that the write-behind can follow it.
  fd_ = open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw InputError(file.string() + ": cannot create the output file (" + std::strerror(errno) +
                     ")");
  behind_ = std::make_unique<WriteBehind>(fd_);
  sf_ = sf_open_fd(fd_, SFM_WRITE, &sfi, SF_FALSE);
  if (!sf_)
    throw InputError(file.string() + ": cannot create the output file (" + sf_strerror(nullptr) +
                     ")");
  // No PEAK chunk in float files: libsndfile stamps it with the time of writing, and the
  // same session must render to the same bytes.
  if (sub == SF_FORMAT_FLOAT) sf_command(sf_, SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
  if (!lossy && major != SF_FORMAT_FLAC) {
    // The channel mask a reader needs to call the pair stereo (or the file mono).
    int map[2] = {SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT};
    if (channels == 1) map[0] = SF_CHANNEL_MAP_MONO;
    if (channels <= 2) sf_command(sf_, SFC_SET_CHANNEL_MAP_INFO, map, sizeof(int) * channels);
  }
  if (lossy) {
    // A constant bit rate (libsndfile maps the compression level linearly onto the format's
    // bit rates: MPEG-1 Layer III 320 .. 32 kbps, Opus 510 .. 6 kbps per its docs), or a
    // variable one at the given quality.
    const bool vbr = spec.quality >= 0;
    int mode = vbr ? SF_BITRATE_MODE_VARIABLE : SF_BITRATE_MODE_CONSTANT;
    sf_command(sf_, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
    double level = spec.quality;
    if (!vbr) {
      const double kbps =
          spec.bitrate_kbps > 0 ? spec.bitrate_kbps : (spec.format == "mp3" ? 320 : 160);
      level =
          spec.format == "mp3" ? (320.0 - kbps) / (320.0 - 32.0) : (510.0 - kbps) / (510.0 - 6.0);
    }
    level = std::clamp(level, 0.0, 1.0);
    if (sf_command(sf_, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level) != SF_TRUE)
      throw InputError(file.string() + ": the " + spec.format + " encoder refused the bit rate");
  }
  if (spec.tags) {
    const FileTags& t = *spec.tags;
    if (!t.title.empty()) sf_set_string(sf_, SF_STR_TITLE, t.title.c_str());
    if (!t.artist.empty()) sf_set_string(sf_, SF_STR_ARTIST, t.artist.c_str());
    if (!t.album.empty()) sf_set_string(sf_, SF_STR_ALBUM, t.album.c_str());
    if (!t.comment.empty()) sf_set_string(sf_, SF_STR_COMMENT, t.comment.c_str());
    if (!t.date.empty()) sf_set_string(sf_, SF_STR_DATE, t.date.c_str());
    if (major == SF_FORMAT_WAVEX) write_bext(sf_, t);
  }
  // Little-endian 16/24-bit WAV: the samples are packed here and written raw, as
  // sf_writef_int's generic conversion took longer than everything else in the write
  // (the bytes are the same; audio_file_test checks it).
  raw_ = major == SF_FORMAT_WAVEX && (sfi.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAVEX &&
         spec.bit_depth != 32 && [] {
           const uint16_t probe = 1;
           return *reinterpret_cast<const uint8_t*>(&probe) == 1;
         }();
}

AudioWriter::~AudioWriter() {
  if (sf_) sf_close(sf_);
  if (fd_ >= 0) close(fd_);
  std::error_code ec;
  if (!committed_) std::filesystem::remove(tmp_, ec);
}

void AudioWriter::write(const int32_t* pcm, const float* floats, long long frames) {
  const long long block = 1 << 20;
  for (long long pos = 0; pos < frames; pos += block) {
    const long long n = std::min(block, frames - pos);
    const long long before = written_;
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
      // In parallel pieces of 1 << 16 samples, each writing only its own bytes.
      const long long pieces = (count + 65535) / 65536;
#pragma omp parallel for schedule(static)
      for (long long q = 0; q < pieces; ++q) {
        const long long b = q * 65536, e = std::min(count, b + 65536);
        pack_pcm(src + b, e - b, width, dst + b * width);
      }
      written_ += sf_write_raw(sf_, bytes_.data(), (sf_count_t)bytes_.size()) / (width * channels_);
    }
    short_ |= written_ - before != n;
    behind_->advance(lseek(fd_, 0, SEEK_CUR));
  }
}

void AudioWriter::commit() {
  int close_err = sf_close(sf_);
  sf_ = nullptr;
  close_err |= close(fd_);
  fd_ = -1;
  if ((frames_ >= 0 && written_ != frames_) || short_ || close_err != 0 || behind_->failed())
    throw InputError(file_.string() + ": write failed (disk full?)");
  if (spec_.tags) add_tags(tmp_, spec_.format, *spec_.tags);
  if (spec_.format == "opus") set_ogg_serial_file(tmp_);  // the same bytes every time
  committed_ = true;
  if (!place_) {
    committed_ = false;  // the caller reads it; the destructor removes it
    return;
  }
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
  set_ogg_serial(m.bytes);  // the same bytes every time (unchanged if not well formed)
  return m.bytes;
}

}  // namespace td
