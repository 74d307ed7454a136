// Stems: every container and sample format a client sends, resampling with soxr, and one
// clear error for each kind of bad file.
#include "io/audio_file.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <tuple>

#include "io/ogg_serial.h"
#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

std::vector<std::vector<float>> decode(const std::filesystem::path& f, int rate) {
  const StemInfo info = probe_stem(f, rate);
  std::vector<std::vector<float>> out(info.channels,
                                      std::vector<float>(info.frames_at_rate + 100, 9.0f));
  std::vector<float*> ptrs;
  for (auto& c : out) ptrs.push_back(c.data());
  decode_stem(info, rate, ptrs.data(), info.frames_at_rate + 100);
  return out;
}

std::string error_of(const std::filesystem::path& f) {
  try {
    decode(f, 48000);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

struct Format {
  int sf;
  double lsb;  // quantisation step of the format: the decode error allowed
};

TEST(Stems, EveryAcceptedFormatDecodesToTheWrittenSignal) {
  test::TempDir dir;
  const auto x = test::sine(997.0, 0.5, 0.5, 48000, 2);
  const std::pair<const char*, Format> formats[] = {
      {"a.wav", {SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1.0 / 32768}},
      {"b.wav", {SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1.0 / 8388608}},
      {"c.wav", {SF_FORMAT_WAV | SF_FORMAT_PCM_32, 1e-7}},
      {"d.wav", {SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.0}},
      {"e.aiff", {SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 1.0 / 8388608}},
      {"f.flac", {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1.0 / 32768}},
      {"g.flac", {SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1.0 / 8388608}},
  };
  for (const auto& [name, fmt] : formats) {
    test::write_file(dir / name, x, 48000, fmt.sf);
    const auto y = decode(dir / name, 48000);
    ASSERT_EQ(y.size(), 2u) << name;
    double worst = 0.0;
    for (int c = 0; c < 2; ++c)
      for (size_t i = 0; i < x[0].size(); ++i)
        worst = std::max(worst, (double)std::fabs(y[c][i] - x[c][i]));
    EXPECT_LE(worst, fmt.lsb) << name;
    EXPECT_EQ(y[0][x[0].size() + 5], 0.0f) << name << ": past the end is silence";
  }
}

TEST(Stems, FastWavDecodingIsBitIdenticalToLibsndfile) {
  // 16/24-bit PCM and float WAV are converted from raw bytes (audio_file.cpp says why; 24
  // bits 8 samples at a time with AVX2, the rest one by one); every sample must equal
  // libsndfile's own sf_readf_float conversion, mono (decoded straight into the output)
  // and stereo, at lengths that leave every remainder of the 8-sample steps.
  test::TempDir dir;
  for (int channels : {1, 2})
    for (long long frames : {1LL, 11LL, 12LL, 19LL, 14400LL + 7}) {
      auto x = test::sine(1234.5, 0.9, (double)frames / 48000, 48000, channels);
      uint32_t state = 7;  // and noise over every bit pattern of the low bytes
      for (auto& ch : x)
        for (float& v : ch) {
          state = state * 1664525u + 1013904223u;
          v = 0.5f * v + ((float)(state >> 8) / 16777216.0f - 0.5f) * 0.9f;
        }
      if (frames > 10) {
        x[0][7] = -1.0f;                   // the most negative code
        x[channels - 1][9] = 0.99999994f;  // clips to the largest positive code
      }
      for (int sf : {SF_FORMAT_WAV | SF_FORMAT_PCM_16, SF_FORMAT_WAV | SF_FORMAT_PCM_24,
                     SF_FORMAT_WAV | SF_FORMAT_FLOAT, SF_FORMAT_WAVEX | SF_FORMAT_PCM_24,
                     SF_FORMAT_RF64 | SF_FORMAT_PCM_16}) {
        test::write_file(dir / "x.wav", x, 48000, sf);
        const auto fast = decode(dir / "x.wav", 48000);
        const AudioData ref = read_audio(dir / "x.wav");
        ASSERT_EQ(ref.channels[0].size(), (size_t)frames);
        for (int c = 0; c < channels; ++c)
          for (size_t i = 0; i < ref.channels[c].size(); ++i)
            ASSERT_EQ(fast[c][i], ref.channels[c][i])
                << "format " << std::hex << sf << std::dec << ", " << channels << " channel(s), "
                << frames << " frames, sample " << i;
      }
    }
}

TEST(Stems, ResamplingKeepsLengthPitchAndLevel) {
  test::TempDir dir;
  const auto x = test::sine(1000.0, 0.5, 2.0, 44100, 1);
  test::write_file(dir / "s.wav", x, 44100, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const StemInfo info = probe_stem(dir / "s.wav", 48000);
  EXPECT_EQ(info.frames_at_rate, 96000);
  const auto y = decode(dir / "s.wav", 48000);
  // Away from the edges (soxr's filter settles within a few ms) the output is the same
  // 1 kHz sine at 48 kHz: compare with the analytic signal after fitting the phase by
  // least squares. soxr VHQ is specified to -175 dB; -80 dB here leaves float margin.
  double sc = 0, ss = 0, cc = 0, yc = 0, ys = 0;
  for (int i = 4800; i < 91200; ++i) {
    const double w = 2 * M_PI * 1000.0 * i / 48000.0, s = std::sin(w), c = std::cos(w);
    ss += s * s, cc += c * c, sc += s * c, ys += y[0][i] * s, yc += y[0][i] * c;
  }
  const double det = ss * cc - sc * sc, a = (ys * cc - yc * sc) / det,
               b = (yc * ss - ys * sc) / det;
  EXPECT_NEAR(std::hypot(a, b), 0.5, 0.5 * 0.0012);  // within 0.01 dB
  double err = 0;
  for (int i = 4800; i < 91200; ++i) {
    const double w = 2 * M_PI * 1000.0 * i / 48000.0;
    err = std::max(err, std::fabs(y[0][i] - (a * std::sin(w) + b * std::cos(w))));
  }
  EXPECT_LT(20 * std::log10(err / 0.5), -80.0);
}

TEST(Stems, MoreThanTwoChannelsIsAnError) {
  test::TempDir dir;
  test::write_file(dir / "surround.wav", test::sine(100, 0.1, 0.1, 48000, 3), 48000,
                   SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const std::string e = error_of(dir / "surround.wav");
  EXPECT_NE(e.find("surround.wav: 3 channels"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: 1 or 2"), std::string::npos) << e;
}

TEST(Stems, NanSampleIsAnErrorNamingFramePositionAndChannel) {
  test::TempDir dir;
  auto x = test::sine(100, 0.1, 1.0, 48000, 2);
  x[1][24000] = std::nanf("");
  test::write_file(dir / "bad.wav", x, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const std::string e = error_of(dir / "bad.wav");
  EXPECT_NE(e.find("bad.wav: NaN sample at frame 24000 (0.5 s), channel 2"), std::string::npos)
      << e;
}

TEST(Stems, InfiniteSampleIsAnError) {
  test::TempDir dir;
  auto x = test::sine(100, 0.1, 1.0, 48000, 1);
  x[0][10] = INFINITY;
  test::write_file(dir / "inf.wav", x, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_NE(error_of(dir / "inf.wav").find("infinite sample at frame 10"), std::string::npos);
}

TEST(Stems, MissingFileIsAnError) {
  test::TempDir dir;
  EXPECT_NE(error_of(dir / "nope.wav").find("nope.wav: file not found"), std::string::npos);
}

TEST(Stems, CorruptFileIsAnError) {
  test::TempDir dir;
  std::ofstream(dir / "junk.wav") << "RIFF this is not a wave file at all, just text";
  const std::string e = error_of(dir / "junk.wav");
  EXPECT_NE(e.find("junk.wav: cannot read as audio"), std::string::npos) << e;
}

TEST(Stems, TruncatedFileIsAnError) {
  test::TempDir dir;
  test::write_file(dir / "t.wav", test::sine(100, 0.1, 1.0, 48000, 2), 48000,
                   SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  const auto size = std::filesystem::file_size(dir / "t.wav");
  std::filesystem::resize_file(dir / "t.wav", size / 2);
  // libsndfile reads the header's frame count; the data stops half way.
  const std::string e = error_of(dir / "t.wav");
  EXPECT_NE(e.find("t.wav"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

// A FLAC whose STREAMINFO claims `frames` (the 36-bit total at bytes 18..25 of the file),
// optionally cut to `keep` bytes: what a hostile or broken upload looks like.
std::filesystem::path flac_claiming(const test::TempDir& dir, const std::string& name,
                                    long long frames, size_t keep) {
  const std::filesystem::path f = dir / name;
  test::write_file(f, test::sine(440, 0.3, 1.0, 48000, 2), 48000,
                   SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::ifstream in(f, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | (uint8_t)bytes[18 + i];
  v = (v & ~((1ULL << 36) - 1)) | (uint64_t)frames;
  for (int i = 7; i >= 0; --i, v >>= 8) bytes[18 + i] = (char)(v & 0xff);
  if (keep) bytes.resize(keep);
  std::ofstream(f, std::ios::binary | std::ios::trunc) << bytes;
  return f;
}

TEST(Stems, AHeaderClaimingMoreFramesThanTheFileHoldsIsRefusedAtOnce) {
  // Nothing may be sized from the claim: a 42-byte FLAC claiming 10^9 frames once made a
  // render map 12 GB, and a 32 KB one claiming 10^8 rendered 82 s before failing. Refused
  // while probing, in constant time (a seek to the last claimed frame): well under 1 s.
  test::TempDir dir;
  for (const auto& [name, frames, keep] :
       {std::tuple<const char*, long long, size_t>{"tiny.flac", 1000000000LL, 42},
        {"cut.flac", 100000000LL, 32768},
        {"whole.flac", 1000000000LL, 0}}) {
    const auto f = flac_claiming(dir, name, frames, keep);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string e = error_of(f);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_NE(e.find(std::string(name) + ": truncated or corrupt: the header claims " +
                     std::to_string(frames) + " frames"),
              std::string::npos)
        << e;
    EXPECT_LT(s, 1.0) << name;
  }
  // The same file with its true count decodes.
  EXPECT_EQ(error_of(flac_claiming(dir, "true.flac", 48000, 0)), "(no error)");
}

TEST(Stems, AWavWhoseDataChunkClaimsFarLessThanTheFileHoldsIsRefused) {
  // A data chunk of 0 or 7 bytes before 96,000 bytes of samples was read as silence.
  test::TempDir dir;
  test::write_file(dir / "ok.wav", test::sine(440, 0.3, 0.5, 48000, 2), 48000,
                   SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::ifstream in(dir / "ok.wav", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t data = bytes.find("data");
  ASSERT_NE(data, std::string::npos);
  for (uint32_t claim : {0u, 7u}) {
    std::string b = bytes;
    for (int i = 0; i < 4; ++i) b[data + 4 + i] = (char)((claim >> (8 * i)) & 0xff);
    const auto f = dir / ("claims" + std::to_string(claim) + ".wav");
    std::ofstream(f, std::ios::binary) << b;
    const std::string e = error_of(f);
    EXPECT_NE(e.find("corrupt header: its data chunk holds"), std::string::npos) << e;
  }
  EXPECT_EQ(error_of(dir / "ok.wav"), "(no error)");
}

TEST(Output, AtomicWriteReplacesOnlyWithACompleteFileAndLeavesNoTemporary) {
  test::TempDir dir;
  std::ofstream(dir / "master.wav") << "old";
  std::vector<float> stereo(2 * 480, 0.25f);
  write_audio_atomic(dir / "master.wav", WriteSpec{"wav", 32, 48000}, 2, nullptr, stereo.data(),
                     480);
  const AudioData d = read_audio(dir / "master.wav");
  EXPECT_EQ(d.channels[0].size(), 480u);
  EXPECT_EQ(d.channels[1][100], 0.25f);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) (void)e, ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(Output, PackedWavIsByteIdenticalToLibsndfilesConversion) {
  // 16/24-bit WAV samples are packed by write_audio_atomic itself (audio_file.cpp says
  // why; 24 bits 8 samples at a time with AVX2, in parallel pieces of 65536 samples); the
  // file must equal one written through libsndfile's sf_writef_int, at lengths that leave
  // every remainder and cross pieces.
  test::TempDir dir;
  for (long long frames : {1LL, 5LL, 1000LL, 40003LL}) {
    std::vector<int32_t> pcm(2 * frames);
    for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = (int32_t)(i * 2654435761u) & ~0xFF;
    pcm[0] = INT32_MIN;
    pcm[1] = INT32_MAX & ~0xFF;
    for (int bits : {16, 24}) {
      std::vector<int32_t> q = pcm;
      for (auto& v : q) v &= ~((1 << (32 - bits)) - 1);  // left-aligned to the format
      write_audio_atomic(dir / "fast.wav", WriteSpec{"wav", bits, 48000}, 2, q.data(), nullptr,
                         frames);
      SF_INFO info{};
      info.samplerate = 48000;
      info.channels = 2;
      // WAVE_FORMAT_EXTENSIBLE with the stereo channel mask, as delivered files are.
      info.format = SF_FORMAT_WAVEX | (bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24);
      SNDFILE* f = sf_open((dir / "ref.wav").string().c_str(), SFM_WRITE, &info);
      int map[2] = {SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT};
      sf_command(f, SFC_SET_CHANNEL_MAP_INFO, map, sizeof map);
      sf_writef_int(f, q.data(), frames);
      sf_close(f);
      EXPECT_EQ(test::read_bytes(dir / "fast.wav"), test::read_bytes(dir / "ref.wav"))
          << bits << " bits, " << frames << " frames";
    }
  }
}

TEST(Output, OggPageCrcIsRfc3533s) {
  // RFC 3533's CRC is CRC-32/CKSUM (generator 0x04c11db7, initial 0, not reflected) without
  // its final inversion: the catalogue's check value 0x765e7680, inverted.
  const std::string check = "123456789";
  EXPECT_EQ(ogg_crc(reinterpret_cast<const unsigned char*>(check.data()), check.size()),
            ~0x765e7680u);
}

TEST(Output, OpusFilesAreTheSameBytesEveryTime) {
  // libsndfile draws each Ogg stream's serial number from the clock; topdown sets its own
  // (io/ogg_serial.h) and recomputes the page CRCs, so two encodings of the same audio are
  // the same file. The files still decode: libogg drops any page whose CRC is wrong.
  test::TempDir dir;
  const test::Planar planar = test::sine(997, 0.3, 1.0, 48000, 2);
  std::vector<float> stereo(2 * planar[0].size());
  for (size_t n = 0; n < planar[0].size(); ++n)
    stereo[2 * n] = planar[0][n], stereo[2 * n + 1] = planar[1][n];
  const long long frames = (long long)planar[0].size();
  for (const char* name : {"a.opus", "b.opus"})
    write_audio_atomic(dir / name, WriteSpec{"opus", 32, 48000}, 2, nullptr, stereo.data(), frames);
  const std::string a = test::read_bytes(dir / "a.opus");
  EXPECT_EQ(a, test::read_bytes(dir / "b.opus"));
  ASSERT_GT(a.size(), 18u);
  uint32_t serial = 0;
  for (int i = 0; i < 4; ++i) serial |= (uint32_t)(unsigned char)a[14 + i] << (8 * i);
  EXPECT_EQ(serial, kOggSerial);
  const AudioData d = read_audio(dir / "a.opus");
  ASSERT_EQ(d.channels.size(), 2u);
  EXPECT_NEAR((double)d.channels[0].size(), (double)frames, 0.02 * frames);
  // In memory, as the report page's excerpts are made (libopus and libogg, a fixed serial): the
  // same bytes, and the sine comes back at its level.
  const std::string x = encode_opus(planar, 48000, 96);
  EXPECT_EQ(x, encode_opus(planar, 48000, 96));
  ASSERT_GT(x.size(), 18u);
  serial = 0;
  for (int i = 0; i < 4; ++i) serial |= (uint32_t)(unsigned char)x[14 + i] << (8 * i);
  EXPECT_EQ(serial, kOggSerial);
  std::ofstream(dir / "x.opus", std::ios::binary) << x;
  const AudioData xd = read_audio(dir / "x.opus");
  ASSERT_EQ(xd.channels.size(), 2u);
  EXPECT_NEAR((double)xd.channels[0].size(), (double)frames, 0.02 * frames);
  // RMS over the middle half: 0.3 / sqrt(2) within 0.1 dB (a lossy codec at 96 kbps keeps a
  // steady sine's level far closer than that; a wrong gain or channel map would not).
  double sum = 0;
  const size_t from = xd.channels[0].size() / 4, to = 3 * xd.channels[0].size() / 4;
  for (size_t n = from; n < to; ++n) sum += (double)xd.channels[1][n] * xd.channels[1][n];
  EXPECT_NEAR(10 * std::log10(sum / (to - from)), 20 * std::log10(0.3 / std::sqrt(2.0)), 0.1);
  // RFC 7845's pre-skip and end trimming: a decoder gives back exactly the frames coded, for
  // mono, stereo and a 5.1 reference (mapping family 1), and at 44.1 kHz (resampled).
  for (int channels : {1, 2, 6}) {
    const test::Planar p = test::sine(440, 0.25, 0.5, 48000, channels);
    std::ofstream(dir / "c.opus", std::ios::binary) << encode_opus(p, 48000, 192);
    const AudioData c = read_audio(dir / "c.opus");
    ASSERT_EQ(c.channels.size(), (size_t)channels);
    EXPECT_EQ(c.channels[0].size(), p[0].size()) << channels << " channels";
  }
  const test::Planar cd = test::sine(440, 0.25, 0.5, 44100, 2);
  std::ofstream(dir / "cd.opus", std::ios::binary) << encode_opus(cd, 44100, 192);
  EXPECT_NEAR((double)read_audio(dir / "cd.opus").channels[0].size(), 24000.0, 2.0);
}

TEST(Output, UnwritableFolderIsAnErrorAndNothingIsCreated) {
  std::vector<float> stereo(2 * 480, 0.25f);
  EXPECT_THROW(write_audio_atomic("/nonexistent-topdown/master.wav", WriteSpec{"wav", 32, 48000}, 2,
                                  nullptr, stereo.data(), 480),
               InputError);
}

}  // namespace
}  // namespace td
