#include "init/mastering.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "base/input_error.h"
#include "init/calibrate.h"
#include "io/audio_file.h"
#include "render/render.h"
#include "session/session.h"

namespace td {
namespace {

namespace fs = std::filesystem;

struct MasteringTemplate {
  double target_lufs = -14.0, ceiling_dbtp = -1.0;
  bool glue = true;        // 2:1 glue compressor, auto release
  bool multiband = false;  // three bands, each levelled
  bool tape = true;
  bool imager = true;  // mono below 120 Hz
  double limiter_release_ms = 50, limiter_max_reduction_db = 6;
};

MasteringTemplate template_of(const std::string& name) {
  MasteringTemplate t;
  if (name == "transparent") {
    t.glue = t.tape = t.imager = false;
  } else if (name == "loud") {
    t.target_lufs = -9.0;
    t.ceiling_dbtp = -0.5;
    t.multiband = true;
    t.limiter_release_ms = 30;
    t.limiter_max_reduction_db = 12;
  }
  return t;
}

std::string lower(std::string s) {
  for (char& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

// The session text. `calibrating` leaves out the delivery and the maximizer: the measuring
// renders need only the compressors.
std::string session_text(const fs::path& mix_file, int rate, const MasteringTemplate& t,
                         const std::string& name, double target, double ceiling,
                         std::map<std::string, Calibrated>& cal, bool calibrating) {
  const auto n = toml_number;
  std::ostringstream s;
  s << "# topdown mastering session made by `topdown master` (template: " << name << ").\n"
    << "# One track, the client's mix, straight into the master, whose chain is the mastering\n"
    << "# chain. Compressor thresholds are set from the mix's measured level so that each\n"
    << "# reduces by the amount its comment says. Edit freely: `topdown render` it, or add\n"
    << "# [variants.sweep] to compare settings.\n\n"
    << "[session]\nsample_rate = " << rate << "\n"
    << "# A finished mix peaks near full scale: no headroom target for its input.\n"
    << "headroom_dbfs = 0.0\n\n";
  if (!calibrating)
    s << "[delivery]\nformat = \"wav\"\nbit_depth = 24\n"
      << "# The maximizer (the master's last limiter) is driven to this loudness.\n"
      << "target_lufs = " << n(target) << "\nceiling_dbtp = " << n(ceiling) << "\n\n";
  s << "[master]\nchain = [\n"
    << "  # Linear-phase EQ: clear the sub-lows that eat headroom";
  if (name == "transparent") {
    s << ".\n  { type = \"eq\", id = \"eq\", bands = [ { id = \"hp\", type = \"highpass\", "
         "freq = 20, slope = 12 } ] },\n";
  } else {
    s << "; a little air on top.\n"
      << "  { type = \"eq\", id = \"eq\", bands = [ { id = \"hp\", type = \"highpass\", freq = 25, "
         "slope = 24 },\n"
      << "      { id = \"air\", type = \"bell\", freq = 10000, gain_db = 0.75, q = 0.7 } ] },\n";
  }
  if (t.multiband) {
    const Calibrated &lo = cal["master.mb.low"], &mid = cal["master.mb.mid"],
                     &hi = cal["master.mb.high"];
    s << "  # Multiband: each band levelled by about " << n(lo.target_db)
      << " dB (low 2.5:1, slow; mid 2:1; high 2:1, fast).\n"
      << "  { type = \"multiband\", id = \"mb\", crossovers_hz = [150, 3000], bands = [\n"
      << "      { id = \"low\", threshold_db = " << n(lo.threshold_db)
      << ", ratio = 2.5, attack_ms = 30, release_ms = 200 },\n"
      << "      { id = \"mid\", threshold_db = " << n(mid.threshold_db)
      << ", ratio = 2, attack_ms = 15, release_ms = 120 },\n"
      << "      { id = \"high\", threshold_db = " << n(hi.threshold_db)
      << ", ratio = 2, attack_ms = 5, release_ms = 60 } ] },\n";
  }
  if (t.glue) {
    const Calibrated& g = cal["master.glue"];
    s << "  # Glue: 2:1, 10 ms attack, program-dependent release, about " << n(g.target_db)
      << " dB of reduction.\n"
      << "  { type = \"compressor\", id = \"glue\", threshold_db = " << n(g.threshold_db)
      << ", ratio = 2, knee_db = 6, attack_ms = 10, release = \"auto\" },\n";
  }
  if (t.tape)
    s << "  # Tape: harmonics and density.\n"
      << "  { type = \"saturation\", id = \"tape\", model = \"tape\", drive_db = "
      << (t.multiband ? "3" : "2") << " },\n";
  if (t.imager)
    s << "  # Mono below 120 Hz: a centred low end that cuts on every system.\n"
      << "  { type = \"imager\", id = \"width\", mono_below_hz = 120 },\n";
  if (!calibrating)
    s << "  # The maximizer: delivers [delivery] target_lufs under the ceiling.\n"
      << "  { type = \"limiter\", id = \"max\", ceiling_dbtp = " << n(ceiling)
      << ", release_ms = " << n(t.limiter_release_ms)
      << ", max_reduction_db = " << n(t.limiter_max_reduction_db) << " },\n";
  s << "]\n\n[[track]]\n# The client's mix.\nname = \"mix\"\nfile = \"" << mix_file.generic_string()
    << "\"\n";
  return s.str();
}

}  // namespace

std::vector<std::string> mastering_templates() {
  return {"transparent", "glue", "loud"};
}

std::optional<fs::path> mix_in_folder(const std::vector<fs::path>& files) {
  if (files.size() == 1) return files[0];
  std::optional<fs::path> found;
  for (const auto& f : files) {
    const std::string stem = lower(f.stem().string());
    // Whole words only: "remix_vox" is a stem, "final_mix" a mix.
    std::string word;
    bool mix = false;
    for (size_t i = 0; i <= stem.size(); ++i) {
      const char c = i < stem.size() ? stem[i] : ' ';
      if (std::isalpha((unsigned char)c)) {
        word += c;
        continue;
      }
      mix |= word == "mix" || word == "master" || word == "final" || word == "bounce" ||
             word == "premaster" || word == "mixdown" || word == "stereomix";
      word.clear();
    }
    if (!mix) return std::nullopt;  // a stem among them: a stems folder
    if (!found) found = f;
  }
  return found;
}

MasteringResult mastering_session(const fs::path& mix, const fs::path& session_file,
                                  const MasteringOptions& options) {
  const auto names = mastering_templates();
  if (std::find(names.begin(), names.end(), options.template_name) == names.end())
    throw InputError("--template: \"" + options.template_name +
                     "\" is not a mastering template (allowed: transparent, glue, loud)");
  const MasteringTemplate t = template_of(options.template_name);
  const double target = options.target_lufs.value_or(t.target_lufs);
  const double ceiling = options.ceiling_dbtp.value_or(t.ceiling_dbtp);
  if (!(target >= -60.0 && target <= 0.0))
    throw InputError("--target-lufs: " + toml_number(target) + " is out of range (-60 .. 0)");
  if (!(ceiling >= -20.0 && ceiling <= 0.0))
    throw InputError("--ceiling-dbtp: " + toml_number(ceiling) + " is out of range (-20 .. 0)");
  const StemInfo info = probe_stem(mix, 48000);
  if (info.channels > 2)
    throw InputError(mix.string() + ": " + std::to_string(info.channels) +
                     " channels; a mix to master is mono or stereo");
  const fs::path session_dir = fs::absolute(session_file).parent_path();
  std::error_code ec;
  fs::path file = fs::relative(fs::absolute(mix), session_dir, ec);
  if (ec || file.empty()) file = fs::absolute(mix);

  std::map<std::string, Calibrated> cal;
  if (t.glue) cal["master.glue"] = {"", "glue", 2, 1.5, -20};
  if (t.multiband) {
    cal["master.mb.low"] = {"", "mb.low", 2.5, 1.5, -24};
    cal["master.mb.mid"] = {"", "mb.mid", 2, 1.5, -24};
    cal["master.mb.high"] = {"", "mb.high", 2, 1.5, -28};
  }
  MasteringResult result;
  auto measure = [&] {
    const std::string text =
        session_text(file, info.sample_rate, t, options.template_name, target, ceiling, cal, true);
    const Session s = parse_session_text(text, session_file);
    RenderOptions ro;
    ro.backend = options.backend;
    ro.write_audio = false;
    ++result.passes;
    return render_session(s, stems_from_files(s), ro);
  };
  auto reduction_of = [](const RenderResult& r, const Calibrated& c) {
    for (const auto& d : r.dynamics)
      if (d.node == r.nodes.back().name && d.processor == c.id) return d.mean_db;
    return 0.0;
  };
  for (int pass = 0; pass < 6 && !cal.empty(); ++pass) {
    const RenderResult r = measure();
    bool done = true;
    for (auto& [key, c] : cal) done &= calibrate_step(c, reduction_of(r, c));
    if (done) break;
  }
  if (!cal.empty()) {
    const RenderResult last = measure();
    for (auto& [key, c] : cal) result.reductions.emplace_back(key, reduction_of(last, c));
  }
  result.toml =
      session_text(file, info.sample_rate, t, options.template_name, target, ceiling, cal, false);
  return result;
}

}  // namespace td
