#include <boost/program_options.hpp>
#include <iostream>

#include "cli/commands.h"
#include "demo/demo.h"
#include "init/init.h"
#include "io/audio_file.h"

namespace po = boost::program_options;

namespace td {

int run_demo(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown demo [-o OUT_DIR] [options]\n\n"
      "The seed's practical example, no input files needed: synthesises a 24-track\n"
      "pop-rock song (drums, bass, guitars, keys, pad and vocal-like leads), writes its\n"
      "stems to OUT_DIR/stems/, makes the session with `topdown init` and the pop-rock\n"
      "template (routing, gain staging to -12 dBFS per bus, the template's chains on the\n"
      "mix bus and the buses with compressor thresholds set from the measured levels) as\n"
      "OUT_DIR/session.toml, and renders it: OUT_DIR/master.wav, delivered at -14 LUFS\n"
      "under -1 dBTP, and OUT_DIR/report.json. --plain renders the mixer alone (routing,\n"
      "gain staging and delivery gain, no processors) from memory.\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "out,o", po::value<std::string>()->default_value("demo-out"), "output folder")(
      "backend", po::value<std::string>()->default_value("auto"), "cpu | cuda | auto")(
      "tracks", po::value<int>()->default_value(24), "number of tracks, 8 .. 24")(
      "template", po::value<std::string>()->default_value("pop-rock"),
      "the init template: pop-rock | electronic | orchestral | minimal")(
      "plain", "no template: the mixer alone, rendered from memory")(
      "seconds", po::value<double>()->default_value(16.0), "song length, 1 .. 3600 s")(
      "export", po::value<std::string>(),
      "instead of rendering, write DIR/session.toml and DIR/stems/*.wav")(
      "json", "print the report as JSON on stdout (with timings)");
  po::variables_map vm;
  if (!parse_command(args, opts, nullptr, 0, vm)) return 0;
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
  if (!vm.count("plain")) {
    // The top-down way: stems on disk, `init` with the template, then the render.
    std::filesystem::create_directories(out / "stems");
    for (const auto& st : song.stems) {
      std::vector<float> inter(st.audio.size() * st.audio[0].size());
      for (size_t n = 0; n < st.audio[0].size(); ++n)
        for (size_t c = 0; c < st.audio.size(); ++c)
          inter[n * st.audio.size() + c] = st.audio[c][n];
      write_audio_atomic(out / "stems" / (st.track + ".wav"), WriteSpec{"wav", 32, d.sample_rate},
                         (int)st.audio.size(), nullptr, inter.data(),
                         (long long)st.audio[0].size());
    }
    InitOptions io;
    io.template_name = vm["template"].as<std::string>();
    io.backend = backend;
    io.progress = vm.count("json") ? nullptr : terminal_progress(d.seconds);
    const InitResult init = init_session(out / "stems", out / "session.toml", io);
    write_text_atomic(out / "session.toml", init.toml);
    if (vm.count("json") == 0)
      std::cout << "made " << (out / "session.toml").string() << " with topdown init (template "
                << io.template_name << ", " << init.tracks.size() << " tracks)\n";
    const Session session = parse_session_file(out / "session.toml");
    RenderOptions ro;
    ro.backend = backend;
    ro.out_dir = out;
    ro.progress = vm.count("json") ? nullptr : terminal_progress(d.seconds);
    const RenderResult result = render_session(session, stems_from_files(session), ro);
    return finish_render(session, result, out, vm.count("json") > 0);
  }
  const Session session = parse_session_text(song.session_toml, "demo.toml");
  RenderOptions ro;
  ro.backend = backend;
  ro.out_dir = out;
  ro.progress = vm.count("json") ? nullptr : terminal_progress(d.seconds);
  // Gain staging first, as a top-down engineer does: the synthesised stems are hot, so
  // clip gains bring every bus under [session] headroom_dbfs before its processing.
  ro.auto_gain_stage = true;
  const RenderResult result = render_session(session, demo_stem_sources(song, d.sample_rate), ro);
  return finish_render(session, result, out, vm.count("json") > 0);
}

}  // namespace td
