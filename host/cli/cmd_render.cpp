#include <boost/program_options.hpp>
#include <future>
#include <iostream>

#include "analysis/playback.h"
#include "base/temp_files.h"
#include "batch/batch.h"
#include "cli/commands.h"
#include "io/output_set.h"

namespace po = boost::program_options;

namespace td {

int run_render(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown render SESSION.toml -o OUT_DIR [options]\n\n"
      "Renders a session: decodes and resamples the stems, runs the bus tree (tracks,\n"
      "buses, master) and every variant of [variants], gains each master to\n"
      "[delivery] target_lufs and writes OUT_DIR/master.wav (or OUT_DIR/variants/<id>.wav),\n"
      "OUT_DIR/report.json, OUT_DIR/report.csv and OUT_DIR/report.html (open it in a\n"
      "browser: ranking, plots, level-matched A/B players). With references ([[reference]] or\n"
      "--reference) every variant is compared with them, loudness-matched, scored and\n"
      "ranked (docs/references.md).\n\nOptions");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("out,o", po::value<std::string>(), "output folder (created if missing)")
      ("backend", po::value<std::string>()->default_value("auto"),
       "cpu | cuda | auto (CUDA when a GPU answers)")
      ("auto-gain-stage", "lower track clip gains so that no bus peaks above [session] "
       "headroom_dbfs before its chain (also [session] auto_gain_stage = true)")
      ("no-bus-meters", "meter only the master (faster; report.json then has no \"buses\")")
      ("reference", po::value<std::vector<std::string>>()->composing(),
       "a reference track to compare and rank the variants against (repeatable; adds to the "
       "session's [[reference]] entries)")
      ("write-variants", po::value<std::string>()->default_value("all"),
       "whose audio is written: all | top:K (the K closest to the references) | none; every "
       "variant is measured either way")
      ("memory-budget", po::value<std::string>(),
       "memory for the kept masters, e.g. 2G (default: 1G, or a quarter of the memory if "
       "less); past it they are kept in a file in OUT, so memory does not grow with the song")
      ("json", "print the report as JSON on stdout (with timings)");
  // clang-format on
  add_path_options(opts);
  po::variables_map vm;
  if (!parse_command(args, opts, "session", 1, vm)) return 0;
  if (!vm.count("session"))
    throw InputError("render: missing SESSION.toml (see topdown render --help)");
  if (!vm.count("out")) throw InputError("render: missing -o OUT_DIR (see topdown render --help)");
  const std::string backend = vm["backend"].as<std::string>();
  check_backend(backend, "render");
  const Session session = parse_session_file(vm["session"].as<std::string>());
  confine_session_paths(session, path_policy_of(vm));
  const std::filesystem::path out = vm["out"].as<std::string>();
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec)
    throw InputError(out.string() + ": cannot create the output folder (" + ec.message() + ")");
  // What killed renders (SIGKILL, power) left behind.
  complete_publication(out);  // before the temporaries it renames are swept
  remove_stale_temporaries(out);
  remove_stale_temporaries(out / "variants");
  RenderOptions ro;
  ro.backend = backend;
  ro.out_dir = out;
  const std::vector<StemSource> stems = stems_from_files(session);
  ro.progress = terminal_progress(song_seconds(stems, session.sample_rate));
  ro.auto_gain_stage = vm.count("auto-gain-stage") > 0;
  ro.bus_meters = vm.count("no-bus-meters") == 0;
  if (vm.count("reference"))
    for (const auto& f : vm["reference"].as<std::vector<std::string>>()) ro.references.push_back(f);
  ro.write_variants = vm["write-variants"].as<std::string>();
  if (vm.count("memory-budget"))
    ro.memory_budget_bytes = parse_bytes(vm["memory-budget"].as<std::string>());
  ro.auto_gain_stage = vm.count("auto-gain-stage") > 0;
  // Everything written into OUT is published as one set once complete (docs/security.md).
  OutputSet outputs(out);
  // The report page's playback FIRs depend on the sample rate only: designed on another
  // thread while the render runs (a core the render leaves idle part of the time) instead
  // of after it (0.1 to 0.2 s of a 4-minute song's render).
  std::future<void> designs;
  if (session.sample_rate > 0)
    designs = std::async(std::launch::async,
                         [rate = session.sample_rate] { prepare_playback_firs(rate); });
  const RenderResult result = render_session(session, stems, ro);
  if (designs.valid()) designs.get();
  const int status = finish_render(session, result, out, vm.count("json") > 0, &outputs);
  return status;
}

}  // namespace td
