#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/console.h"

namespace po = boost::program_options;

namespace td {

bool parse_command(const std::vector<std::string>& args, const po::options_description& opts,
                   const char* positional, int count, po::variables_map& vm,
                   const char* exit_status) {
  po::options_description all;
  const po::options_description output = console_options();
  all.add(opts).add(output);
  po::positional_options_description pos;
  if (positional) {
    po::options_description hidden;
    if (count == 1)
      hidden.add_options()(positional, po::value<std::string>(), positional);
    else
      hidden.add_options()(positional, po::value<std::vector<std::string>>(), positional);
    pos.add(positional, count);
    all.add(hidden);
  }
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (!vm.count("help")) {
    set_console(vm);
    // -q: nothing but errors on the terminal; a --json result is still printed.
    if (quiet() && !vm.count("json")) {
      std::fflush(stdout);
      if (FILE* null = std::fopen("/dev/null", "w")) {
        dup2(fileno(null), STDOUT_FILENO);
        std::fclose(null);
      }
    }
    return true;
  }
  std::cout << opts << "\n" << output << "\n" << exit_status;
  return false;
}

void add_path_options(po::options_description& opts) {
  // clang-format off
  opts.add_options()
      ("allow-path", po::value<std::vector<std::string>>()->composing(),
       "a folder the sessions' stems and references may also be in (repeatable; also "
       "TOPDOWN_ALLOW_PATH, folders separated by ':'); by default only the session's folder")
      ("allow-any-path", "let sessions read any file (for your own sessions, not clients')");
  // clang-format on
}

PathPolicy path_policy_of(const po::variables_map& vm) {
  return path_policy(vm.count("allow-path") ? vm["allow-path"].as<std::vector<std::string>>()
                                            : std::vector<std::string>{},
                     vm.count("allow-any-path") > 0);
}

}  // namespace td
