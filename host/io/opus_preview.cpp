// encode_opus (io/audio_file.h): the report page's listening excerpts as Ogg Opus in memory,
// written with libopus and libogg after RFC 7845 (Ogg encapsulation for Opus). Not through
// libsndfile, which cannot set the encoder's complexity: at the excerpts' 192 kbps,
// complexity 5 is transparent and took 0.08-0.10 s for a 20 s stereo excerpt where
// libsndfile's complexity 10 took 0.24-0.26 s (measured on the bench machine; a batch
// encodes one per session). The delivery format "opus" still goes through libsndfile.
#include <ogg/ogg.h>
#include <opus_multistream.h>
#include <soxr.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/audio_file.h"
#include "io/ogg_serial.h"

namespace td {
namespace {

constexpr int kRate = 48000;              // Opus codes 48 kHz (RFC 6716)
constexpr int kFrame = 960;               // 20 ms packets
constexpr int kComplexity = 5;            // see the file comment
constexpr int kMaxPacket = 1275 * 3 * 8;  // RFC 6716's largest frame, a 120 ms packet, 8 streams

void put16(std::string& s, unsigned v) {
  s += (char)(v & 255), s += (char)(v >> 8 & 255);
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff), put16(s, v >> 16);
}

std::vector<std::vector<float>> at_48k(const std::vector<std::vector<float>>& planar, int rate) {
  std::vector<std::vector<float>> out;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  for (const auto& ch : planar) {
    std::vector<float> o((size_t)std::ceil(ch.size() * (double)kRate / rate) + 16);
    size_t done = 0;
    const soxr_error_t err = soxr_oneshot(rate, kRate, 1, ch.data(), ch.size(), nullptr, o.data(),
                                          o.size(), &done, &io, &q, nullptr);
    if (err) throw std::runtime_error(std::string("Opus encoder: resampling: ") + err);
    o.resize(done);
    out.push_back(std::move(o));
  }
  return out;
}

struct OggStream {
  ogg_stream_state os;
  explicit OggStream(int serial) { ogg_stream_init(&os, serial); }
  ~OggStream() { ogg_stream_clear(&os); }
  void packet(const unsigned char* data, long bytes, ogg_int64_t granule, long number, bool bos,
              bool eos) {
    ogg_packet p{};
    p.packet = const_cast<unsigned char*>(data);
    p.bytes = bytes;
    p.b_o_s = bos;
    p.e_o_s = eos;
    p.granulepos = granule;
    p.packetno = number;
    if (ogg_stream_packetin(&os, &p) != 0) throw std::runtime_error("Opus encoder: Ogg packet");
  }
  // flush: end the page here (each header has a page of its own, RFC 7845 section 3).
  void pages(std::string& out, bool flush) {
    ogg_page pg;
    while (flush ? ogg_stream_flush(&os, &pg) : ogg_stream_pageout(&os, &pg)) {
      out.append((const char*)pg.header, (size_t)pg.header_len);
      out.append((const char*)pg.body, (size_t)pg.body_len);
    }
  }
};

}  // namespace

std::string encode_opus(const std::vector<std::vector<float>>& planar, int sample_rate,
                        int bitrate_kbps) {
  std::vector<std::vector<float>> resampled;
  if (sample_rate != kRate) resampled = at_48k(planar, sample_rate);
  const auto& in = sample_rate != kRate ? resampled : planar;
  const int channels = (int)in.size();
  if (channels < 1 || channels > 8) throw std::runtime_error("Opus encoder: 1 to 8 channels");
  const long long frames = (long long)in[0].size();
  // Mapping family 0 (mono, stereo) or 1 (Vorbis channel order, up to 8), RFC 7845 5.1.1.
  const int family = channels > 2 ? 1 : 0;
  int streams = 0, coupled = 0, err = OPUS_OK;
  unsigned char mapping[8] = {};
  std::unique_ptr<OpusMSEncoder, void (*)(OpusMSEncoder*)> enc(
      opus_multistream_surround_encoder_create(kRate, channels, family, &streams, &coupled, mapping,
                                               OPUS_APPLICATION_AUDIO, &err),
      opus_multistream_encoder_destroy);
  if (!enc || err != OPUS_OK)
    throw std::runtime_error(std::string("Opus encoder: ") + opus_strerror(err));
  opus_int32 preskip = 0;
  if (opus_multistream_encoder_ctl(enc.get(), OPUS_SET_BITRATE(bitrate_kbps * 1000)) != OPUS_OK ||
      opus_multistream_encoder_ctl(enc.get(), OPUS_SET_VBR(0)) != OPUS_OK ||
      opus_multistream_encoder_ctl(enc.get(), OPUS_SET_COMPLEXITY(kComplexity)) != OPUS_OK ||
      opus_multistream_encoder_ctl(enc.get(), OPUS_GET_LOOKAHEAD(&preskip)) != OPUS_OK)
    throw std::runtime_error("Opus encoder: refused its settings");

  std::string out;
  OggStream ogg((int)kOggSerial);  // a fixed serial: the same bytes every time
  std::string head = "OpusHead";   // RFC 7845 5.1
  head += (char)1, head += (char)channels;
  put16(head, (unsigned)preskip);
  put32(head, (uint32_t)kRate);
  put16(head, 0);  // output gain
  head += (char)family;
  if (family == 1) {
    head += (char)streams, head += (char)coupled;
    head.append((const char*)mapping, (size_t)channels);
  }
  ogg.packet((const unsigned char*)head.data(), (long)head.size(), 0, 0, true, false);
  ogg.pages(out, true);
  std::string tags = "OpusTags";  // RFC 7845 5.2: the vendor, no comments
  const std::string vendor = opus_get_version_string();
  put32(tags, (uint32_t)vendor.size());
  tags += vendor;
  put32(tags, 0);
  ogg.packet((const unsigned char*)tags.data(), (long)tags.size(), 0, 1, false, false);
  ogg.pages(out, true);

  // The encoder's lookahead (pre-skip) is decoded and dropped: frames + preskip samples are
  // coded, zeros after the end; the last page's granule position trims the rest (4.4).
  const long long coded = frames + preskip;
  const long long packets = (coded + kFrame - 1) / kFrame;
  std::vector<float> pcm((size_t)kFrame * channels);
  std::vector<unsigned char> packet(kMaxPacket);
  for (long long k = 0; k < packets; ++k) {
    for (int n = 0; n < kFrame; ++n)
      for (int c = 0; c < channels; ++c) {
        const long long at = k * kFrame + n;
        pcm[(size_t)n * channels + c] = at < frames ? in[c][(size_t)at] : 0.0f;
      }
    const opus_int32 bytes = opus_multistream_encode_float(
        enc.get(), pcm.data(), kFrame, packet.data(), (opus_int32)packet.size());
    if (bytes < 0) throw std::runtime_error(std::string("Opus encoder: ") + opus_strerror(bytes));
    const bool last = k + 1 == packets;
    const ogg_int64_t granule = last ? coded : (k + 1) * kFrame;
    ogg.packet(packet.data(), bytes, granule, 2 + k, false, last);
    ogg.pages(out, last);
  }
  return out;
}

}  // namespace td
