// `topdown match` (issue #19): a CMA-ES search (cmaes.h) over the parameters [search]
// declares, each generation one launch of all its candidates as variants (mode "list"),
// scored against the references by the report's own score (lower is closer).
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "session/session.h"

namespace td {

struct MatchOptions {
  long long budget = 400;  // evaluations, the start's included
  int population = 0;      // 0: max(16, CMA-ES's default)
  uint64_t seed = 1;
  std::string backend = "auto";
  std::vector<std::filesystem::path> references;  // besides the session's [[reference]]
  int patience = 10;  // generations without a better best before stopping
  std::function<void(int generation, long long evaluations, double best)> progress;
};

struct MatchGeneration {
  int generation = 0;
  long long evaluations = 0;
  double best_score = 0;  // best so far
  double generation_best = 0;
  std::vector<double> best_values;  // best so far, one per [search] axis
};

struct MatchResult {
  std::vector<double> start_values, values;  // one per [search] axis
  double start_score = 0, score = 0;
  long long evaluations = 0;
  std::vector<MatchGeneration> history;
};

// The session's own value of each [search] parameter (its default where unset).
std::vector<double> search_start(const Session& s);

// Runs the search. Throws InputError without [search] or references.
MatchResult match_session(const Session& s, const MatchOptions& options);

// The session file's text with `values` written in (toml++ re-emits it: comments are not
// kept), stem and reference paths made relative to `out_dir` where the file will live.
std::string matched_toml(const Session& s, const std::vector<double>& values,
                         const std::filesystem::path& out_dir);

// The same values applied to the parsed session (its variants and [search] removed).
Session with_values(const Session& s, const std::vector<double>& values);

}  // namespace td
