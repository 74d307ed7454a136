#include "init/init.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "align/align.h"
#include "init/calibrate.h"
#include "init/classify.h"
#include "init/mastering.h"
#include "io/audio_file.h"
#include "render/render.h"
#include "session/session.h"

namespace td {
namespace {

namespace fs = std::filesystem;

bool is_audio(const fs::path& p) {
  std::string e = p.extension().string();
  for (char& c : e) c = (char)std::tolower((unsigned char)c);
  return e == ".wav" || e == ".aif" || e == ".aiff" || e == ".flac";
}

// A track name the session accepts ([A-Za-z0-9_-]), unique.
std::string track_name(const std::string& stem, std::set<std::string>& used) {
  std::string n;
  for (char c : stem) n += std::isalnum((unsigned char)c) || c == '-' || c == '_' ? c : '_';
  while (!n.empty() && n.back() == '_') n.pop_back();
  if (n.empty()) n = "track";
  auto is_bus = [](const std::string& x) {
    for (int b = 0; b < kInitBusCount; ++b)
      if (x == kInitBuses[b] || x == "master") return true;
    return false;
  };
  std::string u = n;
  for (int i = 2; used.count(u) || is_bus(u); ++i) u = n + "_" + std::to_string(i);
  used.insert(u);
  return u;
}

std::string num(double v) {
  return toml_number(v);
}

struct Template {
  double glue_ratio = 2, glue_target = 1.5;  // 0 ratio: no mix-bus compressor
  double drum_ratio = 3, drum_target = 3;    // 0: no drum compressor
  double vocal_target = 3;
  double bass_duck_target = 2;  // 0: no kick-keyed compressor on the bass
  bool bass_multiband = true;
  double guitar_width = 110, keys_width = 120;
  bool bus_chains = true;
};

Template template_of(const std::string& name) {
  Template t;
  if (name == "electronic") {
    t.glue_target = 2.0;
    t.drum_ratio = 4;
    t.drum_target = 4;
    t.bass_duck_target = 3;
    t.keys_width = 130;
  } else if (name == "orchestral") {
    t.glue_ratio = 1.5;
    t.glue_target = 1.0;
    t.drum_ratio = 0;
    t.bass_duck_target = 0;
    t.bass_multiband = false;
    t.guitar_width = 100;
    t.keys_width = 100;
  } else if (name == "minimal") {
    t.glue_ratio = 0;
    t.bus_chains = false;
  }
  return t;
}

struct Layout {
  int rate = 48000;
  std::vector<InitTrack> tracks;
  std::string kick;  // the track that keys the bass, if any
};

std::string compressor_text(const Calibrated& c, const std::string& extra) {
  return "{ type = \"compressor\", id = \"" + c.id + "\", threshold_db = " + num(c.threshold_db) +
         ", ratio = " + num(c.ratio) + extra + " }";
}

// An aligned track's chain: the utility step `topdown align --apply` writes (align_step),
// with a comment that says what was measured.
std::string align_text(const InitTrack& t) {
  std::ostringstream ms;
  ms.precision(5);
  ms << std::fixed << t.align_delay_ms;
  std::ostringstream s;
  s << "# Another recording of " << t.aligned_to
    << "'s source, lined up with it (topdown align):\n# "
    << (t.align_delay_ms < 0 ? "advanced " : "delayed ") << num(std::fabs(t.align_delay_ms))
    << " ms" << (t.align_invert ? ", polarity flipped" : "")
    << "; the pair's sum below 200 Hz gains " << num(t.align_lf_gain_db)
    << " dB.\nchain = [ { type = \"utility\", id = \"align\", delay_ms = " << ms.str()
    << (t.align_invert ? ", invert_left = true, invert_right = true" : "") << " } ]\n";
  return s.str();
}

// The session text. `calibrating` leaves out the delivery (limiter and target): the
// measuring passes need only the mix.
std::string session_text(const Layout& l, const Template& t, const std::string& template_name,
                         std::map<std::string, Calibrated>& cal, bool calibrating) {
  std::ostringstream s;
  s << "# topdown session made by `topdown init` (template: " << template_name << ").\n"
    << "# Routing: every stem on a bus by its name (or, where the name says nothing, by its\n"
    << "# sound); buses into the mix bus. Clip gains stage every bus at or under -12 dBFS\n"
    << "# before its chain; compressor thresholds are set from the measured levels so that\n"
    << "# each reduces by the amount its comment says. Edit freely: `topdown render` it.\n";
  if (std::any_of(l.tracks.begin(), l.tracks.end(),
                  [](const InitTrack& t) { return !t.aligned_to.empty(); }))
    s << "# Layered recordings of one source (kick in/out, DI/amp) are lined up first, by\n"
      << "# utility steps with id \"align\" (`topdown align` measures them again).\n";
  s << "\n"
    << "[session]\nsample_rate = " << l.rate << "\nheadroom_dbfs = -12.0\n\n";
  if (!calibrating)
    s << "[delivery]\nformat = \"wav\"\nbit_depth = 24\n"
      << "# The maximizer (the master's last limiter) is driven to this loudness.\n"
      << "target_lufs = -14.0\nceiling_dbtp = -1.0\n\n";
  // The mix bus first: it is set up first in a top-down mix.
  s << "[master]\nchain = [\n";
  if (t.bus_chains)
    s << "  # The buses meet a British-style console: each through its channel path, a little\n"
      << "  # crosstalk and the summing amp (second-harmonic warmth; sweep drive_db to taste).\n"
      << "  { type = \"console\", model = \"british_a\", drive_db = 0 },\n";
  s << "  # Clean the sub-lows that eat headroom; a little air on top.\n"
    << "  { type = \"eq\", id = \"eq\", bands = [ { id = \"hp\", type = \"highpass\", freq = 25, "
       "slope = 24 },\n"
    << "      { id = \"air\", type = \"bell\", freq = 10000, gain_db = 0.75, q = 0.7 } ] },\n";
  if (t.glue_ratio > 0)
    s << "  # Glue: " << num(t.glue_ratio) << ":1, 10 ms attack, program-dependent release, about "
      << num(t.glue_target) << " dB of reduction.\n  "
      << compressor_text(cal["master.glue"], ", knee_db = 6, attack_ms = 10, release = \"auto\"")
      << ",\n";
  if (t.bus_chains)
    s << "  # Tape: harmonics and glue.\n"
      << "  { type = \"saturation\", id = \"tape\", model = \"tape\", drive_db = 3 },\n";
  if (!calibrating)
    s << "  # The maximizer: delivers [delivery] target_lufs under the ceiling.\n"
      << "  { type = \"limiter\", id = \"max\", ceiling_dbtp = -1.0 },\n";
  s << "]\n\n";
  std::set<std::string> used;
  for (const auto& tr : l.tracks) used.insert(tr.bus);
  for (int b = 0; b < kInitBusCount; ++b) {
    const std::string bus = kInitBuses[b];
    if (!used.count(bus)) continue;
    s << "[[bus]]\nname = \"" << bus << "\"\n";
    if (t.bus_chains) {
      if (bus == "drums") {
        s << "chain = [\n";
        if (t.drum_ratio > 0)
          s << "  # Punch: " << num(t.drum_ratio) << ":1, 10 ms / 100 ms, about "
            << num(t.drum_target) << " dB.\n  "
            << compressor_text(cal["drums.punch"],
                               ", knee_db = 3, attack_ms = 10, release_ms = 100")
            << ",\n";
        s << "  # Scoop the boxy 400 Hz.\n"
          << "  { type = \"eq\", id = \"scoop\", bands = [ { type = \"bell\", freq = 400, gain_db "
             "= -2, "
             "q = 1.2 } ] },\n"
          << "  # Tape for density.\n"
          << "  { type = \"saturation\", id = \"tape\", model = \"tape\", drive_db = 4 },\n]\n";
      } else if (bus == "bass") {
        s << "chain = [\n";
        if (t.bass_multiband)
          s << "  # Low end: stabilise (3:1 under 120 Hz); high end: define (2:1 above).\n"
            << "  { type = \"multiband\", id = \"mb\", crossovers_hz = [120], bands = [\n"
            << "      { id = \"low\", threshold_db = " << num(cal["bass.mb.low"].threshold_db)
            << ", ratio = 3, attack_ms = 30, release_ms = 150 },\n"
            << "      { id = \"high\", threshold_db = " << num(cal["bass.mb.high"].threshold_db)
            << ", ratio = 2, attack_ms = 5, release_ms = 80 } ] },\n";
        if (t.bass_duck_target > 0 && !l.kick.empty())
          s << "  # The kick keys the bass: it ducks about " << num(t.bass_duck_target)
            << " dB under each hit.\n  "
            << compressor_text(cal["bass.duck"],
                               ", knee_db = 0, attack_ms = 2, release_ms = 80, "
                               "sidechain = \"" +
                                   l.kick + "\"")
            << ",\n";
        s << "]\n";
      } else if (bus == "guitars") {
        s << "chain = [\n  # Low cut at 80 Hz (room for bass and kick), +1 dB of bite at 3 kHz.\n"
          << "  { type = \"eq\", id = \"eq\", bands = [ { type = \"highpass\", freq = 80, slope = "
             "12 "
             "},\n"
          << "      { type = \"bell\", freq = 3000, gain_db = 1, q = 1 } ] },\n"
          << "  # A touch of width.\n  { type = \"imager\", width_pct = " << num(t.guitar_width)
          << " },\n]\n";
      } else if (bus == "vocals") {
        s << "chain = [\n  # Sibilance first.\n"
          << "  { type = \"deesser\", threshold_db = -30, range_db = 6 },\n"
          << "  # Gentle levelling: an opto 3:1, about " << num(t.vocal_target) << " dB.\n  "
          << compressor_text(cal["vocals.level"],
                             ", knee_db = 6, attack_ms = 10, release_ms = 200, "
                             "style = \"opto\"")
          << ",\n  # A little drive for presence, half wet.\n"
          << "  { type = \"saturation\", id = \"drive\", model = \"soft\", drive_db = 6, mix_pct "
             "= 50 },\n]\n";
      } else if (bus == "keys") {
        s << "chain = [\n  # Make room for the vocal: cut the 400 Hz mud.\n"
          << "  { type = \"eq\", id = \"eq\", bands = [ { type = \"bell\", freq = 400, gain_db = "
             "-2, "
             "q = 1 } ] },\n"
          << "  # Pads and keys wide.\n  { type = \"imager\", width_pct = " << num(t.keys_width)
          << " },\n]\n";
      }
    }
    s << "\n";
  }
  for (const auto& tr : l.tracks) {
    s << "[[track]]\n# " << tr.reason << "\nname = \"" << tr.name << "\"\nfile = \""
      << tr.file.generic_string() << "\"\nbus = \"" << tr.bus << "\"\n";
    if (tr.gain_db != 0.0) s << "gain_db = " << num(tr.gain_db) << "\n";
    if (!tr.aligned_to.empty()) s << align_text(tr);
    s << "\n";
  }
  return s.str();
}

}  // namespace

std::vector<std::string> init_templates() {
  return {"pop-rock", "electronic", "orchestral", "minimal"};
}

InitResult init_session(const fs::path& stems_dir, const fs::path& session_file,
                        const InitOptions& options) {
  const auto names = init_templates();
  const auto mastering = mastering_templates();
  const bool stems_template =
      std::find(names.begin(), names.end(), options.template_name) != names.end();
  const bool mastering_template =
      std::find(mastering.begin(), mastering.end(), options.template_name) != mastering.end();
  if (!stems_template && !mastering_template)
    throw InputError("--template: \"" + options.template_name +
                     "\" is not a template (allowed: pop-rock, electronic, orchestral, minimal; "
                     "for a mix: transparent, glue, loud)");
  std::error_code ec;
  if (!fs::is_directory(stems_dir, ec))
    throw InputError(stems_dir.string() + ": not a folder of stems");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(stems_dir))
    if (e.is_regular_file() && is_audio(e.path())) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw InputError(stems_dir.string() + ": no audio files (WAV, AIFF or FLAC) in this folder");
  // A finished mix: master it rather than route it to a group bus.
  if (const auto mix = mix_in_folder(files)) {
    MasteringOptions mo;
    mo.template_name = mastering_template ? options.template_name : "glue";
    mo.backend = options.backend;
    const MasteringResult m = mastering_session(*mix, session_file, mo);
    InitResult r;
    r.toml = m.toml;
    r.reductions = m.reductions;
    r.passes = m.passes;
    r.mastering_template = mo.template_name;
    InitTrack t;
    t.name = "mix";
    t.file = fs::absolute(*mix);
    t.sources = {mix->filename().string()};
    t.bus = "master";
    t.reason = files.size() == 1 ? "the only audio file: a finished mix, mastered"
                                 : "named like a mix: mastered";
    r.tracks.push_back(t);
    return r;
  }
  if (!stems_template)
    throw InputError("--template: \"" + options.template_name + "\" is a mastering template, and " +
                     stems_dir.string() +
                     " holds stems (allowed: pop-rock, electronic, orchestral, minimal)");
  const fs::path session_dir = fs::absolute(session_file).parent_path();
  const std::string session_stem = session_file.stem().string();

  Layout layout;
  std::vector<StemInfo> infos;
  std::map<int, int> rates;
  for (const auto& f : files) {
    infos.push_back(probe_stem(f, 48000));
    ++rates[infos.back().sample_rate];
  }
  // The most common rate (ties: the higher).
  int best = 0;
  for (const auto& [rate, count] : rates)
    if (count >= best) best = count, layout.rate = rate;

  // L/R pairs of mono files become one stereo track (a joined file next to the session).
  std::vector<bool> taken(files.size(), false);
  std::set<std::string> used_names;
  InitResult result;
  auto classify = [&](InitTrack& t, const std::string& stem, const fs::path& file) {
    t.bus = bus_from_name(stem);
    if (!t.bus.empty()) {
      t.reason = "routed by its name: " + t.sources[0];
      return;
    }
    const AudioData a = read_audio(file);
    const AudioTraits traits = audio_traits(a.channels, a.sample_rate);
    t.bus = bus_from_audio(traits);
    t.reason = "the name says nothing; by its sound (crest " + num(traits.crest_db) +
               " dB, centroid " + num(traits.centroid_hz) + " Hz): " + t.bus;
    if (t.bus == "other")
      result.unknown.insert(result.unknown.end(), t.sources.begin(), t.sources.end());
  };
  for (size_t i = 0; i < files.size(); ++i) {
    if (taken[i]) continue;
    const std::string stem = files[i].stem().string();
    std::string base;
    const int side = stereo_side(stem, &base);
    if (side >= 0 && infos[i].channels == 1) {
      for (size_t j = 0; j < files.size(); ++j) {
        if (j == i || taken[j] || infos[j].channels != 1) continue;
        std::string other;
        if (stereo_side(files[j].stem().string(), &other) != 1 - side || other != base) continue;
        if (infos[j].sample_rate != infos[i].sample_rate) continue;
        const size_t li = side == 0 ? i : j, ri = side == 0 ? j : i;
        const AudioData l = read_audio(files[li]), r = read_audio(files[ri]);
        const size_t n = std::max(l.channels[0].size(), r.channels[0].size());
        std::vector<float> inter(2 * n, 0.0f);
        for (size_t k = 0; k < l.channels[0].size(); ++k) inter[2 * k] = l.channels[0][k];
        for (size_t k = 0; k < r.channels[0].size(); ++k) inter[2 * k + 1] = r.channels[0][k];
        const fs::path joined = session_dir / (session_stem + "-stems") / (base + ".wav");
        fs::create_directories(joined.parent_path());
        write_audio_atomic(joined, WriteSpec{"wav", 32, l.sample_rate}, 2, nullptr, inter.data(),
                           (long long)n);
        InitTrack t;
        t.name = track_name(base, used_names);
        t.file = joined;
        t.sources = {files[li].filename().string(), files[ri].filename().string()};
        classify(t, base, joined);
        t.reason = t.reason.substr(0, t.reason.find(':')) + ": " + t.sources[0] + " + " +
                   t.sources[1] + " (an L/R pair, joined into one stereo track)";
        layout.tracks.push_back(t);
        taken[i] = taken[j] = true;
        break;
      }
      if (taken[i]) continue;
    }
    InitTrack t;
    t.name = track_name(stem, used_names);
    t.file = fs::absolute(files[i]);
    t.sources = {files[i].filename().string()};
    classify(t, stem, files[i]);
    layout.tracks.push_back(t);
    taken[i] = true;
  }
  for (const auto& t : layout.tracks) {
    const auto w = name_words(t.name);
    if (t.bus == "drums" && layout.kick.empty() &&
        std::any_of(w.begin(), w.end(), [](const std::string& x) {
          return x == "kick" || x == "kck" || x == "bd" || x == "bassdrum";
        }))
      layout.kick = t.name;
  }
  // Paths relative to the session file where possible.
  for (auto& t : layout.tracks) {
    const fs::path rel = fs::relative(t.file, session_dir, ec);
    if (!ec && !rel.empty()) t.file = rel;
  }

  // The compressors to calibrate, with their first thresholds.
  const Template tpl = template_of(options.template_name);
  std::map<std::string, Calibrated> cal;
  std::set<std::string> buses;
  for (const auto& t : layout.tracks) buses.insert(t.bus);
  if (tpl.glue_ratio > 0) cal["master.glue"] = {"", "glue", tpl.glue_ratio, tpl.glue_target, -20};
  if (tpl.bus_chains) {
    if (buses.count("drums") && tpl.drum_ratio > 0)
      cal["drums.punch"] = {"drums", "punch", tpl.drum_ratio, tpl.drum_target, -20};
    if (buses.count("vocals")) cal["vocals.level"] = {"vocals", "level", 3, tpl.vocal_target, -24};
    if (buses.count("bass") && tpl.bass_multiband) {
      cal["bass.mb.low"] = {"bass", "mb.low", 3, 2.0, -24};
      cal["bass.mb.high"] = {"bass", "mb.high", 2, 1.5, -24};
    }
    if (buses.count("bass") && tpl.bass_duck_target > 0 && !layout.kick.empty())
      cal["bass.duck"] = {"bass", "duck", 2, tpl.bass_duck_target, -30};
  }

  // Layered recordings of one source (kick in/out, bass DI/amp) lined up first: the
  // staging and the compressors then measure the sum as it will be.
  {
    const Session s = parse_session_text(
        session_text(layout, tpl, options.template_name, cal, true), session_file);
    if (options.progress) options.progress("init align", 0.0);
    for (const AlignGroupResult& g : measure_groups(s))
      for (const AlignedTrack& a : g.tracks) {
        // No step where the pair already lines up (within 0.05 samples, polarity kept).
        if (!a.corrected || (a.m.polarity > 0 && std::fabs(a.m.delay_samples) < 0.05)) continue;
        for (auto& t : layout.tracks)
          if (t.name == a.track) {
            const AlignStep step = align_step(a.m, s.sample_rate);
            t.aligned_to = g.reference;
            t.align_delay_ms = step.delay_ms;
            t.align_invert = step.invert;
            t.align_lf_gain_db = a.m.lf_gain_db;
          }
      }
    if (options.progress) options.progress("init align", 1.0);
  }

  // Measuring renders: gain staging (clip gains), then thresholds by secant steps on each
  // compressor's measured mean reduction, then a last check of the staging.
  auto render_pass = [&](bool stage) {
    const std::string text = session_text(layout, tpl, options.template_name, cal, true);
    const Session s = parse_session_text(text, session_file);
    RenderOptions ro;
    ro.backend = options.backend;
    ro.write_audio = false;
    ro.auto_gain_stage = stage;
    ++result.passes;
    if (options.progress) {
      const std::string name = "init pass " + std::to_string(result.passes);
      ro.progress = [&options, name](const std::string&, double f) { options.progress(name, f); };
    }
    return render_session(s, stems_from_files(s), ro);
  };
  auto stage_gains = [&] {
    const RenderResult r = render_pass(true);
    for (const auto& [track, db] : r.auto_gain_db)
      for (auto& t : layout.tracks)
        if (t.name == track) t.gain_db += db;
  };
  stage_gains();
  for (int pass = 0; pass < 6 && !cal.empty(); ++pass) {
    const RenderResult r = render_pass(false);
    bool done = true;
    for (auto& [key, c] : cal) {
      double reduction = 0.0;
      const std::string node = c.node.empty() ? r.nodes.back().name : c.node;
      for (const auto& d : r.dynamics)
        if (d.node == node && d.processor == c.id) reduction = d.mean_db;
      if (!calibrate_step(c, reduction)) done = false;
    }
    if (done) break;
  }
  // The compressors change what the buses downstream receive: stage again if needed.
  {
    const RenderResult r = render_pass(false);
    bool over = false;
    for (const auto& m : r.meters) over |= m.exceeds_headroom;
    if (over) stage_gains();
    const RenderResult last = render_pass(false);
    for (auto& [key, c] : cal) {
      const std::string node = c.node.empty() ? last.nodes.back().name : c.node;
      for (const auto& d : last.dynamics)
        if (d.node == node && d.processor == c.id) result.reductions.emplace_back(key, d.mean_db);
    }
  }
  result.tracks = layout.tracks;
  result.toml = session_text(layout, tpl, options.template_name, cal, false);
  return result;
}

}  // namespace td
