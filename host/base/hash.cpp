#include "base/hash.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/page_cache.h"

namespace td {

std::string hash_file(const std::filesystem::path& file, bool drop_cache) {
  const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "missing";
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) {
    close(fd);
    return "missing";
  }
  if (drop_cache) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(1 << 20);
  long long at = 0, dropped = 0;
  for (;;) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return "missing";
    }
    if (n == 0) break;
    XXH3_128bits_update(state.get(), buf.data(), (size_t)n);
    at += n;
    if (drop_cache && at - dropped >= WriteBehind::kPieceBytes) {
      drop_read_pages(fd, dropped, at);
      dropped = at;
    }
  }
  if (drop_cache) drop_read_pages(fd, dropped, at);
  close(fd);
  const XXH128_hash_t h = XXH3_128bits_digest(state.get());
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", (unsigned long long)h.high64,
                (unsigned long long)h.low64);
  return out;
}

}  // namespace td
