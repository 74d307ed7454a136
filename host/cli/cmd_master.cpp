#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/temp_files.h"
#include "cli/commands.h"
#include "init/calibrate.h"
#include "init/mastering.h"
#include "io/audio_file.h"
#include "io/output_set.h"

namespace po = boost::program_options;

namespace td {

int run_master(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown master MIX.wav -o OUT_DIR [options]\n\n"
      "Masters one stereo (or mono) mix: a one-track session whose track is the mix, routed\n"
      "straight to the master, whose chain is a mastering template (linear-phase EQ, glue\n"
      "compressor, multiband, tape, mono bass, the maximizer; compressor thresholds set from\n"
      "the mix's measured level by a few measuring renders). Delivers OUT_DIR/master.wav at\n"
      "the target loudness under the ceiling and writes report.json, report.csv and\n"
      "report.html as `render` does. --write-session keeps the session to edit and render\n"
      "variants of with `topdown render` (docs/workflow.md, \"Mastering a stereo mix\").\n\n"
      "Templates: transparent (EQ and maximizer only), glue (the mix-bus chain: 25 Hz\n"
      "high-pass, +0.75 dB at 10 kHz, 2:1 glue aiming at 1.5 dB, tape, mono bass, maximizer),\n"
      "loud (three-band compression, harder tape and limiting; -9 LUFS, -0.5 dBTP).\n\nOptions");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("out,o", po::value<std::string>(), "output folder (created if missing)")
      ("template", po::value<std::string>()->default_value("glue"), "transparent | glue | loud")
      ("target-lufs", po::value<double>(), "delivered loudness (default: the template's, "
       "-14; loud -9)")
      ("ceiling-dbtp", po::value<double>(), "true-peak ceiling (default: the template's, -1; "
       "loud -0.5)")
      ("reference", po::value<std::vector<std::string>>()->composing(),
       "a reference track to compare the master with (repeatable; docs/references.md)")
      ("deliverables", po::value<std::string>(),
       "a TOML file of [[deliverable]] entries and [metadata] (docs/session-format.md): each "
       "file at its own rate, format and loudness, verified decoded")
      ("write-session", po::value<std::string>(), "also write the session it used to this file")
      ("backend", po::value<std::string>()->default_value("auto"),
       "cpu | cuda | auto (CUDA when a GPU answers)")
      ("json", "print the report as JSON on stdout");
  // clang-format on
  po::variables_map vm;
  if (!parse_command(args, opts, "mix", 1, vm)) return 0;
  if (!vm.count("mix")) throw InputError("master: missing MIX.wav (see topdown master --help)");
  if (!vm.count("out")) throw InputError("master: missing -o OUT_DIR (see topdown master --help)");
  const std::string backend = vm["backend"].as<std::string>();
  check_backend(backend, "master");
  const std::filesystem::path mix = vm["mix"].as<std::string>();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(mix, ec))
    throw InputError(mix.string() + ": no such file (the mix to master)");
  // The session lives where --write-session puts it, or (unwritten) beside the mix, so that
  // its one path is the mix's name.
  const std::filesystem::path session_file =
      vm.count("write-session")
          ? std::filesystem::path(vm["write-session"].as<std::string>())
          : std::filesystem::absolute(mix).parent_path() / (mix.stem().string() + "-master.toml");
  MasteringOptions mo;
  mo.template_name = vm["template"].as<std::string>();
  if (vm.count("target-lufs")) mo.target_lufs = vm["target-lufs"].as<double>();
  if (vm.count("ceiling-dbtp")) mo.ceiling_dbtp = vm["ceiling-dbtp"].as<double>();
  mo.backend = backend;
  const std::filesystem::path out = vm["out"].as<std::string>();
  std::filesystem::create_directories(out, ec);
  if (ec)
    throw InputError(out.string() + ": cannot create the output folder (" + ec.message() + ")");
  complete_publication(out);  // before the temporaries it renames are swept
  remove_stale_temporaries(out);
  const bool json = vm.count("json") > 0;
  MasteringResult m = mastering_session(mix, session_file, mo);
  if (vm.count("deliverables")) {
    // Checked on its own first, so that a mistake names that file and its line.
    const std::filesystem::path file = vm["deliverables"].as<std::string>();
    std::ifstream in(file);
    if (!in) throw InputError(file.string() + ": no such file (the deliverables)");
    std::stringstream text;
    text << in.rdbuf();
    std::string toml = text.str();
    // The master's delivery target after the file's own text (TOML tables may come in any
    // order), so that its line numbers are the file's.
    const Session own = parse_session_text(
        toml + "\n[delivery]\ntarget_lufs = " + toml_number(mo.target_lufs.value_or(-14.0)) + "\n",
        file);
    if (own.nodes.size() > 1 || !own.master().chain.empty() || !own.variants.sweep.empty())
      throw InputError(file.string() + ": only [[deliverable]] and [metadata] belong here");
    m.toml += "\n# The deliverables (from " + file.filename().string() + ").\n" + toml + "\n";
  }
  if (vm.count("write-session")) write_text_atomic(session_file, m.toml);
  if (!json) {
    std::cout << "mastering " << mix.string() << " with the " << mo.template_name << " template";
    if (m.passes > 0) std::cout << " (" << m.passes << " measuring renders)";
    std::cout << "\n";
    for (const auto& [k, v] : m.reductions)
      std::cout << "  " << k << ": " << toml_number(v) << " dB mean gain reduction\n";
    if (vm.count("write-session"))
      std::cout << "  session written to " << session_file.string() << "\n";
  }
  // The mix was named by the operator: it may lie anywhere.
  const Session session = parse_session_text(m.toml, session_file);
  RenderOptions ro;
  ro.backend = backend;
  ro.out_dir = out;
  ro.progress = json ? nullptr : terminal_progress();
  if (vm.count("reference"))
    for (const auto& f : vm["reference"].as<std::vector<std::string>>()) ro.references.push_back(f);
  OutputSet outputs(out);
  const RenderResult result = render_session(session, stems_from_files(session), ro);
  return finish_render(session, result, out, json, &outputs);
}

}  // namespace td
