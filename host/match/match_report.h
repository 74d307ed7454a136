// What `topdown match` writes besides the matched session and its render: the search's
// history as JSON (match.json, and report.json's "match"), CSV (match.csv: one row per
// generation) and a page (match.html: the score against evaluations, the best settings per
// generation, the excerpt and the confirmation).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "match/match.h"

namespace td {

nlohmann::json match_json(const Session& s, const MatchResult& m);
std::string match_csv(const Session& s, const MatchResult& m);
std::string match_html(const Session& s, const MatchResult& m);

}  // namespace td
