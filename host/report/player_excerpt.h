// The report page's players (report_html.h): each plays an excerpt of a delivered file,
// embedded in the page as Ogg Opus in base64. The page's players start every variant at
// the loudest stretch of the best one, so that switching compares the same bars.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/analyze.h"

namespace td {

// The length of the excerpts (s) and their bit rate. Opus, not FLAC, for the page's size:
// 20 s of a master is about 3 MB as 16-bit FLAC and 0.6 MB as Opus at 192 kbps (base64
// included), so a page with 8 variants and 2 references stays near 7 MB. 192 kbps stereo
// is past the rate at which Opus is transparent on music in listening tests (the Opus
// codec's recommendations: 128 kbps and up for stereo music), and the delivered files,
// not the excerpts, are the masters.
constexpr double kExcerptSeconds = 20.0;
constexpr int kExcerptKbps = 192;

// The start (s) of the loudest `length_s` stretch by mean short-term loudness (1 s grid).
double loudest_start(const Readings& r, double length_s, double duration_s);

// The first frame and the frame count of the stretch [start_s, start_s + length_s) of a
// file of `frames` frames at `rate`, as read_audio_range reads it (rounded, clamped).
void excerpt_span(double start_s, double length_s, int rate, long long frames, long long& begin,
                  long long& count);

// Planar audio as the page embeds it: Ogg Opus at kExcerptKbps, base64.
std::string excerpt_opus_base64(const std::vector<std::vector<float>>& planar, int sample_rate);

// The stretch of a file, embedded; empty if the file cannot be read.
std::string excerpt_of_file(const std::filesystem::path& file, double start_s, double length_s);

std::string base64(const std::string& bytes);

}  // namespace td
