// What each processor accepts: every key with its kind and allowed range. One table drives
// validation, the sweep-path check and docs/session-format.md's processor key list.
#pragma once
#include <string>
#include <vector>

namespace td {

struct KeySpec {
  enum class Kind { kNumber, kString, kBool, kNumberList, kNode } kind;
  const char* key;
  double min, max;          // numbers and list items
  const char* choices;      // strings: "a|b|c"; numbers: discrete allowed values "6|12|24"
  const char* description;  // unit and meaning, for messages and docs
};

struct ProcessorSpec {
  const char* type;
  bool implemented;
  const char* issue;  // where the missing implementation is tracked
  std::vector<KeySpec> keys;
  const char* band_type;  // the spec name of the entries of `bands`, or nullptr
};

// All processor specs, plus the band specs "eq-band" and "multiband-band".
const std::vector<ProcessorSpec>& processor_specs();
const ProcessorSpec* find_processor_spec(const std::string& type);
const KeySpec* find_key(const ProcessorSpec& spec, const std::string& key);

// An EQ band key's range for one band type (the slope of a high-pass is in dB/octave, a
// shelf's is RBJ's S); false when the key does not apply to that type.
bool eq_band_key_for_type(const std::string& type, KeySpec& key);

// "allowed: -1 .. 1" / "allowed: one of wav, flac" for messages.
std::string describe_allowed(const KeySpec& key);

}  // namespace td
