// `topdown align` (issue #20, part 1): finds the groups of tracks that are recordings of one
// source, measures each track against its group's reference (align/measure.h), and writes
// the corrections into the session as `utility` steps.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "align/measure.h"
#include "session/session.h"

namespace td {

struct AlignedTrack {
  std::string track;
  AlignMeasurement m;
  bool corrected = false;  // false: no common source found (peak under kAlignMinPeak)
};

struct AlignGroupResult {
  std::string name;       // the shared name stem, or "[[align]] #n"
  std::string reference;  // the first track
  std::vector<AlignedTrack> tracks;
};

constexpr double kAlignMinPeak = 0.1;

// The groups: every [[align]] entry, then tracks on the same bus whose names share a stem
// before the last '_' (kick_in / kick_out, snare_top / snare_bottom, bass_di / bass_amp),
// the first in session order as the reference. Suffixes that name a side or a number
// (_l, _r, _left, _right, _1, _2 ..: double-tracked parts, separate drums) do not group. A
// track in an [[align]] entry is in no name group.
std::vector<std::vector<std::string>> align_groups(const Session& s,
                                                   std::vector<std::string>* names = nullptr);

// Measures every group (stems decoded whole, mono sums, at the session rate).
std::vector<AlignGroupResult> measure_groups(const Session& s, double max_delay_ms = 20.0);

// The utility step that corrects a measured track: delay_ms = -delay / rate (an advance
// where the track lags), rounded to 1e-5 ms (0.0005 samples at 48 kHz); invert both sides
// for a flipped polarity. `apply_alignment` and `topdown init` write it.
struct AlignStep {
  double delay_ms = 0;
  bool invert = false;
};
AlignStep align_step(const AlignMeasurement& m, int rate);

// The session file's text with each corrected track's first chain step an `utility` step
// with id "align" (replaced if there is one): delay_ms = -delay / rate (an advance where the
// track lags), invert_left/right for a flipped polarity. toml++ re-emits the file.
std::string apply_alignment(const Session& s, const std::vector<AlignGroupResult>& groups);

nlohmann::json align_json(const Session& s, const std::vector<AlignGroupResult>& groups);
std::string align_html(const Session& s, const std::vector<AlignGroupResult>& groups);

}  // namespace td
