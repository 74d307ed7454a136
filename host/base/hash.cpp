#include "base/hash.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "kernels/dither.h"  // mix64

namespace td {

std::string hash_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "missing";
  uint64_t h = 0x243F6A8885A308D3ull, size = 0;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), (std::streamsize)buf.size());
    const size_t n = (size_t)in.gcount();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, buf.data() + i, 8);
      h = mix64(h ^ w);
    }
    for (; i < n; ++i) h = mix64(h ^ (uint8_t)buf[i]);
    size += n;
  }
  h = mix64(h ^ size);
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", (unsigned long long)h);
  return out;
}

}  // namespace td
