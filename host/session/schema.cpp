#include "session/schema.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "processors/processor.h"

namespace td {

using K = KeySpec::Kind;

KeySpec number_key(const char* key, double min, double max, const char* unit, double def,
                   const char* description) {
  KeySpec k{K::kNumber, key, min, max};
  k.unit = unit, k.description = description;
  k.has_default = true, k.default_number = def;
  return k;
}

KeySpec number_key_without_default(const char* key, double min, double max, const char* unit,
                                   const char* note, const char* description) {
  KeySpec k{K::kNumber, key, min, max};
  k.unit = unit, k.description = description, k.default_note = note;
  return k;
}

KeySpec choice_number_key(const char* key, const char* choices, const char* unit, double def,
                          const char* description) {
  KeySpec k{K::kNumber, key, HUGE_VAL, -HUGE_VAL};
  std::stringstream cs(choices);
  std::string c;
  while (std::getline(cs, c, '|'))
    k.min = std::fmin(k.min, std::stod(c)), k.max = std::fmax(k.max, std::stod(c));
  k.choices = choices, k.unit = unit, k.description = description;
  k.has_default = true, k.default_number = def;
  return k;
}

KeySpec text_key(const char* key, const char* choices, const char* def, const char* description) {
  KeySpec k{K::kString, key};
  k.choices = choices, k.description = description;
  k.has_default = true, k.default_text = def;
  return k;
}

KeySpec text_key_without_default(const char* key, const char* choices, const char* note,
                                 const char* description) {
  KeySpec k{K::kString, key};
  k.choices = choices, k.description = description, k.default_note = note;
  return k;
}

KeySpec bool_key(const char* key, bool def, const char* description) {
  KeySpec k{K::kBool, key};
  k.unit = "bool", k.description = description;
  k.has_default = true, k.default_number = def ? 1.0 : 0.0;
  return k;
}

KeySpec node_key(const char* key, const char* description) {
  KeySpec k{K::kNode, key};
  k.description = description;
  return k;
}

KeySpec list_key(const char* key, double min, double max, const char* unit, const char* note,
                 const char* description) {
  KeySpec k{K::kNumberList, key, min, max};
  k.unit = unit, k.description = description, k.default_note = note;
  return k;
}

const std::vector<ProcessorSpec>& processor_specs() {
  static const std::vector<ProcessorSpec> specs = [] {
    std::vector<ProcessorSpec> out;
    for (const ProcessorModule* m : processor_modules()) {
      out.push_back(m->spec());
      if (m->band_spec) out.push_back(*m->band_spec());
    }
    return out;
  }();
  return specs;
}

const ProcessorSpec* find_processor_spec(const std::string& type) {
  for (const auto& s : processor_specs())
    if (type == s.type) return &s;
  return nullptr;
}

const KeySpec* find_key(const ProcessorSpec& spec, const std::string& key) {
  for (const auto& k : spec.keys)
    if (key == k.key) return &k;
  return nullptr;
}

namespace {
// A track's pan law: [session]'s unless it says otherwise.
KeySpec pan_law_of_track() {
  KeySpec k = choice_number_key("pan_law_db", "0|-3|-4.5|-6", "dB", -3, "this track's pan law");
  k.has_default = false;
  k.default_note = "`[session]`";
  return k;
}
}  // namespace

const ProcessorSpec& node_spec() {
  static const ProcessorSpec spec{
      "node",
      true,
      nullptr,
      {number_key("gain_db", -60, 24, "dB", 0,
                  "clip gain (tracks) or input trim (buses, master), before the chain"),
       number_key("pan", -1, 1, "", 0,
                  "mono tracks: position by the pan law; stereo tracks and buses: balance"),
       number_key("fader_db", -120, 12, "dB", 0, "the fader, after the chain"), pan_law_of_track(),
       bool_key("mute", false, "silences the node"),
       bool_key("solo", false, "only soloed nodes (and what they feed or hold) play")},
      nullptr};
  return spec;
}

const ProcessorSpec& session_spec() {
  static const ProcessorSpec spec{
      "[session]",
      true,
      nullptr,
      {[] {
         KeySpec k =
             number_key("sample_rate", 8000, 384000, "Hz", 48000, "the render and delivery rate");
         k.allowed_note = "8000 .. 384000, whole number";
         return k;
       }(),
       number_key("headroom_dbfs", -60, 0, "dBFS", -12, "the gain-staging target"),
       choice_number_key("pan_law_db", "0|-3|-4.5|-6", "dB", -3, "centred mono level per channel"),
       number_key("tail_s", 0, 60, "s", 0, "silence after the longest stem"),
       bool_key("auto_gain_stage", false, "lower clip gains to meet the headroom"),
       number_key("vu_reference_dbfs", -40, 0, "dBFS", -18, "sine peak that reads 0 VU")},
      nullptr};
  return spec;
}

const ProcessorSpec& delivery_spec() {
  static const ProcessorSpec spec{
      "[delivery]",
      true,
      nullptr,
      {text_key("format", "wav|flac", "wav", "container of the delivered files"),
       choice_number_key("bit_depth", "16|24|32", "bits", 24, "sample format"),
       number_key_without_default("target_lufs", -70, 0, "LUFS", "none",
                                  "integrated loudness of each delivered master"),
       number_key("ceiling_dbtp", -20, 0, "dBTP", -1, "the true-peak ceiling"),
       number_key("dither_seed", 0, 4294967295.0, "", 1, "seed of the dither noise")},
      nullptr};
  return spec;
}

namespace {

// Free text (names, metadata): documented as "text".
KeySpec free_text_key(const char* key, const char* note, const char* description) {
  KeySpec k = text_key_without_default(key, "", note, description);
  k.allowed_note = "text";
  return k;
}

}  // namespace

const ProcessorSpec& deliverable_spec() {
  static const ProcessorSpec spec{
      "[[deliverable]]",
      true,
      nullptr,
      {free_text_key("name", "required", "the file's base name ([A-Za-z0-9_.-], unique)"),
       text_key("format", "wav|flac|mp3|opus", "wav", "file format"),
       [] {
         KeySpec k = number_key_without_default("sample_rate", 8000, 384000, "Hz", "the session's",
                                                "rate of the file");
         k.allowed_note = "8000 .. 384000, whole number (opus: 8000, 12000, 16000, 24000, 48000)";
         return k;
       }(),
       [] {
         KeySpec k = choice_number_key("bit_depth", "16|24|32", "bits", 24, "sample format");
         k.allowed_note = "16, 24, 32 (wav); 16, 24 (flac); not for mp3 and opus";
         return k;
       }(),
       number_key_without_default("target_lufs", -70, 0, "LUFS", "[delivery]'s",
                                  "integrated loudness of the decoded file"),
       number_key_without_default("ceiling_dbtp", -20, 0, "dBTP", "[delivery]'s",
                                  "true-peak ceiling of the decoded file"),
       number_key_without_default("bitrate_kbps", 6, 510, "kbps", "320 (mp3), 160 (opus)",
                                  "constant bit rate (mp3: 32 .. 320; opus: 6 .. 510)"),
       number_key_without_default("quality", 0, 1, "", "none",
                                  "variable bit rate instead: 0 best .. 1 smallest"),
       [] {
         KeySpec k = node_key("metadata", "overrides of [metadata] for this file");
         k.allowed_note = "an inline table of [metadata] keys";
         return k;
       }()},
      nullptr};
  return spec;
}

const ProcessorSpec& metadata_spec() {
  static const ProcessorSpec spec{
      "[metadata]",
      true,
      nullptr,
      {free_text_key("title", "none", "title"), free_text_key("artist", "none", "artist"),
       free_text_key("album", "none", "album"),
       free_text_key("isrc", "none", "ISRC: 12 characters, CC-XXX-YY-NNNNN without dashes"),
       free_text_key("originator", "none",
                     "who made the file (bext Originator, 32 characters at most)"),
       free_text_key("description", "none", "bext Description (256 characters at most)"),
       free_text_key("date", "none",
                     "origination date, YYYY-MM-DD (bext; none: left empty so that "
                     "a render is the same bytes every day)")},
      nullptr};
  return spec;
}

const KeySpec& spec_key(const ProcessorSpec& spec, const std::string& key) {
  const KeySpec* k = find_key(spec, key);
  if (!k) throw std::logic_error(std::string(spec.type) + "." + key + ": not in the schema");
  return *k;
}

bool eq_band_key_for_type(const std::string& type, KeySpec& key) {
  const std::string k = key.key;
  const bool pass = type == "highpass" || type == "lowpass";
  const bool shelf = type == "lowshelf" || type == "highshelf";
  if (k == "freq") return true;
  if (k == "gain_db") return shelf || type == "bell" || type == "tilt";
  if (k == "q") return shelf || type == "bell" || type == "notch" || type == "bandpass";
  if (k == "slope") {
    if (pass) {
      key.min = 6, key.max = 96, key.choices = "6|12|18|24|36|48|72|96";
      key.description = "slope, dB/octave";
      return true;
    }
    if (shelf) {
      key.min = 0.1, key.max = 1, key.choices = "";
      key.description = "shelf slope S (RBJ cookbook; 1: steepest without overshoot)";
      return true;
    }
    return false;
  }
  return true;
}

namespace {
std::string list_of(const char* choices, const char* quote) {  // "a|b|c" -> "a, b, c"
  std::string out = quote;
  for (const char* p = choices; *p; ++p)
    out += *p == '|' ? std::string(quote) + ", " + quote : std::string(1, *p);
  return out + quote;
}

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream s;
  s.precision(12);  // 4294967295 in full
  s << v;
  return s.str();
}
}  // namespace

std::string describe_allowed(const KeySpec& key) {
  std::ostringstream os;
  switch (key.kind) {
    case K::kString:
      os << "one of " << list_of(key.choices, "");
      break;
    case K::kBool:
      os << "true or false";
      break;
    case K::kNode:
      os << "the name of a track or bus";
      break;
    case K::kNumber:
    case K::kNumberList:
      if (*key.choices) {
        os << "one of " << list_of(key.choices, "");
      } else {
        os << num(key.min) << " .. " << num(key.max);
      }
      if (key.kind == K::kNumberList) os << " (a list)";
      break;
  }
  return os.str();
}

std::string docs_allowed(const KeySpec& key) {
  if (*key.allowed_note) return key.allowed_note;
  switch (key.kind) {
    case K::kString:
      return list_of(key.choices, "`");
    case K::kBool:
      return "";
    case K::kNode:
      return "a track or bus name";
    case K::kNumber:
    case K::kNumberList:
      return *key.choices ? list_of(key.choices, "") : num(key.min) + " .. " + num(key.max);
  }
  return "";
}

std::string docs_default(const KeySpec& key) {
  if (!key.has_default) return key.default_note;
  switch (key.kind) {
    case K::kString:
      return std::string("`") + key.default_text + "`";
    case K::kBool:
      return key.default_number != 0 ? "true" : "false";
    default:
      return num(key.default_number);
  }
}

}  // namespace td
