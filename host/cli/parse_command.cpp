#include <iostream>

#include "cli/commands.h"

namespace po = boost::program_options;

namespace td {

bool parse_command(const std::vector<std::string>& args, const po::options_description& opts,
                   const char* positional, int count, po::variables_map& vm,
                   const char* exit_status) {
  po::options_description all;
  all.add(opts);
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
  if (!vm.count("help")) return true;
  std::cout << opts << "\n" << exit_status;
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
