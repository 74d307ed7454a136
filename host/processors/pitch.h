// `pitch` (issue #20, part 2): pitch shift with the formants preserved and formant shift
// with the pitch kept, the two knobs of a vocal pitch/formant tool, by Rubber Band (R3
// "finer" engine, real-time mode, latency trimmed so the output lines up with the input).
// It runs on the CPU on both backends: the first step of a track's chain, applied to the
// stem as it is read, before the track's batched stages (docs/processors.md, "pitch").
#pragma once
#include <memory>
#include <optional>

#include "io/audio_file.h"
#include "session/session.h"

namespace td {

struct PitchSettings {
  double semitones = 0, formant_semitones = 0, mix = 1;
};

// The settings of a track whose first chain step is an enabled `pitch`, or none.
std::optional<PitchSettings> track_pitch(const Node& track);

// `in` shifted as it is read: the same length, time-aligned (Rubber Band's start delay
// trimmed), blended with the dry input by `mix`.
std::unique_ptr<StemReader> pitch_reader(std::unique_ptr<StemReader> in, int channels, int rate,
                                         const PitchSettings& p);

}  // namespace td
