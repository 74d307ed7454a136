// A 128-bit content hash of a file (xxHash's XXH3, ten times faster than the serial mix it
// replaced: a batch hashes every stem and every output), as 32 hex digits: what batch's
// completion records and a render's manifest compare. Not cryptographic: it detects
// changed and truncated files, not a forger.
#pragma once
#include <filesystem>
#include <string>

namespace td {

// "missing" when the file cannot be read. drop_cache: the file is not needed again soon (an
// output just written), so its pages leave the cache behind the read (base/page_cache.h).
std::string hash_file(const std::filesystem::path& file, bool drop_cache = false);

}  // namespace td
