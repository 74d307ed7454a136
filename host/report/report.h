// report.json: what was rendered, how the plan shared work, and the measured figures of
// every delivered file. Contains no timings, so that it repeats byte for byte.
#pragma once
#include <nlohmann/json.hpp>

#include "render/render.h"
#include "session/session.h"

namespace td {

extern const char* const kVersion;

nlohmann::json make_report(const Session& session, const RenderResult& result);

// A number or null for -inf/NaN (JSON has no infinities).
nlohmann::json number_or_null(double v);

}  // namespace td
