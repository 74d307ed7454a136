// Ogg files that are the same bytes every time. libsndfile's Ogg writer takes each logical
// stream's serial number from the clock (psf_rand_int32), so two encodings of the same
// audio differ in four bytes of every page and in every page's CRC. topdown's Ogg files
// (Opus deliverables, the report page's excerpts) hold one logical stream: its serial is
// set to a constant and each page's CRC recomputed (RFC 3533, section 6: CRC-32, generator
// 0x04c11db7, initial value 0, over the page with its CRC field zeroed).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

namespace td {

constexpr uint32_t kOggSerial = 0x646f7074;  // "tpod" in the file's little-endian bytes

// The page CRC of RFC 3533 over n bytes.
uint32_t ogg_crc(const unsigned char* bytes, size_t n);

// Sets the serial of every page of `bytes` (an Ogg stream) and recomputes its CRC. Returns
// false, changing nothing, if a page is malformed or truncated.
bool set_ogg_serial(std::string& bytes, uint32_t serial = kOggSerial);

// The same on a file, page by page in place (a page is at most 65,307 bytes). Throws
// std::runtime_error if the file cannot be read or written or is not Ogg (the file is then
// partly changed: callers apply it to an unpublished temporary).
void set_ogg_serial_file(const std::filesystem::path& file, uint32_t serial = kOggSerial);

}  // namespace td
