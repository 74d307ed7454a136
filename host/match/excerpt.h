// The excerpts `topdown match` searches on (issue #19, "coarse to fine"): the loudest
// stretch of the unprocessed mix, where the mix bus works hardest, and a quieter one, so
// that the dynamics count. Each generation then renders seconds instead of the song; the
// best candidates are confirmed on the whole song before the answer is written.
#pragma once
#include <memory>
#include <vector>

#include "render/render.h"

namespace td {

struct Excerpt {
  struct Range {
    long long begin = 0, frames = 0;  // at the session rate
  };
  std::vector<Range> ranges;  // in song order; empty: the whole song
  long long song_frames = 0;
  int rate = 0;
  bool whole() const { return ranges.empty(); }
  long long frames() const;
};

// Chooses the excerpt of `seconds` for a session's stems: the loudest window of that length
// (by the mean square of the plain sum of every stem's channels, in 100 ms blocks) and the
// quietest window a third as long (at least 5 s) none of whose blocks is near silence (40 dB
// under the loud window's level) or in the loud window. A song shorter than 1.5 times the excerpt,
// or seconds <= 0, is searched whole. Reads every stem once.
Excerpt choose_excerpt(const std::vector<StemSource>& stems, int rate, double seconds);

// The stems cut to the excerpt's ranges (concatenated in song order), held in memory: one
// StemSource per stem that the renders read instead of the files.
class ExcerptStems {
 public:
  ExcerptStems(const std::vector<StemSource>& stems, const Excerpt& e);
  const std::vector<StemSource>& sources() const { return sources_; }

 private:
  std::vector<std::shared_ptr<std::vector<std::vector<float>>>> audio_;
  std::vector<StemSource> sources_;
};

}  // namespace td
