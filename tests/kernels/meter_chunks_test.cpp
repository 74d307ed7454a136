// Specification of the chunked meter (kernels/meter_chunks.h): a channel's hop sums cut
// into chunks at the K-weighting's restarts give exactly meter_channel_segment's hops and
// state -- at 1, 2, 3 and 7 chunks, over segments that start mid-hop. The tolerance is
// zero. And the restarts themselves change the K-weighted energies by no more than a
// double's rounding.
#include "kernels/meter_chunks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace td {
namespace {

constexpr double kRate = 48000.0;
constexpr long long kHop = 480;

// Noise and a low tone (the K-weighting's high-pass rings on it) with silent stretches.
std::vector<float> material(long long frames, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.2f);
  std::vector<float> x((size_t)frames);
  for (long long n = 0; n < frames; ++n) {
    const double t = n / kRate;
    const double on = std::fmod(t, 1.1) < 0.8 ? 1.0 : 0.01;
    x[(size_t)n] = (float)(on * (0.4 * std::sin(2 * M_PI * 45.0 * t) + noise(rng)));
  }
  return x;
}

struct Metered {
  std::vector<MeterHop> hops;
  MeterChannelState state[2];
  int chunks = 0;  // the most any segment was cut into
};

void expect_same(const MeterChannelState& a, const MeterChannelState& b) {
  EXPECT_EQ(0, std::memcmp(a.kw, b.kw, sizeof a.kw));
  EXPECT_EQ(a.acc_kweighted, b.acc_kweighted);
  EXPECT_EQ(a.acc_square, b.acc_square);
  EXPECT_EQ(a.acc_rectified, b.acc_rectified);
  EXPECT_EQ(a.acc_cross, b.acc_cross);
  EXPECT_EQ(a.in_hop, b.in_hop);
  EXPECT_EQ(a.hop, b.hop);
  EXPECT_EQ(a.sample_peak, b.sample_peak);
  EXPECT_EQ(0, std::memcmp(a.history, b.history, sizeof a.history));
}

// A stereo song through both channels, in segments of the given lengths, each channel's
// segment cut into `count` chunks (0: the sequential meter_channel_segment).
Metered run(const std::vector<float>& l, const std::vector<float>& r,
            const std::vector<long long>& segments, int count) {
  const KWeighting k = design_kweighting(kRate);
  Metered out;
  out.hops.assign(l.size() / kHop + 2, MeterHop{});
  std::memset(out.hops.data(), 0, sizeof(MeterHop) * out.hops.size());
  std::memset(out.state, 0, sizeof out.state);
  long long origin = 0;
  for (long long len : segments) {
    const float* x[2] = {l.data() + origin, r.data() + origin};
    for (int c = 0; c < 2; ++c) {
      const float* other = c == 0 ? x[1] : nullptr;
      MeterChannelState& st = out.state[c];
      if (count == 0) {
        meter_channel_segment(x[c], other, len, c, k, kHop, st, out.hops.data());
        continue;
      }
      const int n = meter_chunks_of(k, st, count, len, kHop);
      std::vector<MeterChunk> chunks((size_t)n);
      MeterChannelState trailing{};
      for (int ch = 0; ch < n; ++ch)
        meter_channel_chunk(x[c], other, len, c, k, kHop, st, n, ch, out.hops.data(),
                            &chunks[(size_t)ch], &trailing);
      meter_channel_finish(x[c], len, st, n, chunks.data(), trailing);
      out.chunks = std::max(out.chunks, n);
    }
    origin += len;
  }
  return out;
}

// Segments that start mid-hop (lengths not multiples of the hop).
const std::vector<long long> kSegments = {300007, 262144, 199999, 250001};

long long total_of(const std::vector<long long>& segments) {
  long long total = 0;
  for (long long s : segments) total += s;
  return total;
}

// The song metered in chunks at 1, 2, 3 and 7 against the sequential meter: the same hops
// and states, bit for bit. Returns the sequential run.
Metered expect_chunks_match(const std::vector<float>& l, const std::vector<float>& r) {
  const Metered seq = run(l, r, kSegments, 0);
  for (int count : {1, 2, 3, 7}) {
    SCOPED_TRACE(testing::Message() << count << " chunks");
    const Metered chunked = run(l, r, kSegments, count);
    EXPECT_EQ(
        0, std::memcmp(seq.hops.data(), chunked.hops.data(), sizeof(MeterHop) * seq.hops.size()));
    for (int c = 0; c < 2; ++c) expect_same(seq.state[c], chunked.state[c]);
    EXPECT_EQ(chunked.chunks, std::min(count, 5)) << "the longest segment holds 4 restarts";
  }
  return seq;
}

TEST(MeterChunks, ChunkedHopSumsMatchTheSequentialMeterBitForBit) {
  const long long total = total_of(kSegments);
  const Metered seq = expect_chunks_match(material(total, 3), material(total, 4));
  EXPECT_GT(seq.state[0].hop, 2000) << "the song was metered";
}

// The restarts against a K-weighting that runs on: every hop's K-weighted energy agrees
// within 1e-10 relative (4e-10 dB). The restart's own error is e^-48 of the state (about
// 1e-21); what remains is the two runs' different rounding, which a pole 0.5 % from the
// unit circle accumulates to about 1e-14 of the loud passages' level, relatively larger in
// the quiet hops (40 dB down here: measured 4e-12).
TEST(MeterChunks, RestartsChangeTheKWeightedEnergyByNoMoreThanRounding) {
  const KWeighting k = design_kweighting(kRate);
  EXPECT_EQ(k.warm_hops, 21);  // 48 time constants of the 38 Hz double pole at 48 kHz
  const long long frames = 40 * kMeterRestartHops * kHop / 10;  // four restarts
  const std::vector<float> x = material(frames, 9);
  std::vector<MeterHop> hops(frames / kHop + 2);
  MeterChannelState st{};
  meter_channel_segment(x.data(), nullptr, frames, 0, k, kHop, st, hops.data());
  double s1 = 0, s2 = 0, h1 = 0, h2 = 0, worst = 0;
  for (long long h = 0; h < frames / kHop; ++h) {
    double e = 0;
    for (long long i = h * kHop; i < (h + 1) * kHop; ++i) {
      const double y = kweight_step(k, s1, s2, h1, h2, x[(size_t)i]);
      e += y * y;
    }
    if (e > 1e-9) worst = std::max(worst, std::fabs(hops[(size_t)h].kweighted[0] / e - 1.0));
  }
  EXPECT_LT(worst, 1e-10);
}

// Sound, then exact silence (a sparse stem: a tom, a crash): the states decay towards the
// subnormal range and are flushed to zero at hop starts (meters.h, meter_flush); the
// chunks, whose warm-ups flush at the same hop starts, still match the sequential meter
// bit for bit.
TEST(MeterChunks, SilenceFlushesTheStatesAndTheChunksStillMatchBitForBit) {
  const long long total = total_of(kSegments);
  std::vector<float> l = material(total, 5), r = material(total, 6);
  for (long long n = 0; n < total; ++n)
    if (std::fmod(n / kRate, 6.0) >= 1.5) l[(size_t)n] = r[(size_t)n] = 0.0f;  // 4.5 s off
  expect_chunks_match(l, r);
  // Half a second into the silence (before the restart at hop 256 would clear them): the
  // shelf's states are exactly zero, where without the flush they sit in the subnormals,
  // held there by rounding (a limit cycle of the smallest subnormals).
  const std::vector<long long> to_2s = {96000};
  const Metered early = run(l, r, to_2s, 0);
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ(early.state[c].kw[0], 0.0);
    EXPECT_EQ(early.state[c].kw[1], 0.0);
    EXPECT_NE(early.state[c].kw[2], 0.0) << "the high-pass's states decay slower: above 1e-100";
  }
}

TEST(MeterChunks, ChunksStartAtRestartsWithTheirWarmUpInTheSegment) {
  const KWeighting k = design_kweighting(kRate);
  for (int in_hop : {0, 1, 479}) {
    MeterChannelState st{};
    st.hop = 300;
    st.in_hop = in_hop;
    const long long frames = 1 << 21;
    const int n = meter_chunks_of(k, st, 64, frames, kHop);
    EXPECT_EQ(n, 35) << "34 restarts in 2^21 samples";
    for (int c = 1; c < n; ++c) {
      long long hop = -1;
      const long long b = meter_chunk_begin(k, st, frames, kHop, n, c, &hop);
      EXPECT_EQ(hop % kMeterRestartHops, 0);
      EXPECT_GE(b, k.warm_hops * kHop);
      EXPECT_EQ((b - meter_hop_grid(st, kHop).first) % kHop, 0);
    }
  }
}

}  // namespace
}  // namespace td
