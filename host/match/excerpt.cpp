#include "match/excerpt.h"

#include <algorithm>
#include <cmath>

#include "io/audio_file.h"

namespace td {

long long Excerpt::frames() const {
  long long n = 0;
  for (const Range& r : ranges) n += r.frames;
  return whole() ? song_frames : n;
}

namespace {

constexpr long long kBlockFrames(int rate) {
  return rate / 10;  // 100 ms
}

long long song_length(const std::vector<StemSource>& stems) {
  long long n = 0;
  for (const StemSource& s : stems) n = std::max(n, s.info.frames_at_rate);
  return n;
}

// The mean square of the plain sum of all stems' channels, per block.
std::vector<double> block_power(const std::vector<StemSource>& stems, int rate, long long frames) {
  const long long block = kBlockFrames(rate);
  const long long blocks = (frames + block - 1) / block;
  std::vector<double> power((size_t)blocks, 0.0);
  std::vector<float> sum((size_t)block);
  // Stem by stem would need the whole sum in memory; block by block with every stem open
  // needs one block per stem channel (allocated once).
  std::vector<std::unique_ptr<StemReader>> readers;
  std::vector<std::vector<std::vector<float>>> planes;
  std::vector<std::vector<float*>> outs;
  for (const StemSource& s : stems) {
    readers.push_back(s.open());
    planes.emplace_back((size_t)s.info.channels, std::vector<float>((size_t)block));
    outs.emplace_back();
    for (auto& p : planes.back()) outs.back().push_back(p.data());
  }
  for (long long b = 0; b < blocks; ++b) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (size_t i = 0; i < stems.size(); ++i) {
      readers[i]->read(outs[i].data(), block);
      for (const auto& p : planes[i])
        for (long long n = 0; n < block; ++n) sum[(size_t)n] += p[(size_t)n];
    }
    double acc = 0.0;
    for (float v : sum) acc += (double)v * v;
    power[(size_t)b] = acc / (double)block;
  }
  return power;
}

// The start block of the window of `len` blocks with the largest (most = true) or smallest
// mean power among windows whose blocks all pass `allowed`; -1 when none does.
long long best_window(const std::vector<double>& power, long long len, bool most,
                      const std::vector<bool>& allowed, double floor) {
  long long best = -1;
  double best_sum = 0.0;
  for (long long b = 0; b + len <= (long long)power.size(); ++b) {
    double s = 0.0;
    bool ok = true;
    for (long long i = b; i < b + len && ok; ++i) {
      ok = allowed[(size_t)i];
      s += power[(size_t)i];
    }
    if (!ok || s / (double)len < floor) continue;
    if (best < 0 || (most ? s > best_sum : s < best_sum)) best = b, best_sum = s;
  }
  return best;
}

}  // namespace

Excerpt choose_excerpt(const std::vector<StemSource>& stems, int rate, double seconds) {
  Excerpt e;
  e.rate = rate;
  e.song_frames = song_length(stems);
  const long long block = kBlockFrames(rate);
  const long long loud_blocks = (long long)std::ceil(seconds * 10.0);
  const long long quiet_blocks = std::max(50LL, loud_blocks / 3);
  if (seconds <= 0.0 || e.song_frames < (long long)(1.5 * seconds * rate) ||
      e.song_frames < (loud_blocks + quiet_blocks) * block)
    return e;  // whole
  const std::vector<double> power = block_power(stems, rate, e.song_frames);
  std::vector<bool> allowed(power.size(), true);
  const long long loud = best_window(power, loud_blocks, true, allowed, 0.0);
  if (loud < 0) return e;
  double loud_power = 0.0;
  for (long long i = loud; i < loud + loud_blocks; ++i) loud_power += power[(size_t)i];
  loud_power /= (double)loud_blocks;
  // The quiet stretch: no block of it overlaps the loud one or is near silence (40 dB
  // under the loud stretch), so that a fade or a gap is not taken for the quiet part.
  for (size_t i = 0; i < power.size(); ++i) allowed[i] = power[i] >= loud_power * 1e-4;
  for (long long i = loud; i < loud + loud_blocks; ++i) allowed[(size_t)i] = false;
  const long long quiet = best_window(power, quiet_blocks, false, allowed, 0.0);
  e.ranges.push_back({loud * block, loud_blocks * block});
  if (quiet >= 0) e.ranges.push_back({quiet * block, quiet_blocks * block});
  std::sort(e.ranges.begin(), e.ranges.end(),
            [](const Excerpt::Range& a, const Excerpt::Range& b) { return a.begin < b.begin; });
  return e;
}

ExcerptStems::ExcerptStems(const std::vector<StemSource>& stems, const Excerpt& e) {
  const long long frames = e.frames();
  for (const StemSource& s : stems) {
    auto audio = std::make_shared<std::vector<std::vector<float>>>(
        (size_t)s.info.channels, std::vector<float>((size_t)frames, 0.0f));
    // One sequential read, keeping the ranges (song order) and skipping what is between.
    std::unique_ptr<StemReader> r = s.open();
    const long long chunk = 1 << 16;
    std::vector<std::vector<float>> buf((size_t)s.info.channels, std::vector<float>(chunk));
    std::vector<float*> out;
    for (auto& b : buf) out.push_back(b.data());
    long long pos = 0, kept = 0;
    for (const Excerpt::Range& range : e.ranges) {
      while (pos < range.begin) {  // skipped
        const long long n = std::min(chunk, range.begin - pos);
        r->read(out.data(), n);
        pos += n;
      }
      for (long long done = 0; done < range.frames;) {
        const long long n = std::min(chunk, range.frames - done);
        r->read(out.data(), n);
        for (int c = 0; c < s.info.channels; ++c)
          std::copy(buf[(size_t)c].begin(), buf[(size_t)c].begin() + n,
                    (*audio)[(size_t)c].begin() + kept + done);
        done += n;
      }
      pos += range.frames;
      kept += range.frames;
    }
    StemSource src = s;
    src.info.frames = src.info.frames_at_rate = frames;
    src.info.sample_rate = e.rate;
    src.open = [audio]() { return open_memory_stem(*audio); };
    sources_.push_back(std::move(src));
    audio_.push_back(std::move(audio));
  }
}

}  // namespace td
