#include "session/schema.h"

#include <cmath>
#include <sstream>

namespace td {
namespace {

using K = KeySpec::Kind;
constexpr double kInf = HUGE_VAL;

std::vector<KeySpec> compressor_keys() {
  return {
      {K::kNumber, "threshold_db", -80, 0, nullptr, "level where compression starts, dBFS"},
      {K::kNumber, "ratio", 1, kInf, nullptr,
       "input dB over threshold per output dB (inf: limiting)"},
      {K::kNumber, "knee_db", 0, 24, nullptr, "width of the quadratic soft knee, dB"},
      {K::kNumber, "attack_ms", 0.01, 500, nullptr, "attack time constant, ms"},
      {K::kNumber, "release_ms", 1, 5000, nullptr, "release time constant, ms"},
      {K::kString, "release", 0, 0, "auto", "program-dependent release"},
      {K::kString, "detector", 0, 0, "peak|rms", "level detector"},
      {K::kNumber, "rms_ms", 1, 1000, nullptr, "RMS detector window, ms"},
      {K::kNumber, "makeup_db", -24, 24, nullptr, "makeup gain, dB"},
      {K::kString, "makeup", 0, 0, "auto", "automatic makeup gain"},
      {K::kNumber, "stereo_link_pct", 0, 100, nullptr, "stereo link, %"},
      {K::kNode, "sidechain", 0, 0, nullptr, "node whose signal keys the detector"},
      {K::kNumber, "sidechain_hpf_hz", 10, 1000, nullptr, "high-pass on the key signal, Hz"},
      {K::kNumber, "mix_pct", 0, 100, nullptr, "wet share (parallel compression), %"},
      {K::kNumber, "lookahead_ms", 0, 20, nullptr, "detector look-ahead, ms"},
      {K::kString, "style", 0, 0, "vca|opto", "character"},
  };
}

std::vector<ProcessorSpec> build_specs() {
  std::vector<ProcessorSpec> specs;
  specs.push_back({"gain",
                   true,
                   nullptr,
                   {{K::kNumber, "gain_db", -60, 24, nullptr, "gain, dB"},
                    {K::kBool, "invert", 0, 0, nullptr, "polarity inversion"}},
                   nullptr});
  specs.push_back({"eq",
                   true,
                   nullptr,
                   {{K::kString, "mode", 0, 0, "linear|minimum", "phase response"}},
                   "eq-band"});
  specs.push_back(
      {"eq-band",
       true,
       nullptr,
       {{K::kString, "type", 0, 0, "highpass|lowpass|lowshelf|highshelf|bell|notch|bandpass|tilt",
         "band shape"},
        {K::kNumber, "freq", 10, 24000, nullptr, "corner, centre or pivot frequency, Hz"},
        {K::kNumber, "gain_db", -24, 24, nullptr, "band gain, dB"},
        {K::kNumber, "q", 0.1, 40, nullptr, "quality factor"},
        {K::kNumber, "slope", 0.1, 96, nullptr,
         "high/low-pass: dB/octave (6, 12, 18, 24, 36, 48, 72, 96); shelves: RBJ's S (0.1 .. 1)"}},
       nullptr});
  specs.push_back({"compressor", true, nullptr, compressor_keys(), nullptr});
  {
    auto band = compressor_keys();
    band.push_back({K::kBool, "solo", 0, 0, nullptr, "hear only this band"});
    band.push_back({K::kBool, "bypass", 0, 0, nullptr, "band passes uncompressed"});
    specs.push_back({"multiband-band", true, nullptr, band, nullptr});
  }
  specs.push_back({"multiband",
                   true,
                   nullptr,
                   {{K::kNumberList, "crossovers_hz", 20, 20000, nullptr,
                     "band edges, Hz, ascending (1 to 4 of them)"}},
                   "multiband-band"});
  specs.push_back({"deesser",
                   true,
                   nullptr,
                   {{K::kNumber, "low_hz", 2000, 16000, nullptr, "sibilance band low edge, Hz"},
                    {K::kNumber, "high_hz", 2000, 20000, nullptr, "sibilance band high edge, Hz"},
                    {K::kNumber, "threshold_db", -80, 0, nullptr, "detection threshold, dBFS"},
                    {K::kNumber, "range_db", 0, 24, nullptr, "maximum reduction, dB"},
                    {K::kString, "mode", 0, 0, "split|wide", "what is reduced"}},
                   nullptr});
  specs.push_back({"saturation",
                   true,
                   nullptr,
                   {{K::kString, "model", 0, 0, "tape|tube|soft|hard", "transfer curve"},
                    {K::kNumber, "drive_db", 0, 36, nullptr, "input drive, dB"},
                    {K::kNumber, "bias", -1, 1, nullptr, "asymmetry (even harmonics)"},
                    {K::kNumber, "mix_pct", 0, 100, nullptr, "wet share, %"},
                    {K::kNumber, "output_db", -24, 24, nullptr, "output gain, dB"},
                    {K::kNumber, "tone", -1, 1, nullptr, "tape emphasis, -1 dark .. 1 bright"},
                    {K::kNumber, "oversampling", 1, 8, "1|2|4|8", "oversampling factor"},
                    {K::kString, "antialias", 0, 0, "adaa|none", "antiderivative anti-aliasing"}},
                   nullptr});
  specs.push_back({"imager",
                   true,
                   nullptr,
                   {{K::kNumber, "width_pct", 0, 200, nullptr, "side level, % (100: unchanged)"},
                    {K::kNumber, "mono_below_hz", 0, 1000, nullptr, "mono below this, Hz"},
                    {K::kNumber, "balance", -1, 1, nullptr, "left/right balance"}},
                   nullptr});
  specs.push_back(
      {"limiter",
       true,
       nullptr,
       {{K::kNumber, "ceiling_dbtp", -20, 0, nullptr, "true-peak ceiling, dBTP"},
        {K::kNumber, "release_ms", 1, 2000, nullptr, "release time constant, ms"},
        {K::kNumber, "lookahead_ms", 0, 20, nullptr, "look-ahead, ms"},
        {K::kNumber, "max_reduction_db", 0, 24, nullptr,
         "delivery: the most limiting the drive to [delivery] target_lufs may use, dB"}},
       nullptr});
  return specs;
}

}  // namespace

const std::vector<ProcessorSpec>& processor_specs() {
  static const std::vector<ProcessorSpec> specs = build_specs();
  return specs;
}

const ProcessorSpec* find_processor_spec(const std::string& type) {
  for (const auto& s : processor_specs())
    if (type == s.type) return &s;
  return nullptr;
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
      key.min = 0.1, key.max = 1, key.choices = nullptr;
      key.description = "shelf slope S (RBJ cookbook; 1: steepest without overshoot)";
      return true;
    }
    return false;
  }
  return true;
}

const KeySpec* find_key(const ProcessorSpec& spec, const std::string& key) {
  for (const auto& k : spec.keys)
    if (key == k.key) return &k;
  return nullptr;
}

namespace {
std::string list_of(const char* choices) {  // "a|b|c" -> "a, b, c"
  std::string out;
  for (const char* p = choices; *p; ++p) out += *p == '|' ? std::string(", ") : std::string(1, *p);
  return out;
}
}  // namespace

std::string describe_allowed(const KeySpec& key) {
  std::ostringstream os;
  auto num = [](double v) {
    if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
    std::ostringstream s;
    s << v;
    return s.str();
  };
  switch (key.kind) {
    case K::kString: {
      os << "one of " << list_of(key.choices);
      break;
    }
    case K::kBool:
      os << "true or false";
      break;
    case K::kNode:
      os << "the name of a track or bus";
      break;
    case K::kNumber:
    case K::kNumberList:
      if (key.choices) {
        os << "one of " << list_of(key.choices);
      } else {
        os << num(key.min) << " .. " << num(key.max);
      }
      if (key.kind == K::kNumberList) os << " (a list)";
      break;
  }
  return os.str();
}

}  // namespace td
