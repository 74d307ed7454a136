// `topdown match` (issue #19): a CMA-ES search (cmaes.h) over the parameters [search]
// declares, each generation one launch of all its candidates as variants (mode "list"),
// scored against the references by the report's own score (lower is closer).
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "match/excerpt.h"
#include "session/session.h"

namespace td {

struct MatchOptions {
  long long budget = 400;  // evaluations, the start's included
  int population = 0;      // 0: max(16, CMA-ES's default)
  uint64_t seed = 1;
  std::string backend = "auto";
  std::vector<std::filesystem::path> references;  // besides the session's [[reference]]
  int patience = 10;  // generations without a better best before stopping
  // The search renders an excerpt of this many seconds (excerpt.h; <= 0: the whole song)
  // and confirms the `confirm` best candidates, and the start, on the whole song.
  double seconds = 30.0;
  int confirm = 4;
  std::function<void(int generation, long long evaluations, double best)> progress;
};

struct MatchGeneration {
  int generation = 0;
  long long evaluations = 0;
  double best_score = 0;  // best so far
  double generation_best = 0;
  std::vector<double> best_values;  // best so far, one per [search] axis
};

// A candidate scored on the excerpt and then on the whole song.
struct MatchConfirmed {
  std::vector<double> values;
  double excerpt_score = 0, song_score = 0;
};

struct MatchResult {
  std::vector<double> start_values, values;  // one per [search] axis
  // On the whole song (confirmed); the history's scores are the excerpt's.
  double start_score = 0, score = 0;
  long long evaluations = 0;  // renders of one candidate, on the excerpt
  std::vector<MatchGeneration> history;
  Excerpt excerpt;
  // The finalists (the `confirm` best, distinct, and the start) with their song scores:
  // rendered whole after an excerpt's search, or the search's own scores.
  std::vector<MatchConfirmed> confirmed;
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

// The session with one variant per candidate (the [variants] mode "list": variant i is
// candidate i), [search] removed.
Session with_candidates(const Session& s, const std::vector<std::vector<double>>& candidates);

}  // namespace td
