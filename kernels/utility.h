// The utility stage: per-channel polarity and gain, and a delay of any number of samples
// including fractions, for layer alignment. A whole-sample delay is a shift (bit exact); a
// fractional one is a Kaiser-windowed sinc FIR of kUtilityTaps taps (T. I. Laakso,
// V. Valimaki, M. Karjalainen and U. K. Laine, "Splitting the unit delay", IEEE Signal
// Processing Magazine 13(1), 1996, section 3.2), designed in utility_design.h.
//
// The stage is a FIR over (the previous segment's last samples, this segment), so every
// output sample is independent: both launchers run it parallel in time. Three passes per
// channel: gather the history and the segment into a scratch line, compute every output
// from it in place of the input, keep the line's tail as the next segment's history.
#pragma once
#include "td_hd.h"

namespace td {

constexpr int kUtilityTaps = 32;  // fractional FIR: centre between taps 15 and 16
constexpr int kUtilityFirCentre = kUtilityTaps / 2 - 1;

struct UtilityParams {
  float gain_left, gain_right;  // gain with polarity
  int whole;                    // whole samples of delay before the FIR
  int taps;                     // 1: whole-sample delay only (h[0] = 1)
  int history;                  // samples kept per channel between segments: whole + taps - 1
  float h[kUtilityTaps];
};

struct UtilityJob {
  int left, right;
  int params;
  long long memory;  // 2 * history floats: the left channel's history, then the right's
};

// Sample i of a channel's scratch line: its history (the previous segment's last
// `history` samples), then the segment.
TD_HD float utility_line_at(const float* history, const float* segment, int history_len,
                            long long i) {
  return i < history_len ? history[i] : segment[i - history_len];
}

// Output sample n of a channel from its scratch line.
TD_HD float utility_sample(const UtilityParams& p, float gain, const float* line, long long n) {
  const float* x = line + p.history + n - p.whole;
  float acc = 0.0f;
  for (int j = 0; j < p.taps; ++j) acc += p.h[j] * x[-j];
  return gain * acc;
}

}  // namespace td
