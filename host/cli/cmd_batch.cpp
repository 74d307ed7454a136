#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "batch/batch.h"
#include "cli/commands.h"
#include "session/session.h"

namespace po = boost::program_options;

namespace td {

int run_batch_command(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown batch JOBS -o OUT [--shard K/N] [--force] [--memory-budget SIZE]\n"
      "                    [--backend B] [--json]\n\n"
      "Renders every session of JOBS (a folder of *.toml files, or a text file listing\n"
      "them one per line) into OUT/<session-name>/ exactly as `render` would (sessions of\n"
      "one sample rate together, in shared launches, as many as fit --memory-budget), and\n"
      "summarises them in OUT/batch.json and OUT/batch.csv. Resumable: a session whose\n"
      "completion record matches its session file and stems is skipped. A failing session\n"
      "fails alone. With --shard K/N (K = 0 .. N-1; default from SLURM_ARRAY_TASK_ID and\n"
      "SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX and TOPDOWN_SHARD_COUNT) only shard K\n"
      "is rendered and summarised in OUT/batch-shard-K-of-N.json; `topdown merge OUT`\n"
      "joins the shards.\n\nOptions");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("out,o", po::value<std::string>(), "output folder")
      ("shard", po::value<std::string>(), "render only shard K of N (K/N, 0-based)")
      ("force", "re-render sessions that are already complete")
      ("memory-budget", po::value<std::string>(),
       "sessions rendered together must fit this, e.g. 8G (default: a quarter of the memory)")
      ("backend", po::value<std::string>()->default_value("auto"), "cpu | cuda | auto")
      ("json", "print batch.json on stdout");
  // clang-format on
  add_path_options(opts);
  po::variables_map vm;
  if (!parse_command(
          args, opts, "jobs", 1, vm,
          "Exit status: 0 every session ok or already complete, 1 bad input for the batch\n"
          "itself, 2 internal error, 3 some sessions failed (see batch.json).\n"))
    return 0;
  if (!vm.count("jobs")) throw InputError("batch: missing JOBS (see topdown batch --help)");
  if (!vm.count("out")) throw InputError("batch: missing -o OUT (see topdown batch --help)");
  BatchOptions bo;
  bo.out_dir = vm["out"].as<std::string>();
  bo.backend = vm["backend"].as<std::string>();
  check_backend(bo.backend, "batch");
  bo.force = vm.count("force") > 0;
  bo.paths = path_policy_of(vm);
  if (vm.count("memory-budget"))
    bo.memory_budget_bytes = parse_bytes(vm["memory-budget"].as<std::string>());
  if (vm.count("shard")) {
    bo.shard = parse_shard(vm["shard"].as<std::string>());
    bo.sharded = true;
  } else if (auto env = shard_from_environment()) {
    bo.shard = *env;
    bo.sharded = true;
  }
  const auto jobs = list_jobs(vm["jobs"].as<std::string>());
  const bool json = vm.count("json") > 0;
  const bool tty = isatty(STDERR_FILENO);
  size_t done = 0;
  bo.on_session = [&](const std::string& name, const std::string& status) {
    ++done;
    if (!json) std::printf("[%zu] %s: %s\n", done, name.c_str(), status.c_str());
    if (tty) std::fflush(stdout);
  };
  const BatchSummary s = run_batch(jobs, bo);
  if (json) {
    std::cout << s.report.dump(2) << "\n";
  } else {
    for (const auto& r : s.report["sessions"])
      if (r["status"] == "failed")
        std::cerr << "topdown: " << r["name"].get<std::string>()
                  << " failed: " << r["error"].get<std::string>() << "\n";
    std::printf("%d ok, %d skipped (already complete), %d failed%s\n", s.ok, s.skipped, s.failed,
                bo.sharded ? (" in shard " + std::to_string(bo.shard.index) + "/" +
                              std::to_string(bo.shard.count))
                                 .c_str()
                           : "");
  }
  return s.failed > 0 ? 3 : 0;
}

int run_merge(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown merge OUT [--json]\n\n"
      "Joins the shard summaries OUT/batch-shard-K-of-N.json of a sharded batch into\n"
      "OUT/batch.json and OUT/batch.csv (sessions by name) and says which shards are\n"
      "missing.\n\nOptions");
  opts.add_options()("help,h", "show this help")("json", "print the merged batch.json on stdout");
  po::variables_map vm;
  if (!parse_command(args, opts, "out", 1, vm,
                     "Exit status: 0 merged and complete, 1 bad input, 2 internal error, 3 shards\n"
                     "missing or sessions failed (the merge is written anyway).\n"))
    return 0;
  if (!vm.count("out")) throw InputError("merge: missing OUT (see topdown merge --help)");
  std::vector<int> missing;
  const nlohmann::json merged = merge_shards(vm["out"].as<std::string>(), missing);
  if (vm.count("json"))
    std::cout << merged.dump(2) << "\n";
  else
    std::printf("merged %zu sessions from %d shards: %d ok, %d skipped, %d failed\n",
                merged["sessions"].size(), merged["merged_from"].get<int>(),
                merged["totals"]["ok"].get<int>(), merged["totals"]["skipped"].get<int>(),
                merged["totals"]["failed"].get<int>());
  for (int k : missing)
    std::cerr << "topdown: shard " << k << "/" << merged["merged_from"].get<int>()
              << " is missing\n";
  return (!missing.empty() || merged["totals"]["failed"].get<int>() > 0) ? 3 : 0;
}

}  // namespace td
