#include "io/ogg_serial.h"

#include <array>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace td {
namespace {

constexpr size_t kHeader = 27;  // capture pattern .. segment count (RFC 3533, section 6)

// Length of the page at p (header, segment table, body) if `have` bytes hold it; 0 if not.
size_t page_length(const unsigned char* p, size_t have) {
  if (have < kHeader || p[0] != 'O' || p[1] != 'g' || p[2] != 'g' || p[3] != 'S') return 0;
  const size_t segments = p[26];
  if (have < kHeader + segments) return 0;
  size_t body = 0;
  for (size_t i = 0; i < segments; ++i) body += p[kHeader + i];
  const size_t length = kHeader + segments + body;
  return have >= length ? length : 0;
}

void put_le32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = (unsigned char)(v >> (8 * i));
}

// Serial at bytes 14..17, CRC at 22..25, both little-endian.
void patch_page(unsigned char* p, size_t length, uint32_t serial) {
  put_le32(p + 14, serial);
  put_le32(p + 22, 0);
  put_le32(p + 22, ogg_crc(p, length));
}

}  // namespace

uint32_t ogg_crc(const unsigned char* bytes, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t r = i << 24;
      for (int k = 0; k < 8; ++k) r = (r & 0x80000000u) ? (r << 1) ^ 0x04c11db7u : r << 1;
      t[i] = r;
    }
    return t;
  }();
  uint32_t crc = 0;
  for (size_t i = 0; i < n; ++i) crc = (crc << 8) ^ table[((crc >> 24) ^ bytes[i]) & 0xffu];
  return crc;
}

bool set_ogg_serial(std::string& bytes, uint32_t serial) {
  auto* data = reinterpret_cast<unsigned char*>(bytes.data());
  std::vector<size_t> lengths;  // every page checked before any is changed
  for (size_t pos = 0; pos < bytes.size(); pos += lengths.back()) {
    lengths.push_back(page_length(data + pos, bytes.size() - pos));
    if (lengths.back() == 0) return false;
  }
  size_t pos = 0;
  for (size_t length : lengths) {
    patch_page(data + pos, length, serial);
    pos += length;
  }
  return true;
}

void set_ogg_serial_file(const std::filesystem::path& file, uint32_t serial) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) throw std::runtime_error(file.string() + ": cannot open to set its Ogg serial");
  const auto size = (size_t)std::filesystem::file_size(file);
  std::vector<unsigned char> page(kHeader + 255 + 255 * 255);
  for (size_t pos = 0; pos < size;) {
    const size_t have = std::min(page.size(), size - pos);
    f.seekg((std::streamoff)pos);
    if (!f.read(reinterpret_cast<char*>(page.data()), (std::streamsize)have))
      throw std::runtime_error(file.string() + ": read failed while setting its Ogg serial");
    const size_t length = page_length(page.data(), have);
    if (length == 0) throw std::runtime_error(file.string() + ": not an Ogg stream");
    patch_page(page.data(), length, serial);
    f.seekp((std::streamoff)pos);
    if (!f.write(reinterpret_cast<const char*>(page.data()), (std::streamsize)length))
      throw std::runtime_error(file.string() + ": write failed while setting its Ogg serial");
    pos += length;
  }
}

}  // namespace td
