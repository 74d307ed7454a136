#include "io/audio_file.h"

#include <immintrin.h>
#include <sndfile.h>
#include <soxr.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "base/input_error.h"

namespace td {
namespace {

struct SndCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndFile = std::unique_ptr<SNDFILE, SndCloser>;

// The audio a header claims must be there before anything is sized from it (a 42-byte FLAC
// may claim a billion frames): checked up front, in constant time and memory.
void verify_length(SNDFILE* f, const SF_INFO& sfi, const std::filesystem::path& file) {
  // A file cut short (an interrupted copy or upload) still opens: libsndfile trusts the
  // bytes that are there and notes in its log that the data chunk "should be" shorter.
  char log[4096] = {0};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);)
    if ((line.rfind("data", 0) == 0 || line.rfind("SSND", 0) == 0) &&
        line.find("should be") != std::string::npos)
      throw InputError(file.string() +
                       ": truncated or corrupt: the header promises more audio than the file "
                       "holds (" +
                       line + ")");
  // Compressed formats (FLAC) cannot be checked by size: the last claimed frame is sought
  // and read (a seek, not a decode of the whole file).
  if (sfi.frames > 0) {
    float last[2 * 8];
    if (sfi.channels > 8 || sf_seek(f, sfi.frames - 1, SEEK_SET) < 0 ||
        sf_readf_float(f, last, 1) != 1)
      throw InputError(file.string() + ": truncated or corrupt: the header claims " +
                       std::to_string((long long)sfi.frames) +
                       " frames, and the audio ends before the last of them");
    sf_seek(f, 0, SEEK_SET);
  }
  // An uncompressed file whose data chunk claims far less than the file holds (a header
  // saying 0 or 7 bytes before 96,000 bytes of samples) is refused rather than read as
  // silence; other chunks after the audio (bext, iXML, LIST) are allowed up to as much
  // again as the audio plus 4 KiB.
  const int major = sfi.format & SF_FORMAT_TYPEMASK, sub = sfi.format & SF_FORMAT_SUBMASK;
  const int width = sub == SF_FORMAT_PCM_16 ? 2 : sub == SF_FORMAT_PCM_24 ? 3 : 4;
  if (major != SF_FORMAT_FLAC) {
    std::error_code ec;
    const double size = (double)std::filesystem::file_size(file, ec);
    const double audio = (double)sfi.frames * sfi.channels * width;
    if (!ec && audio < 0.5 * (size - 4096.0))
      throw InputError(file.string() + ": corrupt header: its data chunk holds " +
                       std::to_string((long long)audio) + " bytes of audio but the file is " +
                       std::to_string((long long)size) +
                       " bytes (allowed: a data chunk that holds the file's audio)");
  }
}

SndFile open_read(const std::filesystem::path& file, SF_INFO& info) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) throw InputError(file.string() + ": file not found");
  if (!std::filesystem::is_regular_file(file, ec))
    throw InputError(file.string() + ": not a regular file");
  info = SF_INFO{};
  SNDFILE* f = sf_open(file.string().c_str(), SFM_READ, &info);
  if (!f)
    throw InputError(file.string() + ": cannot read as audio (" + sf_strerror(nullptr) +
                     "; allowed: WAV, AIFF or FLAC, 16/24/32-bit integer or 32-bit float)");
  return SndFile(f);
}

std::string describe_format(int format) {
  const int major = format & SF_FORMAT_TYPEMASK, sub = format & SF_FORMAT_SUBMASK;
  std::string s = major == SF_FORMAT_WAV     ? "WAV"
                  : major == SF_FORMAT_AIFF  ? "AIFF"
                  : major == SF_FORMAT_FLAC  ? "FLAC"
                  : major == SF_FORMAT_WAVEX ? "WAV"
                  : major == SF_FORMAT_RF64  ? "RF64"
                                             : "other";
  switch (sub) {
    case SF_FORMAT_PCM_16:
      return s + " 16-bit";
    case SF_FORMAT_PCM_24:
      return s + " 24-bit";
    case SF_FORMAT_PCM_32:
      return s + " 32-bit";
    case SF_FORMAT_FLOAT:
      return s + " 32-bit float";
    default:
      return s + " other";
  }
}

}  // namespace

StemInfo probe_stem(const std::filesystem::path& file, int session_rate, bool own_lossy) {
  SF_INFO sfi;
  SndFile f = open_read(file, sfi);
  const int major = sfi.format & SF_FORMAT_TYPEMASK, sub = sfi.format & SF_FORMAT_SUBMASK;
  // MP3 and Ogg Opus only where topdown wrote the file itself (a deliverable's check): a
  // client's file goes through the PCM formats only.
  const bool lossy = own_lossy && ((major == SF_FORMAT_MPEG && sub == SF_FORMAT_MPEG_LAYER_III) ||
                                   (major == SF_FORMAT_OGG && sub == SF_FORMAT_OPUS));
  const bool container_ok = major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX ||
                            major == SF_FORMAT_RF64 || major == SF_FORMAT_AIFF ||
                            major == SF_FORMAT_FLAC || lossy;
  const bool sample_ok = sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_24 ||
                         sub == SF_FORMAT_PCM_32 || sub == SF_FORMAT_FLOAT || lossy;
  if (!container_ok || !sample_ok)
    throw InputError(file.string() + ": unsupported format " + describe_format(sfi.format) +
                     " (allowed: WAV, AIFF or FLAC, 16/24/32-bit integer or 32-bit float)");
  if (sfi.channels < 1 || sfi.channels > 2)
    throw InputError(file.string() + ": " + std::to_string(sfi.channels) +
                     " channels (allowed: 1 or 2; split surround stems into mono or stereo files)");
  if (sfi.samplerate < 1000 || sfi.samplerate > 768000)
    throw InputError(file.string() + ": sample rate " + std::to_string(sfi.samplerate) +
                     " Hz (allowed: 1000 .. 768000)");
  if (!lossy) verify_length(f.get(), sfi, file);
  StemInfo info;
  info.file = file;
  info.channels = sfi.channels;
  info.sample_rate = sfi.samplerate;
  info.frames = sfi.frames;
  info.frames_at_rate =
      sfi.samplerate == session_rate
          ? sfi.frames
          : (long long)std::llround((double)sfi.frames * session_rate / sfi.samplerate);
  info.format = describe_format(sfi.format);
  return info;
}

namespace {

// WAV files of 16- or 24-bit PCM or 32-bit float, little-endian like this machine, are
// read as raw bytes and converted here: libsndfile's generic per-sample conversion took
// 5x longer than reading the bytes (0.47 s against 0.09 s for the benchmark's 24 stems),
// and decoding was the largest part of a render. The conversion is libsndfile's own
// arithmetic (an integer scaled by a power of two, exact in float), so the samples are
// bit-identical to sf_readf_float's; tests/host/io/audio_file_test.cpp checks that.
enum class RawKind { kNone, kPcm16, kPcm24, kFloat };

RawKind raw_kind(const SF_INFO& sfi) {
  const int major = sfi.format & SF_FORMAT_TYPEMASK, sub = sfi.format & SF_FORMAT_SUBMASK;
  const int endian = sfi.format & SF_FORMAT_ENDMASK;
  const bool wav = major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64;
  const uint16_t probe = 1;
  const bool little_host = *reinterpret_cast<const uint8_t*>(&probe) == 1;
  if (!wav || !little_host || (endian != SF_ENDIAN_FILE && endian != SF_ENDIAN_LITTLE))
    return RawKind::kNone;
  if (sub == SF_FORMAT_PCM_16) return RawKind::kPcm16;
  if (sub == SF_FORMAT_PCM_24) return RawKind::kPcm24;
  if (sub == SF_FORMAT_FLOAT) return RawKind::kFloat;
  return RawKind::kNone;
}

// 24-bit little-endian PCM to float, as libsndfile converts it: the 3 bytes as the top of
// an int32, times 2^-31 (exact: 24 significant bits). Samples [b, n): a 4-byte load per
// 3-byte sample (the top byte is shifted out), the last one byte by byte.
void pcm24_to_float_scalar(const uint8_t* bytes, long long b, long long n, float* out) {
  for (long long i = b; i + 1 < n; ++i) {
    uint32_t w;
    std::memcpy(&w, bytes + 3 * i, 4);
    out[i] = (float)(int32_t)(w << 8) * (1.0f / 2147483648.0f);
  }
  if (n > b) {
    const long long i = n - 1;
    const int32_t v = (int32_t)((uint32_t)bytes[3 * i] << 8 | (uint32_t)bytes[3 * i + 1] << 16 |
                                (uint32_t)bytes[3 * i + 2] << 24);
    out[i] = (float)v * (1.0f / 2147483648.0f);
  }
}

// The same 8 samples (24 bytes) at a time with AVX2: a 32-byte load, the dwords moved so
// that each 128-bit half holds its 4 samples' 12 bytes, a byte shuffle that puts each
// sample's bytes at the top of its dword (the low byte zero), then the conversion and the
// scale: the scalar loop's operations, the same floats. The 32-byte load reads 8 bytes
// past the 24 it uses, so the last 3 samples (9 bytes) are left to the scalar loop.
__attribute__((target("avx2"))) long long pcm24_to_float_avx2(const uint8_t* bytes, long long n,
                                                              float* out) {
  const __m256i spread = _mm256_setr_epi32(0, 1, 2, 3, 3, 4, 5, 6);
  const __m256i place = _mm256_setr_epi8(
      -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11,   // low half: bytes 0..11
      -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11);  // high half: bytes 12..23
  const __m256 scale = _mm256_set1_ps(1.0f / 2147483648.0f);
  long long i = 0;
  for (; i + 8 + 3 <= n; i += 8) {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes + 3 * i));
    const __m256i words = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(raw, spread), place);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(words), scale));
  }
  return i;
}

void pcm24_to_float(const uint8_t* bytes, long long n, float* out) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  const long long done = avx2 ? pcm24_to_float_avx2(bytes, n, out) : 0;
  pcm24_to_float_scalar(bytes, done, n, out);
}

// Reads up to `frames` frames as interleaved float; returns the frames read.
long long read_frames(SNDFILE* f, RawKind kind, int channels, float* out, long long frames,
                      std::vector<uint8_t>& raw) {
  if (kind == RawKind::kNone) return sf_readf_float(f, out, frames);
  const int bytes = kind == RawKind::kPcm16 ? 2 : kind == RawKind::kPcm24 ? 3 : 4;
  const long long frame_bytes = (long long)bytes * channels;
  raw.resize((size_t)(frames * frame_bytes));
  const long long got = sf_read_raw(f, raw.data(), frames * frame_bytes) / frame_bytes;
  const long long n = got * channels;
  const uint8_t* b = raw.data();
  if (kind == RawKind::kPcm16) {
    for (long long i = 0; i < n; ++i)
      out[i] = (float)(int16_t)(b[2 * i] | (b[2 * i + 1] << 8)) * (1.0f / 32768.0f);
  } else if (kind == RawKind::kPcm24) {
    pcm24_to_float(b, n, out);
  } else {
    std::memcpy(out, b, (size_t)n * sizeof(float));
  }
  return got;
}

// Index of the first NaN or infinity in x[0 .. n), or -1. Integer formats cannot hold
// either; the check runs vectorised and only searches when something was found.
long long first_non_finite(const float* x, long long n) {
  int bad = 0;
  for (long long i = 0; i < n; ++i) bad |= !(std::fabs(x[i]) <= 3.4028235e38f);
  if (!bad) return -1;
  for (long long i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return i;
  return -1;
}

}  // namespace

namespace {

std::string non_finite_message(const std::filesystem::path& file, float v, long long frame,
                               int channel, int rate) {
  std::ostringstream os;
  os << file.string() << ": " << (std::isnan(v) ? "NaN" : "infinite") << " sample at frame "
     << frame << " (" << (double)frame / rate << " s), channel " << channel
     << " (allowed: finite samples only)";
  return os.str();
}

class FileStemReader final : public StemReader {
 public:
  FileStemReader(const StemInfo& info, int session_rate) : info_(info) {
    file_ = open_read(info.file, sfi_);
    kind_ = raw_kind(sfi_);
    const int sub = sfi_.format & SF_FORMAT_SUBMASK;
    can_hold_non_finite_ = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
    if (sfi_.samplerate != session_rate) {
      // soxr's very-high-quality recipe (steep, linear-phase, 175 dB stop band), as a
      // stream: memory is a block, whatever the stem's length.
      const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
      const soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
      soxr_error_t err = nullptr;
      soxr_ = soxr_create(sfi_.samplerate, session_rate, sfi_.channels, &err, &io, &q, nullptr);
      if (err || !soxr_) throw InputError(info_.file.string() + ": resampling failed: " + err);
      ratio_ = (double)session_rate / sfi_.samplerate;
    }
  }
  ~FileStemReader() override {
    if (soxr_) soxr_delete(soxr_);
  }

  void read(float* const* out, long long frames) override {
    if (soxr_) return read_resampled(out, frames);
    const int ch = sfi_.channels;
    long long done = 0;
    while (done < frames && pos_ < sfi_.frames) {
      const long long want = std::min(frames - done, (long long)sfi_.frames - pos_);
      // A mono stem decodes straight into the output (one pass over the samples fewer).
      const long long got = read_block(want, ch == 1 ? out[0] + done : nullptr);
      if (ch != 1) {
        for (long long i = 0; i < got; ++i) {
          out[0][done + i] = buf_[2 * i];
          out[1][done + i] = buf_[2 * i + 1];
        }
      }
      done += got;
    }
    for (int c = 0; c < ch; ++c) std::fill(out[c] + done, out[c] + frames, 0.0f);
    if (pos_ >= sfi_.frames) pos_ += frames - done;
  }

 private:
  static constexpr long long kBlock = 65536;

  // Up to min(want, kBlock) frames of the file into `to` (interleaved; null: buf_), checked.
  long long read_block(long long want, float* to = nullptr) {
    const int ch = sfi_.channels;
    want = std::min(want, kBlock);
    if (!to) {
      buf_.resize((size_t)kBlock * ch);
      to = buf_.data();
    }
    const long long got = read_frames(file_.get(), kind_, ch, to, want, raw_);
    if (got <= 0)
      throw InputError(info_.file.string() + ": truncated or corrupt: read " +
                       std::to_string(pos_) + " of " + std::to_string((long long)sfi_.frames) +
                       " frames");
    check(to, got);
    pos_ += got;
    return got;
  }

  // The next block of resampled frames into fifo_ (interleaved); at the file's end, soxr's
  // remaining output. Leaves fifo_ empty once everything is out.
  void refill() {
    const int ch = sfi_.channels;
    fifo_.clear();
    fifo_at_ = 0;
    if (flushed_) return;
    const long long got = pos_ < sfi_.frames ? read_block(sfi_.frames - pos_) : 0;
    const size_t room = (size_t)std::ceil((got > 0 ? got : kBlock) * ratio_) + 256;
    size_t used = 0;
    const float* in = got > 0 ? buf_.data() : nullptr;
    size_t left = (size_t)got;
    do {  // until soxr has taken the whole block (or, flushing, has nothing more)
      fifo_.resize((fifo_.size() / ch + room) * ch);
      size_t taken = 0, made = 0;
      soxr_error_t err = soxr_process(soxr_, in, left, &taken, fifo_.data() + used * ch,
                                      fifo_.size() / ch - used, &made);
      if (err) throw InputError(info_.file.string() + ": resampling failed: " + err);
      used += made;
      if (in) {
        in += taken * ch;
        left -= taken;
        if (left == 0 && made == 0) break;
      } else if (made == 0) {
        flushed_ = true;
        break;
      }
    } while (left > 0 || !in);
    fifo_.resize(used * ch);
  }

  void read_resampled(float* const* out, long long frames) {
    const int ch = sfi_.channels;
    long long done = 0;
    while (done < frames && served_ < info_.frames_at_rate) {
      if (fifo_at_ * ch >= (long long)fifo_.size()) {
        refill();
        if (fifo_.empty()) {
          if (flushed_) break;
          continue;
        }
      }
      const long long n = std::min(
          {frames - done, (long long)fifo_.size() / ch - fifo_at_, info_.frames_at_rate - served_});
      const float* f = fifo_.data() + fifo_at_ * ch;
      for (long long i = 0; i < n; ++i)
        for (int c = 0; c < ch; ++c) out[c][done + i] = f[i * ch + c];
      done += n;
      fifo_at_ += n;
      served_ += n;
    }
    for (int c = 0; c < ch; ++c) std::fill(out[c] + done, out[c] + frames, 0.0f);
  }

  void check(const float* x, long long frames) const {
    if (!can_hold_non_finite_) return;
    const long long bad = first_non_finite(x, frames * sfi_.channels);
    if (bad >= 0)
      throw InputError(non_finite_message(info_.file, x[bad], pos_ + bad / sfi_.channels,
                                          (int)(bad % sfi_.channels) + 1, sfi_.samplerate));
  }

  StemInfo info_;
  SF_INFO sfi_{};
  SndFile file_;
  RawKind kind_ = RawKind::kNone;
  bool can_hold_non_finite_ = false;
  long long pos_ = 0;  // input frames read (and, past the end, the silence handed out)
  std::vector<float> buf_;
  std::vector<uint8_t> raw_;
  // Resampling: the stream, its output not yet handed out, and how much was.
  soxr_t soxr_ = nullptr;
  double ratio_ = 1.0;
  std::vector<float> fifo_;
  long long fifo_at_ = 0, served_ = 0;
  bool flushed_ = false;
};

class MemoryStemReader final : public StemReader {
 public:
  explicit MemoryStemReader(const std::vector<std::vector<float>>& audio) : audio_(audio) {}
  void read(float* const* out, long long frames) override {
    for (size_t c = 0; c < audio_.size(); ++c) {
      const long long total = (long long)audio_[c].size();
      const long long n = std::max(0LL, std::min(frames, total - pos_));
      if (n > 0) std::copy(audio_[c].begin() + pos_, audio_[c].begin() + pos_ + n, out[c]);
      std::fill(out[c] + n, out[c] + frames, 0.0f);
    }
    pos_ += frames;
  }

 private:
  const std::vector<std::vector<float>>& audio_;
  long long pos_ = 0;
};

}  // namespace

std::unique_ptr<StemReader> open_stem(const StemInfo& info, int session_rate) {
  return std::make_unique<FileStemReader>(info, session_rate);
}

std::unique_ptr<StemReader> open_memory_stem(const std::vector<std::vector<float>>& audio) {
  return std::make_unique<MemoryStemReader>(audio);
}

void decode_stem(const StemInfo& info, int session_rate, float* const* out, long long capacity) {
  open_stem(info, session_rate)->read(out, capacity);
}

namespace {

// [start_s, start_s + length_s) of a file, clipped to it (length_s < 0: to the end), as
// planar float, read after a seek.
AudioData read_span(const std::filesystem::path& file, double start_s, double length_s) {
  SF_INFO sfi;
  SndFile f = open_read(file, sfi);
  verify_length(f.get(), sfi, file);
  const long long frames = (long long)sfi.frames;
  const long long begin = std::clamp<long long>(std::llround(start_s * sfi.samplerate), 0, frames);
  const long long count =
      length_s < 0
          ? frames - begin
          : std::clamp<long long>(std::llround(length_s * sfi.samplerate), 0, frames - begin);
  if (begin > 0 && sf_seek(f.get(), begin, SEEK_SET) != begin)
    throw InputError(file.string() + ": cannot seek to " + std::to_string(begin));
  std::vector<float> buf((size_t)count * sfi.channels);
  const sf_count_t got = sf_readf_float(f.get(), buf.data(), count);
  if (got != count) throw InputError(file.string() + ": truncated or corrupt");
  AudioData d;
  d.sample_rate = sfi.samplerate;
  d.channels.assign(sfi.channels, std::vector<float>(count));
  for (long long i = 0; i < got; ++i)
    for (int c = 0; c < sfi.channels; ++c) d.channels[c][i] = buf[i * sfi.channels + c];
  return d;
}

}  // namespace

AudioData read_audio(const std::filesystem::path& file) {
  return read_span(file, 0.0, -1.0);
}

AudioData read_audio_range(const std::filesystem::path& file, double start_s, double length_s) {
  return read_span(file, start_s, std::max(0.0, length_s));
}

}  // namespace td
