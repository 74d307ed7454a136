// topdown: the command-line entry point. Dispatches to one function per command and maps
// errors to exit codes: 1 for bad input (one message naming file, key and range), 2 for
// internal errors.
#include <malloc.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <limits>

#include "backend/backend.h"
#include "base/temp_files.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "report/report.h"

namespace {

const char* kUsage =
    "topdown: offline mix and mastering renderer (top-down bus tree, batched variants)\n\n"
    "Usage: topdown COMMAND [options]\n\n"
    "Commands:\n"
    "  demo     render a synthesised multitrack demo (no files needed)\n"
    "  init     make a session from a folder of stems: topdown init stems/ -o song.toml\n"
    "  master   master one stereo mix: topdown master final_mix.wav -o out/\n"
    "  render   render a session file: topdown render song.toml -o out/\n"
    "  match    search [search] settings closest to a reference: topdown match song.toml -o out/\n"
    "  align    phase-align layered tracks (kick in/out ..): topdown align song.toml --apply\n"
    "  analyze  measure audio files: loudness, LRA, true peak, spectrum (--json)\n"
    "  batch    render many sessions, resumable, shardable: topdown batch jobs/ -o out/\n"
    "  merge    join the shard summaries of a sharded batch: topdown merge out/\n\n"
    "Options:\n"
    "  -h, --help     show this help (topdown COMMAND --help for a command's options)\n"
    "  --version      print the version\n\n"
    "Exit status: 0 ok, 1 bad input (or a full disk), 2 internal error, 3 (batch, merge) some\n"
    "sessions failed, 130 / 143 stopped by SIGINT / SIGTERM (the files being written removed).\n";

}  // namespace

int main(int argc, char** argv) {
  // OpenMP's workers spin only briefly before they sleep, unless the operator says
  // otherwise: libgomp's default spin (300000 rounds) takes the cores from the stem reader,
  // the delivery's limiter thread and every other job on a shared machine. Measured, the
  // seed render on 2 cores: two at once 14.9 s spinning, 6.6 s with 1000 rounds; alone, no
  // difference (4.0 s). libgomp reads its settings as it loads, before main, so they take
  // a re-exec of this same binary (the same pid; skipped if /proc is not there).
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT") &&
      setenv("GOMP_SPINCOUNT", "1000", 1) == 0)
    execv("/proc/self/exe", argv);
  // Freed memory stays with the process for its next allocation: a render allocates and
  // frees segment-sized buffers in every stage and delivery pass, and pages handed back to
  // the kernel come back through page faults, zeroed (measured on the seed chain: 85,000
  // faults -> 67,000, and the kernel's page clearing was 6 to 15 % of the CPU time). Blocks
  // up to 32 MiB (glibc's largest threshold) come from the heap; the peak does not grow.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  // SIGINT and SIGTERM remove the files being written and exit 130 / 143.
  td::install_signal_cleanup();
  td::start_command_clock();  // the summaries' time is the whole command's
  // The GPU notice once, when the backend is chosen (before the work), not per render pass.
  td::set_backend_notice_handler([](const std::string& text) {
    static bool said = false;
    if (!said) td::note(text);
    said = true;
  });
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "topdown " << td::kVersion << "\n";
    return 0;
  }
  if (const char* env = std::getenv("TOPDOWN_BACKEND")) {
    const std::string b = env;
    if (b != "cpu" && b != "cuda" && b != "auto" && !b.empty()) {
      std::cerr << "topdown: TOPDOWN_BACKEND=" << b << " (allowed: cpu, cuda, auto)\n";
      return 1;
    }
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    if (command == "demo") return td::run_demo(args);
    if (command == "render") return td::run_render(args);
    if (command == "init") return td::run_init(args);
    if (command == "master") return td::run_master(args);
    if (command == "match") return td::run_match(args);
    if (command == "align") return td::run_align(args);
    if (command == "analyze") return td::run_analyze(args);
    if (command == "batch") return td::run_batch_command(args);
    if (command == "merge") return td::run_merge(args);
    std::cerr
        << "topdown: unknown command \"" << command
        << "\" (allowed: demo, init, master, render, match, align, analyze, batch, merge; see "
           "topdown --help)\n";
    return 1;
  } catch (const td::InputError& e) {
    std::cerr << "topdown: " << e.what() << "\n";
    return 1;
  } catch (const boost::program_options::error& e) {
    std::cerr << "topdown " << command << ": " << e.what() << " (see topdown " << command
              << " --help)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "topdown: internal error: " << e.what() << "\n";
    return 2;
  }
}
