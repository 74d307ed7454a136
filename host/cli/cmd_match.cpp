#include <algorithm>
#include <boost/program_options.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/temp_files.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "io/audio_file.h"
#include "io/output_set.h"
#include "match/match.h"
#include "match/match_report.h"

namespace po = boost::program_options;

namespace td {

int run_match(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown match SESSION.toml --reference REF.wav -o OUT_DIR [options]\n\n"
      "Searches the settings the session's [search] table declares (each a parameter path\n"
      "with bounds) for the delivered master closest to the references by the report's\n"
      "score (docs/references.md), with CMA-ES: each generation is one render of all its\n"
      "candidates as variants, on an excerpt of the song (--seconds: its loudest stretch\n"
      "and a quieter one); the best few are confirmed on the whole song. Writes\n"
      "OUT_DIR/matched.toml (the session with the values found), match.json, match.csv and\n"
      "match.html (the score per generation, the best settings, the confirmation), and\n"
      "renders the matched session into OUT_DIR as `render` does (master, report; report.json\n"
      "carries the search under \"match\").\n\nOptions");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("out,o", po::value<std::string>(), "output folder (created if missing)")
      ("reference", po::value<std::vector<std::string>>()->composing(),
       "a reference track (repeatable; adds to the session's [[reference]] entries)")
      ("budget", po::value<long long>()->default_value(400), "evaluations at most (renders "
       "of one candidate each; the start's included)")
      ("population", po::value<int>()->default_value(0),
       "candidates per generation (0: 16, or CMA-ES's default if larger)")
      ("seed", po::value<unsigned long long>()->default_value(1), "the search's random seed")
      ("seconds", po::value<double>()->default_value(30.0), "excerpt length the search renders "
       "(the loudest stretch, plus a quieter one a third as long; at most 120, held in memory); 0: "
       "the whole song")
      ("confirm", po::value<int>()->default_value(4), "best candidates confirmed on the whole song")
      ("top", po::value<int>()->default_value(0), "also write the K best confirmed candidates "
       "as audio (OUT_DIR/candidates/variants/, with their own report)")
      ("backend", po::value<std::string>()->default_value("auto"), "cpu | cuda | auto")
      ("json", "print match.json on stdout");
  // clang-format on
  add_path_options(opts);
  po::variables_map vm;
  if (!parse_command(args, opts, "session", 1, vm)) return 0;
  if (!vm.count("session"))
    throw InputError("match: missing SESSION.toml (see topdown match --help)");
  if (!vm.count("out")) throw InputError("match: missing -o OUT_DIR (see topdown match --help)");
  const std::string backend = vm["backend"].as<std::string>();
  check_backend(backend, "match");
  const Session session = parse_session_file(vm["session"].as<std::string>());
  confine_session_paths(session, path_policy_of(vm));
  MatchOptions mo;
  mo.budget = vm["budget"].as<long long>();
  if (mo.budget < 1 || mo.budget > 100000)
    throw InputError("--budget: " + std::to_string(mo.budget) + " is out of range (1 .. 100000)");
  mo.population = vm["population"].as<int>();
  if (mo.population < 0 || mo.population > 1024)
    throw InputError("--population: " + std::to_string(mo.population) +
                     " is out of range (0 .. 1024)");
  mo.seed = vm["seed"].as<unsigned long long>();
  mo.seconds = vm["seconds"].as<double>();
  // The excerpt is held in memory (4/3 of it per stem channel): bounded here.
  if (!(mo.seconds >= 0.0 && mo.seconds <= 120.0))
    throw InputError("--seconds: " + std::to_string(mo.seconds) + " is out of range (0 .. 120)");
  mo.confirm = vm["confirm"].as<int>();
  if (mo.confirm < 1 || mo.confirm > 64)
    throw InputError("--confirm: " + std::to_string(mo.confirm) + " is out of range (1 .. 64)");
  const int top = vm["top"].as<int>();
  if (top < 0 || top > 64)
    throw InputError("--top: " + std::to_string(top) + " is out of range (0 .. 64)");
  mo.confirm = std::max(mo.confirm, top);
  mo.backend = backend;
  if (vm.count("reference"))
    for (const auto& f : vm["reference"].as<std::vector<std::string>>()) mo.references.push_back(f);
  const bool json = vm.count("json") > 0;
  // The search as one step of the progress reporter: evaluations against the budget.
  if (auto report = json ? nullptr : terminal_progress())
    mo.progress = [report, budget = mo.budget](int generation, long long evaluations, double best) {
      report("search", std::min(1.0, (double)evaluations / (double)budget));
      detail("match: generation " + std::to_string(generation) + ", " +
             std::to_string(evaluations) + " evaluations, best score " + std::to_string(best));
    };
  const std::filesystem::path out = vm["out"].as<std::string>();
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec)
    throw InputError(out.string() + ": cannot create the output folder (" + ec.message() + ")");
  complete_publication(out);  // before the temporaries it renames are swept
  remove_stale_temporaries(out);
  const MatchResult m = match_session(session, mo);
  OutputSet outputs(out);
  const nlohmann::json j = match_json(session, m);
  write_text_atomic(out / "match.json", j.dump(2) + "\n");
  write_text_atomic(out / "match.csv", match_csv(session, m));
  write_text_atomic(out / "match.html", match_html(session, m));
  write_text_atomic(out / "matched.toml", matched_toml(session, m.values, out));
  if (json)
    std::cout << j.dump(2) << "\n";
  else {
    std::cout << "match: " << m.evaluations << " evaluations, score " << m.start_score << " -> "
              << m.score << "\n";
    for (size_t a = 0; a < session.search.size(); ++a)
      std::cout << "  " << session.search[a].path << " = " << m.values[a] << " (was "
                << m.start_values[a] << ")\n";
  }
  // The matched session, rendered and reported as `render` would.
  const Session matched = with_values(session, m.values);
  RenderOptions ro;
  ro.backend = backend;
  ro.out_dir = out;
  ro.references = mo.references;
  ro.progress = json ? nullptr : terminal_progress();
  const RenderResult result = render_session(matched, stems_from_files(matched), ro);
  std::ostringstream sink;
  auto* old = json ? std::cout.rdbuf(sink.rdbuf()) : nullptr;
  // The K best confirmed candidates as audio: one render of them as variants, ranked in their own
  // report.
  if (top > 0) {
    std::vector<MatchConfirmed> best = m.confirmed;
    std::stable_sort(best.begin(), best.end(),
                     [](const auto& a, const auto& b) { return a.song_score < b.song_score; });
    if ((int)best.size() > top) best.resize((size_t)top);
    std::vector<std::vector<double>> values;
    for (const auto& c : best) values.push_back(c.values);
    const Session candidates = with_candidates(session, values);
    RenderOptions co = ro;
    co.out_dir = out / "candidates";
    co.progress = nullptr;
    std::filesystem::create_directories(co.out_dir);
    const RenderResult cr = render_session(candidates, stems_from_files(candidates), co);
    std::ostringstream quiet;
    auto* was = std::cout.rdbuf(quiet.rdbuf());
    finish_render(candidates, cr, co.out_dir, false, nullptr);
    std::cout.rdbuf(was);
  }
  const int status = finish_render(matched, result, out, false, &outputs, {{"match", j}});
  if (old) std::cout.rdbuf(old);
  return status;
}

}  // namespace td
