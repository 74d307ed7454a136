// The session file's model: plain structs, no audio. Parsed and validated by
// parse_session(); every error names the file, the line, the key and what is allowed.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/score_weights.h"
#include "base/input_error.h"
#include "base/paths.h"

namespace td {

struct AutomationPoint {
  double time_s;
  double value;
};

struct Automation {
  std::string param;  // "gain_db" or "pan"
  std::vector<AutomationPoint> points;
  int line = 0;
};

// One numeric, string or boolean setting of a processor, as written in the file.
struct ProcessorValue {
  enum class Kind { kNumber, kString, kBool, kNumberList } kind = Kind::kNumber;
  double number = 0.0;
  std::string text;
  bool flag = false;
  std::vector<double> list;
  int line = 0;
};

// A processor in a chain, or a band of an EQ / multiband processor.
struct Processor {
  std::string type;  // eq, compressor, multiband, deesser, saturation, imager, limiter, gain
  std::string id;    // defaults to the type (bands: "band<N>")
  std::map<std::string, ProcessorValue> values;  // every key given, validated
  std::vector<Processor> bands;                  // eq and multiband
  int line = 0;

  double number(const std::string& key, double fallback) const;
  std::string text(const std::string& key, const std::string& fallback) const;
};

enum class NodeKind { kTrack, kBus, kMaster };

struct Node {
  NodeKind kind = NodeKind::kTrack;
  std::string name;
  std::filesystem::path file;        // tracks: the stem, resolved against the session's folder
  std::string output;                // the bus this node feeds ("" for the master)
  double gain_db = 0.0;              // clip gain (tracks) / input trim (buses)
  double pan = 0.0;                  // -1 .. 1 (mono sources: pan law; stereo: balance)
  std::optional<double> pan_law_db;  // overrides [session] pan_law_db
  double fader_db = 0.0;
  bool mute = false;
  bool solo = false;
  std::vector<Processor> chain;
  std::vector<Automation> automation;
  int line = 0;
};

struct Delivery {
  std::string format = "wav";  // wav | flac
  int bit_depth = 24;          // 16 | 24 | 32 (float, wav only)
  std::optional<double> target_lufs;
  double ceiling_dbtp = -1.0;
  uint64_t dither_seed = 1;
};

// [metadata], and a deliverable's overrides: what the files carry for the next tool (WAV:
// bext and LIST INFO; FLAC: Vorbis comments; MP3: ID3v2; Opus: Vorbis comments).
struct Metadata {
  std::string title, artist, album, isrc, originator, description, date;
};

// One [[deliverable]]: a further file of each written master, driven to its own loudness
// under its own ceiling, verified on the decoded file (render/deliverables.h).
struct Deliverable {
  std::string name;
  std::string format = "wav";  // wav | flac | mp3 | opus
  int sample_rate = 0;         // 0: the session's
  int bit_depth = 24;          // wav, flac
  std::optional<double> target_lufs;
  double ceiling_dbtp = -1.0;
  int bitrate_kbps = 0;           // mp3, opus: 0 the format's default
  std::optional<double> quality;  // mp3, opus: VBR quality instead of a bit rate
  Metadata metadata;              // [metadata] with this deliverable's overrides
  int line = 0;
};

// What a sweep path names, resolved once when the file is parsed.
struct SweepTarget {
  int node = -1;
  enum class What { kGain, kPan, kFader, kProcessor } what = What::kGain;
  int processor = -1;  // index in the node's chain
  int band = -1;       // index in the processor's bands, or -1
  std::string key;     // the parameter: a node key or a processor (band) key
};

// Writes `v` where `t` points, into a node's settings (gain, pan, fader, chain): what a
// variant's sweep value or a match candidate's value does to the node it reaches.
void set_target_value(const SweepTarget& t, double v, double& gain_db, double& pan,
                      double& fader_db, std::vector<Processor>& chain);

struct SweepAxis {
  std::string path;  // node.param | node.processor.param | node.processor.band.param
  std::vector<double> values;
  int line = 0;
  SweepTarget target;  // what the path names
};

struct Variants {
  std::string mode = "grid";  // grid | random | list (variant i: value i of every axis)
  int count = 0;              // random: how many
  uint64_t seed = 1;          // random: generator seed
  std::vector<SweepAxis> sweep;
};

// One parameter of [search] (`topdown match`): a sweep path and its bounds, or the list of
// values it may take (a discrete parameter: a slope, or steps the user chose).
struct SearchAxis {
  std::string path;
  double min = 0, max = 0;     // a list's smallest and largest
  std::vector<double> values;  // non-empty: only these
  int line = 0;
  SweepTarget target;
};

// The EQ that [search] match = "spectral" adds to the master's chain (before its last
// limiter, or at the end), as a chain entry in TOML: six bands from 80 Hz to 12 kHz at
// 0 dB whose gains become [search] parameters of +-6 dB (docs/session-format.md).
const char* spectral_match_eq_toml();
constexpr double kSpectralMatchRangeDb = 6.0;

// [[align]]: tracks recorded from one source, to be measured against the first
// (`topdown align`), besides the groups their names imply.
struct AlignGroup {
  std::vector<std::string> tracks;
  int line = 0;
};

struct Reference {
  std::filesystem::path file;
  double weight = 1.0;
  int line = 0;
};

struct Session {
  std::filesystem::path file;  // the session file itself
  int sample_rate = 48000;
  double headroom_dbfs = -12.0;
  double pan_law_db = -3.0;
  double tail_s = 0.0;
  bool auto_gain_stage = false;      // clip gains so no bus's pre-chain peak exceeds headroom
  double vu_reference_dbfs = -18.0;  // the sine peak level that reads 0 VU
  Delivery delivery;
  Metadata metadata;
  std::vector<Deliverable> deliverables;
  std::vector<Node> nodes;  // tracks, then buses, then the master (always last)
  Variants variants;
  std::vector<SearchAxis> search;  // [search]
  std::vector<AlignGroup> align;   // [[align]]
  // [search] match = "spectral": the index in the master's chain where the shortcut's EQ
  // (spectral_match_eq_toml) was added; -1: none.
  int search_eq_at = -1;
  std::vector<Reference> references;
  ScoreWeights ranking;  // [ranking]

  int find(const std::string& name) const;  // node index or -1
  const Node& master() const { return nodes.back(); }
};

// Parses and validates a session file. Throws InputError.
Session parse_session_file(const std::filesystem::path& file);
// Same, from text; `file` names it in messages and anchors relative paths.
Session parse_session_text(const std::string& text, const std::filesystem::path& file);

// Every stem and reference of the session confined by the policy (base/paths.h): throws
// InputError naming the session file, the line and the key of the first one outside.
void confine_session_paths(const Session& s, const PathPolicy& policy);

// Processor types the renderer implements today; others parse and validate but make the
// render stop with "not supported yet".
bool processor_implemented(const std::string& type);

// What each node waits for: the nodes routed into it and the sources of its sidechains
// (one list per node, routing first, in session order). The parser checks it for cycles;
// the plan levels the graph by it.
std::vector<std::vector<int>> node_dependencies(const Session& s);

}  // namespace td
