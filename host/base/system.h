// What the host machine offers, and wall-clock timing for the report's timings.
#pragma once
#include <chrono>

namespace td {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t);

// Physical memory in bytes (0 when unknown): the launch memory check, the parallel
// delivery and the batch budget all size themselves from it.
double physical_memory_bytes();

}  // namespace td
