// One pass of a delivery limiter over a kept master, segment by segment (memory: a few
// segments whatever the song's length), measured and/or handed to a sink; and the secant
// search of the drive that meets a loudness target. Used by the [delivery] master
// (deliver.cpp) and by every [[deliverable]] (deliverables.cpp).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analysis/analyze.h"
#include "backend/backend.h"
#include "io/audio_file.h"
#include "kernels/limiter.h"

namespace td {

// Where a pass may keep its limited audio for the whole song (planar, frames each), so
// that the pass that met the target is written from it instead of being run again.
struct PassKeep {
  std::vector<float> l, r;
};

// The delivery limiter run over a whole kept master at one drive, and measured.
struct Limited {
  LimiterParams params;  // with the drive
  double drive_db = 0;
  Readings readings;
  StereoSpectra spectra;
  double reduction_p99_db = 0, reduction_max_db = 0;
  std::vector<float> trace_db;  // the largest reduction of every 1 / kTraceHz s
  int passes = 0;               // the limiter passes run to find it (0: it stays open, nothing ran)
};

// The kept master pair a delivery limits, read a range at a time.
struct KeptPair {
  Backend& backend;
  int left, right;
  long long frames;
};

// Where a pass's limited audio goes besides the meters: planar pair, its first sample's
// index in the song, its length.
using PassSink = std::function<void(const float* l, const float* r, long long pos, long long len)>;

// A level in a warning: two decimals.
std::string fixed2(double v);

// A sink that dithers (TPDF, seeded, by song index) or converts to float and writes.
PassSink pcm_sink(AudioWriter& writer, int bits, uint64_t seed);

// Samples [begin, begin + count) of the pair into l and r; zeros past the song's end.
void read_pair(const KeptPair& in, long long begin, long long count, float* l, float* r);

// The limiter over the whole kept master at drive_db: measured when `measure`, handed to
// `out` when given, kept in `keep` when given.
Limited limit_at(const KeptPair& in, LimiterParams p, double drive_db, int rate,
                 const MeterOptions& mo, bool measure, const PassSink& out = {},
                 PassKeep* keep = nullptr);

// Whether the limiter stays open (gain exactly 1 throughout) at drive_db on an input whose
// true peak is input_true_peak_dbtp: the driven true peak is under the ceiling by more than
// the rounding that separates the meter's interpolation from the limiter's own (the same
// filter, on undriven and driven floats). Then every need is 1, the moving average is
// exactly 1 and the pass is the driven input: nothing to run.
bool limiter_stays_open(double input_true_peak_dbtp, const LimiterParams& p, double drive_db);

// The other half of that claim, at the song's two ends: the limiter reads zeros past them
// where the meter read the render's own samples (a FIR's ringing), so the windows that
// reach past an end are not the meter's: their needs, computed as the limiter computes
// them, must all be 1.
bool limiter_quiet_at_ends(const KeptPair& in, LimiterParams p, double drive_db, int rate);

// The pass at drive_db of a limiter that stays open, without running it: the input's
// readings and spectra moved by the drive (shift_readings), no reduction anywhere.
Limited open_pass(LimiterParams p, double drive_db, const Readings& input,
                  const StereoSpectra& input_spectra, long long frames, int rate);

// Hands a kept pass to `out` a segment at a time.
void replay(const PassKeep& keep, long long frames, const PassSink& out);

// Drives the limiter so that the loudness meets `target` within 0.05 LU (secant steps),
// then backs off if that needs more than max_reduction_db of limiting (its 99th
// percentile), with a warning. `keep`, when given, holds the returned pass's audio.
Limited drive_to_target(const KeptPair& in, const LimiterParams& p, double target,
                        double rendered_lufs, double max_reduction_db, int rate,
                        const MeterOptions& mo, std::vector<std::string>& warnings,
                        PassKeep* keep = nullptr);

}  // namespace td
