// What every command prints besides its result (issue #21): one progress reporter for every
// long step, with elapsed time, ETA and speed; drawn in place on a terminal, printed as plain
// lines (or JSON lines, --progress json) otherwise; -q prints nothing but errors, -v adds
// detail. Set once per process from the options every command shares (parse_command).
#pragma once
#include <boost/program_options.hpp>
#include <functional>
#include <string>

namespace td {

struct ConsoleOptions {
  int verbosity = 1;  // 0: -q (errors only), 1: normal, 2: -v
  std::string progress =
      "auto";  // auto (terminal: in place; else plain lines) | plain | json | none
  // The command's --backend: where `auto` falls back to the CPU, the GPU notice is said
  // before the first progress line (after the input was checked: bad input stays one line).
  std::string backend;
  bool backend_announced = false;
};

ConsoleOptions& console();
bool quiet();
bool verbose();

// -q, -v and --progress, shown in every command's --help.
boost::program_options::options_description console_options();
// Reads them (throws InputError on a bad --progress) into console().
void set_console(const boost::program_options::variables_map& vm);

// A progress callback for one command's long steps: `audio_seconds` (0: unknown) is the
// audio each step walks, for the speed in x realtime. Every step (a new stage name) starts
// its own clock. nullptr when -q or --progress none.
std::function<void(const std::string& stage, double fraction)> progress_reporter(
    double audio_seconds = 0.0);

// Seconds since the command started (main() starts the clock): what the summary reports.
double command_seconds();
void start_command_clock();

// A line for -v (stderr), and a line that -q suppresses (stderr: notes, warnings).
void detail(const std::string& line);
void note(const std::string& line);

}  // namespace td
