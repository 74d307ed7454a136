#include "base/hash.h"

#include <xxhash.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

namespace td {

std::string hash_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "missing";
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) return "missing";
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), (std::streamsize)buf.size());
    XXH3_128bits_update(state.get(), buf.data(), (size_t)in.gcount());
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state.get());
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", (unsigned long long)h.high64,
                (unsigned long long)h.low64);
  return out;
}

}  // namespace td
