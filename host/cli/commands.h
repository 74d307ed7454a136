// One function per command; each parses its own options (Boost.Program_options) and
// returns the process exit code: 0 ok, 1 bad input, 2 internal error.
#pragma once
#include <boost/program_options.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "render/render.h"
#include "session/session.h"

namespace td {

int run_demo(const std::vector<std::string>& args);
int run_render(const std::vector<std::string>& args);
int run_analyze(const std::vector<std::string>& args);
int run_batch_command(const std::vector<std::string>& args);
int run_merge(const std::vector<std::string>& args);
int run_init(const std::vector<std::string>& args);
int run_align(const std::vector<std::string>& args);
int run_master(const std::vector<std::string>& args);
int run_match(const std::vector<std::string>& args);

// The option skeleton every command shares: `args` parsed against `opts` plus one
// positional argument named `positional` taking `count` values (1, or -1 for any number;
// nullptr: none) into `vm`. With --help, prints the options and `exit_status` and returns
// false (the command then returns 0).
constexpr const char* kExitStatus =
    "Exit status: 0 ok, 1 bad input or a full disk (one message on stderr), 2 internal error,\n"
    "130 / 143 stopped by SIGINT / SIGTERM (the files being written removed).\n";
bool parse_command(const std::vector<std::string>& args,
                   const boost::program_options::options_description& opts, const char* positional,
                   int count, boost::program_options::variables_map& vm,
                   const char* exit_status = kExitStatus);

// --backend must be cpu, cuda or auto; otherwise InputError naming the command. Where
// `auto` falls back to the CPU, the GPU notice comes before the first progress line.
void check_backend(const std::string& backend, const std::string& command);

// --allow-path DIR (repeatable) and --allow-any-path, for the commands that read sessions
// (render, batch), and the policy they give (base/paths.h).
void add_path_options(boost::program_options::options_description& opts);
PathPolicy path_policy_of(const boost::program_options::variables_map& vm);

// The command's progress reporter (cli/console.h): `audio_seconds` for the speed, 0 unknown.
std::function<void(const std::string&, double)> terminal_progress(double audio_seconds = 0.0);
// The longest stem's length in seconds (the audio a render walks).
double song_seconds(const std::vector<StemSource>& stems, int rate);

// Writes report.json, .csv and .html, publishes `outputs` (when given: the set of files the
// render wrote, io/output_set.h), prints the summary (or the report with --json); returns 0.
// `extra`: keys added to report.json (match's "match").
class OutputSet;
int finish_render(const Session& session, const RenderResult& result,
                  const std::filesystem::path& out_dir, bool json, OutputSet* outputs = nullptr,
                  const nlohmann::json& extra = nlohmann::json::object());

}  // namespace td
