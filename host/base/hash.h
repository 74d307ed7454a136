// A 64-bit content hash of a file (SplitMix64 over 8-byte words, then the length), as hex:
// what batch's completion records and a render's manifest compare. Not cryptographic:
// it detects changed and truncated files, not a forger.
#pragma once
#include <filesystem>
#include <string>

namespace td {

// "missing" when the file cannot be read.
std::string hash_file(const std::filesystem::path& file);

}  // namespace td
