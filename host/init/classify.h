// Which bus a client's stem belongs on, the way a mix engineer reads the file names (and,
// where the name says nothing, listens): keywords and the abbreviations studios use, in
// English and German, case- and separator-insensitive; an audio fallback from the crest
// factor and the spectral centroid.
#pragma once
#include <string>
#include <vector>

namespace td {

// The buses of the top-down layout, in routing order.
extern const char* const kInitBuses[];  // drums, bass, guitars, keys, vocals, fx, other
constexpr int kInitBusCount = 7;

// A name split into lowercase words: separators, digits and camelCase end a word
// ("LeadVox_02.wav" -> lead, vox).
std::vector<std::string> name_words(const std::string& file_stem);

// The bus a name points at, or "" when it says nothing. Instrument words outweigh
// qualifiers ("Lead Guitar" is a guitar, "Lead" alone a vocal).
std::string bus_from_name(const std::string& file_stem);

// The audio fallback: "drums" for transient material (crest factor of 14 dB or more),
// "keys" for sustained tonal material with its energy under 4 kHz, else "other".
struct AudioTraits {
  double crest_db = 0;     // sample peak over RMS
  double centroid_hz = 0;  // spectral centroid of the long-term spectrum
};
AudioTraits audio_traits(const std::vector<std::vector<float>>& audio, int sample_rate);
std::string bus_from_audio(const AudioTraits& t);

// "gtr_L" and "gtr_R" (also .L/.R, -l/-r, _left/_right, links/rechts): the shared base
// name (without the clients' leading numbering, "07 OH L" -> "OH") and the side (0 left,
// 1 right), or side -1 for a name that is not one of a pair.
int stereo_side(const std::string& file_stem, std::string* base);

}  // namespace td
