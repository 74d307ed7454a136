#include "cli/console.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "base/input_error.h"

namespace po = boost::program_options;

namespace td {

ConsoleOptions& console() {
  static ConsoleOptions c;
  return c;
}

bool quiet() {
  return console().verbosity == 0;
}

bool verbose() {
  return console().verbosity >= 2;
}

po::options_description console_options() {
  po::options_description o("Output");
  // clang-format off
  o.add_options()
      ("quiet,q", "print nothing but errors")
      ("verbose,v", "print more: each step's timing and detail")
      ("progress", po::value<std::string>()->default_value("auto"),
       "auto (in place on a terminal, plain lines otherwise) | plain | json (one JSON object "
       "per line) | none");
  // clang-format on
  return o;
}

void set_console(const po::variables_map& vm) {
  ConsoleOptions& c = console();
  c.verbosity = vm.count("quiet") ? 0 : vm.count("verbose") ? 2 : 1;
  c.progress = vm.count("progress") ? vm["progress"].as<std::string>() : "auto";
  if (c.progress != "auto" && c.progress != "plain" && c.progress != "json" && c.progress != "none")
    throw InputError("--progress: " + c.progress + " (allowed: auto, plain, json, none)");
}

namespace {
std::chrono::steady_clock::time_point& command_start() {
  static std::chrono::steady_clock::time_point t = std::chrono::steady_clock::now();
  return t;
}
}  // namespace

void start_command_clock() {
  command_start() = std::chrono::steady_clock::now();
}

double command_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - command_start()).count();
}

namespace {
// With --progress json every line on stderr is a JSON object: notes are {"notice": ...}.
void say(const std::string& line) {
  if (console().progress == "json")
    std::cerr << nlohmann::json{{"notice", line}}.dump() << "\n";
  else
    std::cerr << "topdown: " << line << "\n";
}
}  // namespace

void detail(const std::string& line) {
  if (verbose()) say(line);
}

void note(const std::string& line) {
  if (!quiet()) say(line);
}

namespace {

using Clock = std::chrono::steady_clock;

std::string clock_text(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  char b[32];
  const long long t = std::llround(s);
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%lld:%02lld", t / 60, t % 60);
  return b;
}

struct Reporter {
  std::string mode;  // tty | plain | json
  double audio_s;
  std::mutex mutex;
  std::string stage;
  Clock::time_point start;
  double last_fraction = -1.0;
  Clock::time_point last_line;

  void update(const std::string& s, double f) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto now = Clock::now();
    if (s != stage) {
      if (mode == "tty" && !stage.empty() && last_fraction < 1.0) std::fputs("\n", stderr);
      stage = s;
      start = now;
      last_fraction = -1.0;
      last_line = now - std::chrono::hours(1);
    }
    f = std::min(1.0, std::max(0.0, f));
    const double elapsed = std::chrono::duration<double>(now - start).count();
    // No estimate until the step has run long enough to extrapolate (half a second).
    const double eta = f >= 1.0 ? 0.0 : f > 0.0 && elapsed >= 0.5 ? elapsed * (1.0 - f) / f : NAN;
    const double speed = audio_s > 0.0 && elapsed > 0.0 ? audio_s * f / elapsed : NAN;
    // Plain and JSON lines: the start, every 10 %, at most one a second, and the end.
    const bool step = (int)(f * 10) != (int)(std::max(0.0, last_fraction) * 10);
    const bool due = std::chrono::duration<double>(now - last_line).count() >= 1.0;
    if (mode != "tty" && !(last_fraction < 0.0 || f >= 1.0 || (step && due))) {
      last_fraction = f;
      return;
    }
    if (mode != "tty" && f >= 1.0 && last_fraction >= 1.0) return;  // the end, once
    last_fraction = f;
    last_line = now;
    if (mode == "json") {
      nlohmann::json j = {{"stage", s},
                          {"fraction", std::round(f * 1000) / 1000},
                          {"elapsed_s", std::round(elapsed * 100) / 100}};
      j["eta_s"] = std::isfinite(eta) ? nlohmann::json(std::round(eta * 100) / 100)
                                      : nlohmann::json(nullptr);
      j["speed_x_realtime"] = std::isfinite(speed) ? nlohmann::json(std::round(speed * 10) / 10)
                                                   : nlohmann::json(nullptr);
      std::fprintf(stderr, "%s\n", j.dump().c_str());
      return;
    }
    char speed_text[48] = "";
    if (std::isfinite(speed))
      std::snprintf(speed_text, sizeof speed_text, ", %.1fx realtime", speed);
    char line[200];
    std::snprintf(line, sizeof line, "%-9s %3d%%  %s elapsed, ETA %s%s", s.c_str(),
                  (int)std::lround(100 * f), clock_text(elapsed).c_str(),
                  f >= 1.0 ? "0:00" : clock_text(eta).c_str(), speed_text);
    if (mode == "tty")
      std::fprintf(stderr, "\r%-78s%s", line, f >= 1.0 ? "\n" : "");
    else
      std::fprintf(stderr, "topdown: %s\n", line);
    std::fflush(stderr);
  }
};

}  // namespace

std::function<void(const std::string&, double)> progress_reporter(double audio_seconds) {
  const ConsoleOptions& c = console();
  if (c.verbosity == 0 || c.progress == "none") return nullptr;
  auto r = std::make_shared<Reporter>();
  r->mode = c.progress == "json"                              ? "json"
            : c.progress == "plain" || !isatty(STDERR_FILENO) ? "plain"
                                                              : "tty";
  r->audio_s = audio_seconds;
  return [r](const std::string& stage, double f) {
    ConsoleOptions& c = console();
    if (!c.backend.empty() && !c.backend_announced) {  // the notice before the work
      c.backend_announced = true;
      announce_backend(c.backend);
    }
    r->update(stage, f);
  };
}

}  // namespace td
