#include <boost/program_options.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "init/init.h"
#include "io/audio_file.h"

namespace po = boost::program_options;

namespace td {

int run_init(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown init STEMS_DIR -o SONG.toml [--template T] [--render OUT_DIR]\n\n"
      "Makes a session from a folder of client stems: every audio file becomes a track on\n"
      "a bus chosen by its name (English and German keywords and studio abbreviations;\n"
      "where the name says nothing, by its sound), L/R pairs become stereo tracks, the\n"
      "template puts its starting chains on the mix bus and the buses, clip gains keep\n"
      "every bus at or under -12 dBFS before its chain, and compressor thresholds are set\n"
      "from measured levels (a few measuring renders). Files the routing could not place\n"
      "go to the bus \"other\" and are listed. A folder holding a finished mix (one file, or\n"
      "files named mix, master, final, bounce or premaster) gets a mastering session instead\n"
      "(as `topdown master`; template glue unless --template names a mastering one).\n\nOptions");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("out,o", po::value<std::string>(), "the session file to write")
      ("template", po::value<std::string>()->default_value("pop-rock"),
       "pop-rock | electronic | orchestral | minimal (for a mix: transparent | glue | loud)")
      ("render", po::value<std::string>(), "then render the new session into this folder")
      ("backend", po::value<std::string>()->default_value("auto"), "cpu | cuda | auto")
      ("json", "print what was done as JSON on stdout");
  // clang-format on
  po::variables_map vm;
  if (!parse_command(args, opts, "stems", 1, vm)) return 0;
  if (!vm.count("stems")) throw InputError("init: missing STEMS_DIR (see topdown init --help)");
  if (!vm.count("out")) throw InputError("init: missing -o SONG.toml (see topdown init --help)");
  const std::string backend = vm["backend"].as<std::string>();
  check_backend(backend, "init");
  InitOptions io;
  io.template_name = vm["template"].as<std::string>();
  io.backend = backend;
  if (!vm.count("json")) io.progress = terminal_progress();
  const std::filesystem::path out = vm["out"].as<std::string>();
  const InitResult r = init_session(vm["stems"].as<std::string>(), out, io);
  write_text_atomic(out, r.toml);
  const bool json = vm.count("json") > 0;
  if (json) {
    nlohmann::json j;
    j["session"] = out.string();
    j["template"] = r.mastering_template.empty() ? io.template_name : r.mastering_template;
    j["mastering"] = !r.mastering_template.empty();
    nlohmann::json tracks = nlohmann::json::array();
    for (const auto& t : r.tracks)
      tracks.push_back({{"name", t.name},
                        {"bus", t.bus},
                        {"sources", t.sources},
                        {"clip_gain_db", t.gain_db},
                        {"why", t.reason}});
    for (size_t i = 0; i < r.tracks.size(); ++i)
      if (!r.tracks[i].aligned_to.empty())
        tracks[i]["aligned"] = {{"to", r.tracks[i].aligned_to},
                                {"delay_ms", r.tracks[i].align_delay_ms},
                                {"inverted", r.tracks[i].align_invert},
                                {"low_end_gain_db", r.tracks[i].align_lf_gain_db}};
    j["tracks"] = tracks;
    j["unknown"] = r.unknown;
    nlohmann::json red = nlohmann::json::object();
    for (const auto& [k, v] : r.reductions) red[k] = v;
    j["gain_reduction_mean_db"] = red;
    j["measuring_renders"] = r.passes;
    std::cout << j.dump(2) << "\n";
  } else if (!r.mastering_template.empty()) {
    std::cout << "wrote " << out.string() << ": a mastering session (template "
              << r.mastering_template << ", " << r.passes << " measuring renders)\n  "
              << r.tracks[0].sources[0] << ": " << r.tracks[0].reason
              << " -- not routed to a group bus; `topdown master` does the same in one step\n";
    for (const auto& [k, v] : r.reductions)
      std::cout << "  " << k << ": " << v << " dB mean gain reduction\n";
  } else {
    std::cout << "wrote " << out.string() << " (" << r.tracks.size() << " tracks, template "
              << io.template_name << ", " << r.passes << " measuring renders)\n";
    for (const auto& t : r.tracks) {
      std::cout << "  " << t.bus << " <- " << t.name;
      if (!t.aligned_to.empty())
        std::cout << " (aligned to " << t.aligned_to << ": " << t.align_delay_ms << " ms"
                  << (t.align_invert ? ", polarity flipped" : "") << ")";
      std::cout << "\n";
    }
    if (!r.unknown.empty()) {
      std::cout << "not recognised (on the bus \"other\"):";
      for (const auto& u : r.unknown) std::cout << " " << u;
      std::cout << "\n";
    }
    for (const auto& [k, v] : r.reductions)
      std::cout << "  " << k << ": " << v << " dB mean gain reduction\n";
  }
  if (vm.count("render")) {
    const Session session = parse_session_file(out);
    const std::filesystem::path dir = vm["render"].as<std::string>();
    std::filesystem::create_directories(dir);
    RenderOptions ro;
    ro.backend = backend;
    ro.out_dir = dir;
    ro.progress = json ? nullptr : terminal_progress();
    const RenderResult result = render_session(session, stems_from_files(session), ro);
    return finish_render(session, result, dir, false);
  }
  return 0;
}

}  // namespace td
