#include <boost/program_options.hpp>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "align/align.h"
#include "cli/commands.h"
#include "io/audio_file.h"
#include "io/output_set.h"

namespace po = boost::program_options;

namespace td {

int run_align(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown align SESSION.toml [--apply] [--json] [-o DIR]\n\n"
      "Measures, for every group of tracks recorded from one source (the same bus and a\n"
      "shared name stem such as kick_in / kick_out, snare_top / snare_bottom, bass_di /\n"
      "bass_amp, or a [[align]] entry of the session, reference first), each track's delay\n"
      "against the reference to a fraction of a sample and its polarity (GCC-PHAT), the\n"
      "coherence before and after, and what the correction wins in the sum below 200 Hz.\n"
      "--apply writes the corrections into the session as `utility` steps with id \"align\"\n"
      "(the previous file kept as SESSION.toml.bak). -o DIR writes align.json and align.html\n"
      "(the summed magnitude per group, before and after).\n\nOptions");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("apply", "write the corrections into the session file")
      ("out,o", po::value<std::string>(), "a folder for align.json and align.html")
      ("max-delay-ms", po::value<double>()->default_value(20.0),
       "the largest delay searched, either way (0.1 .. 50)")
      ("json", "print the measurements as JSON on stdout");
  // clang-format on
  add_path_options(opts);
  po::variables_map vm;
  if (!parse_command(args, opts, "session", 1, vm)) return 0;
  if (!vm.count("session"))
    throw InputError("align: missing SESSION.toml (see topdown align --help)");
  const double max_delay_ms = vm["max-delay-ms"].as<double>();
  if (!(max_delay_ms >= 0.1 && max_delay_ms <= 50.0))
    throw InputError("--max-delay-ms: " + std::to_string(max_delay_ms) +
                     " is out of range (0.1 .. 50)");
  const Session session = parse_session_file(vm["session"].as<std::string>());
  confine_session_paths(session, path_policy_of(vm));
  const std::vector<AlignGroupResult> groups = measure_groups(session, max_delay_ms);
  const nlohmann::json j = align_json(session, groups);
  if (vm.count("out")) {
    const std::filesystem::path out = vm["out"].as<std::string>();
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec)
      throw InputError(out.string() + ": cannot create the output folder (" + ec.message() + ")");
    complete_publication(out);
    remove_stale_temporaries(out);
    OutputSet outputs(out);
    write_text_atomic(out / "align.json", j.dump(2) + "\n");
    write_text_atomic(out / "align.html", align_html(session, groups));
    outputs.publish();
  }
  if (vm.count("apply")) {
    const std::filesystem::path file = session.file;
    const std::string text = apply_alignment(session, groups);
    std::filesystem::path backup = file;
    backup += ".bak";
    std::error_code ec;
    std::filesystem::copy_file(file, backup, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec)
      throw InputError(backup.string() + ": cannot keep the previous session (" + ec.message() +
                       ")");
    write_text_atomic(file, text);
    parse_session_file(file);  // what was written parses
  }
  if (vm.count("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  if (groups.empty()) std::cout << "align: no group of tracks from one source found\n";
  std::cout << std::fixed;
  for (const AlignGroupResult& g : groups) {
    std::cout << g.name << " (reference " << g.reference << ")\n";
    for (const AlignedTrack& a : g.tracks) {
      std::cout << "  " << a.track << ": ";
      if (!a.corrected) {
        std::cout << "no common source found (GCC-PHAT peak " << std::setprecision(3) << a.m.peak
                  << "), left as it is\n";
        continue;
      }
      std::cout << std::setprecision(2) << a.m.delay_samples << " samples (" << std::setprecision(3)
                << a.m.delay_samples / session.sample_rate * 1000.0 << " ms)"
                << (a.m.polarity < 0 ? ", polarity inverted" : "") << ", coherence "
                << std::setprecision(2) << a.m.coherence_before << " -> " << a.m.coherence_after
                << ", sum below 200 Hz " << std::showpos << std::setprecision(1) << a.m.lf_gain_db
                << std::noshowpos << " dB\n";
    }
  }
  if (vm.count("apply"))
    std::cout << "align: corrections written into " << session.file.string() << "\n";
  return 0;
}

}  // namespace td
