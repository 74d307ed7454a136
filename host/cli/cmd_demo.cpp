#include <boost/program_options.hpp>
#include <iostream>

#include "cli/commands.h"
#include "demo/demo.h"

namespace po = boost::program_options;

namespace td {

int run_demo(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown demo [-o OUT_DIR] [options]\n\n"
      "Synthesises a multitrack song in memory (drums, bass, guitars, keys, pad and a\n"
      "vocal-like lead), routes it through drum, bass, guitar, keys and vocal buses into\n"
      "the mix bus, stages the clip gains so no bus peaks above -12 dBFS, delivers it at\n"
      "-14 LUFS and writes OUT_DIR/master.wav and\n"
      "OUT_DIR/report.json. No input files are needed.\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "out,o", po::value<std::string>()->default_value("demo-out"), "output folder")(
      "backend", po::value<std::string>()->default_value("auto"), "cpu | cuda | auto")(
      "tracks", po::value<int>()->default_value(10), "number of tracks, 8 .. 24")(
      "seconds", po::value<double>()->default_value(16.0), "song length, 1 .. 3600 s")(
      "export", po::value<std::string>(),
      "instead of rendering, write DIR/session.toml and DIR/stems/*.wav")(
      "json", "print the report as JSON on stdout (with timings)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nExit status: 0 ok, 1 bad input (one message on stderr), 2 internal error.\n";
    return 0;
  }
  DemoOptions d;
  d.tracks = vm["tracks"].as<int>();
  d.seconds = vm["seconds"].as<double>();
  if (d.tracks < 8 || d.tracks > 24)
    throw InputError("demo: --tracks " + std::to_string(d.tracks) + " (allowed: 8 .. 24)");
  if (!(d.seconds >= 1.0 && d.seconds <= 3600.0))
    throw InputError("demo: --seconds (allowed: 1 .. 3600)");
  const std::string backend = vm["backend"].as<std::string>();
  check_backend(backend, "demo");
  const DemoSong song = make_demo_song(d);
  if (vm.count("export")) {
    const std::filesystem::path dir = vm["export"].as<std::string>();
    export_demo_song(song, d.sample_rate, dir);
    std::cout << "wrote " << (dir / "session.toml").string() << " and " << song.stems.size()
              << " stems in " << (dir / "stems").string() << "\n";
    return 0;
  }
  const std::filesystem::path out = vm["out"].as<std::string>();
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec)
    throw InputError(out.string() + ": cannot create the output folder (" + ec.message() + ")");
  const Session session = parse_session_text(song.session_toml, "demo.toml");
  RenderOptions ro;
  ro.backend = backend;
  ro.out_dir = out;
  ro.progress = terminal_progress();
  // Gain staging first, as a top-down engineer does: the synthesised stems are hot, so
  // clip gains bring every bus under [session] headroom_dbfs before its processing.
  ro.auto_gain_stage = true;
  const RenderResult result = render_session(session, demo_stem_sources(song, d.sample_rate), ro);
  return finish_render(session, result, out, vm.count("json") > 0);
}

}  // namespace td
