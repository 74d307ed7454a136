// The block-wise saturation (cpu::saturation: FIR stages in parallel over time, the curve
// in order) is the per-sample form (saturation_segment, which the CUDA launcher runs) bit
// for bit: every model, every oversampling factor, ADAA, tone, bias, mix and padding, over
// segments of odd lengths, alternating the two forms on the same state (so each continues
// the other exactly), at 1, 2 and 4 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/saturation_design.h"
#include "kernels/stages.h"
#include "processors/saturation.h"

namespace td {
namespace {

constexpr int kRate = 48000;

struct Pair {
  SaturationParams p;
  SaturationState st{};
  std::vector<float> memory;
};

Pair make(const std::string& model, double factor, const std::string& antialias, double tone,
          double bias, double mix, int extra_pad) {
  Processor proc;
  proc.values["model"].kind = ProcessorValue::Kind::kString;
  proc.values["model"].text = model;
  proc.values["oversampling"].number = factor;
  if (!antialias.empty()) {
    proc.values["antialias"].kind = ProcessorValue::Kind::kString;
    proc.values["antialias"].text = antialias;
  }
  proc.values["drive_db"].number = 12;
  proc.values["tone"].number = tone;
  proc.values["bias"].number = bias;
  proc.values["mix_pct"].number = mix;
  Pair out;
  const int latency = saturation_params(proc, kRate, 0).wet_latency + extra_pad;
  out.p = saturation_params(proc, kRate, latency);
  out.memory.assign(2 * (size_t)sat_channel_floats(out.p), 0.0f);
  return out;
}

TEST(SaturationBlocks, TheBlockFormIsThePerSampleFormBitForBit) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  struct Case {
    const char* model;
    double factor;
    const char* antialias;
    double tone, bias, mix;
    int pad;
  };
  const Case cases[] = {{"tape", 4, "", 0.5, 0, 100, 0}, {"tape", 8, "", -0.3, 0.1, 70, 3},
                        {"soft", 1, "", 0, 0, 100, 0},   {"soft", 2, "adaa", 0, 0.2, 100, 5},
                        {"hard", 8, "", 0, 0, 100, 0},   {"hard", 4, "none", 0, -0.3, 50, 0},
                        {"tube", 4, "", 0, 0, 100, 2},   {"tube", 8, "adaa", 0, 0, 100, 0}};
  const int threads = omp_get_max_threads();
  for (const Case& k : cases)
    for (int t : {1, 2, 4}) {
      SCOPED_TRACE(testing::Message() << k.model << " " << k.factor << "x " << k.antialias << " at "
                                      << t << " threads");
      omp_set_num_threads(t);
      Pair ref = make(k.model, k.factor, k.antialias, k.tone, k.bias, k.mix, k.pad);
      Pair blk = ref;
      // Segments of odd lengths (the last one seven of the launcher's 8192-sample tasks at
      // the base rate, so its FIR stages and curve run in 7 chunks and more); the block form
      // on even-numbered segments only in `mixed`.
      Pair mixed = ref;
      for (long long len : {1000LL, 1LL, 4097LL, 333LL, 9000LL, 7LL, 7 * 8192LL - 5}) {
        std::vector<float> l(len), r(len);
        for (long long n = 0; n < len; ++n) l[n] = noise(rng), r[n] = noise(rng);
        std::vector<float> arena_ref(2 * len), arena_blk(2 * len), arena_mix(2 * len);
        for (auto* a : {&arena_ref, &arena_blk, &arena_mix}) {
          std::copy(l.begin(), l.end(), a->begin());
          std::copy(r.begin(), r.end(), a->begin() + len);
        }
        const SaturationJob job{0, 1, 0, 0, 0};
        saturation_segment(job, ref.p, ref.st, arena_ref.data(), arena_ref.data() + len,
                           ref.memory.data(), len);
        cpu::saturation(StreamArena{arena_blk.data(), len, len, 0}, &job, 1, &blk.p, &blk.st,
                        blk.memory.data());
        static int turn = 0;
        if (turn++ % 2)
          cpu::saturation(StreamArena{arena_mix.data(), len, len, 0}, &job, 1, &mixed.p, &mixed.st,
                          mixed.memory.data());
        else
          saturation_segment(job, mixed.p, mixed.st, arena_mix.data(), arena_mix.data() + len,
                             mixed.memory.data(), len);
        ASSERT_EQ(arena_ref, arena_blk) << "segment of " << len;
        ASSERT_EQ(arena_ref, arena_mix) << "segment of " << len;
      }
    }
  omp_set_num_threads(threads);
}

}  // namespace
}  // namespace td

namespace td {
namespace {

TEST(SaturationDesign, StagesAreHalfBandAndOnlyTheirZerosAreSkipped) {
  // Each stage's cut-off is a quarter of its rate, so its sinc vanishes at every even
  // distance from the centre (sin(pi m) = 0): those taps are exact zeros and skipped; every
  // other tap is computed (the up phases' ranges and the down filter's odd taps + centre).
  for (int rate : {44100, 48000, 96000}) {
    SaturationParams p{};
    p.stages = 3;
    sat_filters(p, rate);
    for (int s = 0; s < p.stages; ++s) {
      const int n = p.taps[s], c = (n - 1) / 2;
      int nonzero = 0;
      for (int k = 0; k < n; ++k) {
        const int d = k - c;
        EXPECT_EQ(p.h[s][k] == 0.0f, d != 0 && d % 2 == 0)
            << rate << " stage " << s << " tap " << k;
        nonzero += p.h[s][k] != 0.0f;
      }
      EXPECT_EQ(p.down_count[s] + 1, nonzero);
      EXPECT_EQ(p.up_count[s][0] + p.up_count[s][1], nonzero);
      EXPECT_EQ(std::min(p.up_count[s][0], p.up_count[s][1]), 1);  // one phase: the centre
    }
  }
}

}  // namespace
}  // namespace td
