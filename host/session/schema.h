// What the session file accepts: every key with its kind, unit, allowed range and default.
// Processor keys come from the processor modules (host/processors/); the node, [session]
// and [delivery] keys are listed here. One table drives validation, the sweep-path check,
// the defaults the renderer uses, and docs/session-format.md (checked by a test).
#pragma once
#include <string>
#include <vector>

namespace td {

struct KeySpec {
  enum class Kind { kNumber, kString, kBool, kNumberList, kNode } kind;
  const char* key;
  double min = 0, max = 0;   // numbers and list items
  const char* choices = "";  // strings: "a|b|c"; numbers: discrete allowed values "6|12|24"
  const char* unit = "";     // "dB", "ms", "%", "bool", ...: as in the docs' unit column
  const char* description = "";
  // The value an absent key takes: a number (kNumber, kBool as 0/1) or a text (kString).
  bool has_default = false;
  double default_number = 0;
  const char* default_text = "";
  // Where the default is not one value ("adaa for hard, else none", "off", "required"):
  // what the docs say instead; the renderer decides it in code beside the key's use.
  const char* default_note = "";
  // Where the allowed values depend on another key (an EQ band's slope on its type): what
  // the docs say instead of the range.
  const char* allowed_note = "";
};

// Builders, so that a table reads as the docs' rows do.
KeySpec number_key(const char* key, double min, double max, const char* unit, double def,
                   const char* description);
KeySpec number_key_without_default(const char* key, double min, double max, const char* unit,
                                   const char* note, const char* description);
// Discrete numbers ("1|2|4|8").
KeySpec choice_number_key(const char* key, const char* choices, const char* unit, double def,
                          const char* description);
KeySpec text_key(const char* key, const char* choices, const char* def, const char* description);
KeySpec text_key_without_default(const char* key, const char* choices, const char* note,
                                 const char* description);
KeySpec bool_key(const char* key, bool def, const char* description);
KeySpec node_key(const char* key, const char* description);
KeySpec list_key(const char* key, double min, double max, const char* unit, const char* note,
                 const char* description);

struct ProcessorSpec {
  const char* type;
  bool implemented;
  const char* issue;  // where a missing implementation is tracked
  std::vector<KeySpec> keys;
  const char* band_type;  // the spec name of the entries of `bands`, or nullptr
};

// All processor specs (from the processor modules), plus their band specs ("eq-band",
// "multiband-band").
const std::vector<ProcessorSpec>& processor_specs();
const ProcessorSpec* find_processor_spec(const std::string& type);
const KeySpec* find_key(const ProcessorSpec& spec, const std::string& key);

// The node, [session] and [delivery] keys, as specs named "node", "[session]", "[delivery]".
const ProcessorSpec& node_spec();
const ProcessorSpec& session_spec();
const ProcessorSpec& delivery_spec();
// [[deliverable]] entries and [metadata] (also a deliverable's `metadata` overrides).
const ProcessorSpec& deliverable_spec();
const ProcessorSpec& metadata_spec();
// A key of one of them; throws std::logic_error for a key that is not listed.
const KeySpec& spec_key(const ProcessorSpec& spec, const std::string& key);

// An EQ band key's range for one band type (the slope of a high-pass is in dB/octave, a
// shelf's is RBJ's S); false when the key does not apply to that type.
bool eq_band_key_for_type(const std::string& type, KeySpec& key);

// "-1 .. 1" / "one of wav, flac" for messages.
std::string describe_allowed(const KeySpec& key);
// The docs' "allowed" and "default" cells of a key ("-80 .. 0", "`peak`, `rms`"; "-18",
// "`peak`", or the note).
std::string docs_allowed(const KeySpec& key);
std::string docs_default(const KeySpec& key);

}  // namespace td
