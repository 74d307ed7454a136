// report.json: what was rendered, how the plan shared work, and the measured figures of
// every delivered file. Contains no timings, so that it repeats byte for byte.
#pragma once
#include <nlohmann/json.hpp>

#include "render/render.h"
#include "session/session.h"

namespace td {

extern const char* const kVersion;

// One comparison with a reference, as report.json and `analyze --json` write it.
nlohmann::json comparison_json(const Comparison& c);

// report.csv: one row per variant (best first when ranked against references).
std::string report_csv(const RenderResult& result);

nlohmann::json make_report(const Session& session, const RenderResult& result);

// A number or null for -inf/NaN (JSON has no infinities).
nlohmann::json number_or_null(double v);

// The meters' figures under the keys `topdown analyze --json` documents (docs/meters.md).
// series: also momentary_series and short_term_series ([t_end_s, lufs] every 10 ms).
nlohmann::json readings_json(const Readings& r, const std::vector<Band>& spectrum, bool series);

// A gain-reduction trace, to 0.01 dB.
nlohmann::json trace_json(const std::vector<float>& trace_db);

// A time series thinned to one point per `step` (the VU trace in report.json: 100 ms).
nlohmann::json series_json(const std::vector<std::pair<double, double>>& s, size_t step);

}  // namespace td
