// Specification of the chunked limiter (kernels/limiter_chunks.h): cutting a limiter's
// segment into chunks that run in parallel gives exactly the sequential limiter (the
// sample-by-sample limiter_segment) -- the audio, the carried state, the trace and the
// statistics, bit for bit, at 1, 2, 3 and 7 chunks and when the chunk count changes from
// segment to segment. The tolerance is zero: the hold and the box sum are exact by
// construction, the fix-up makes the release recurrence exact, and the needs the CPU
// computes side by side in SIMD lanes are the scalar arithmetic in every lane. The
// delivery's pass (cpu::limiter_pass, the same lanes) is held to limiter_step the same way.
#include "kernels/limiter_chunks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/stages.h"

namespace td {
namespace {

constexpr int kRate = 48000;

LimiterParams params(double ceiling_db, double release_ms, int lookahead, int pad) {
  LimiterParams p{};
  p.ceiling = (float)std::pow(10.0, ceiling_db / 20.0);
  p.release = (float)std::exp(-1.0 / (release_ms * 1e-3 * kRate));
  p.lookahead = lookahead;
  p.pad = pad;
  p.drive = 1.0f;
  p.bound = true_peak_gain_bound(design_true_peak_filter(kRate));
  p.inverse_lookahead = 1.0 / lookahead;
  return p;
}

// Loud material: noise and a tone with hits well over the ceiling, quiet stretches (the
// limiter releases fully) and loud ones (it holds).
std::vector<float> material(long long frames, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.25f);
  std::vector<float> x((size_t)frames);
  for (long long n = 0; n < frames; ++n) {
    const double t = (double)n / kRate;
    const double section = std::fmod(t, 0.9) < 0.5 ? 1.0 : 0.02;
    const double hit = std::fmod(t, 0.2) < 0.01 ? 2.5 : 1.0;
    x[(size_t)n] = (float)(section * hit * 0.6 * std::sin(2.0 * M_PI * 330.0 * t)) +
                   (float)section * noise(rng);
  }
  return x;
}

struct Rig {
  long long frames;  // per segment
  int segments;
  std::vector<float> left, right;  // the whole song
  std::vector<LimiterJob> jobs;
  std::vector<LimiterParams> params;
  long long ring_floats = 0;
};

struct Result {
  std::vector<float> audio;  // every job's output, whole song
  std::vector<LimiterState> states;
  std::vector<float> trace;
  long long rerun = 0;
};

void add_job(Rig& rig, const LimiterParams& p) {
  const int index = (int)rig.jobs.size();
  LimiterJob job{};
  job.left = 2 * index;
  job.right = 2 * index + 1;
  job.params = index;
  job.state = index;
  job.ring = rig.ring_floats;
  rig.ring_floats += limiter_ring_floats(p.lookahead, p.pad);
  job.song_begin = 300;  // the song starts inside the first segment and ends in the last
  job.song_end = rig.frames * rig.segments - 700;
  job.trace = (long long)index * 1000;
  job.trace_hops = 1000;
  rig.jobs.push_back(job);
  rig.params.push_back(p);
}

// The song through every job, segment s cut into chunks[s] chunks by cpu::limiter (0: the
// sequential reference, limiter_segment itself, one sample at a time).
Result run(const Rig& rig, const std::vector<int>& chunks) {
  const long long song = rig.frames * rig.segments;
  const int jobs = (int)rig.jobs.size();
  std::vector<float> arena((size_t)2 * jobs * rig.frames);
  StreamArena a{arena.data(), rig.frames, rig.frames, 0};
  Result r;
  r.audio.resize((size_t)2 * jobs * song);
  r.states.assign(jobs, LimiterState{});
  std::vector<float> rings((size_t)rig.ring_floats, 0.0f);
  r.trace.assign((size_t)jobs * 1000, 0.0f);
  const long long hop = song / 1000 + 1;
  const TruePeakFilter f = design_true_peak_filter(kRate);
  for (int s = 0; s < rig.segments; ++s) {
    a.origin = s * rig.frames;
    for (int k = 0; k < 2 * jobs; ++k)
      std::memcpy(a.stream(k), (k % 2 ? rig.right : rig.left).data() + a.origin,
                  sizeof(float) * rig.frames);
    if (chunks[(size_t)s] == 0)
      for (const LimiterJob& job : rig.jobs)
        limiter_segment(job, rig.params[job.params], f, r.states[job.state], a.stream(job.left),
                        a.stream(job.right), rings.data(), r.trace.data(), hop, a.origin,
                        rig.frames);
    else
      r.rerun += cpu::limiter(a, rig.jobs.data(), jobs, rig.params.data(), f, r.states.data(),
                              rings.data(), r.trace.data(), hop, chunks[(size_t)s]);
    for (int k = 0; k < 2 * jobs; ++k)
      std::memcpy(r.audio.data() + (size_t)k * song + a.origin, a.stream(k),
                  sizeof(float) * rig.frames);
  }
  return r;
}

void expect_identical(const Result& seq, const Result& chunked) {
  ASSERT_EQ(seq.audio.size(), chunked.audio.size());
  long long differing = 0;
  for (size_t i = 0; i < seq.audio.size(); ++i)
    differing += std::memcmp(&seq.audio[i], &chunked.audio[i], sizeof(float)) != 0;
  EXPECT_EQ(differing, 0) << "samples that differ from the sequential limiter";
  EXPECT_EQ(0,
            std::memcmp(seq.trace.data(), chunked.trace.data(), sizeof(float) * seq.trace.size()));
  for (size_t j = 0; j < seq.states.size(); ++j) {
    const LimiterState &a = seq.states[j], &b = chunked.states[j];
    EXPECT_TRUE(same_bits(a.smooth, b.smooth)) << "job " << j;
    EXPECT_EQ(a.box_q, b.box_q) << "job " << j;
    EXPECT_EQ(a.count, b.count) << "job " << j;
    EXPECT_EQ(a.pos, b.pos) << "job " << j;
    EXPECT_EQ(a.box_pos, b.box_pos) << "job " << j;
    EXPECT_EQ(a.gain_pos, b.gain_pos) << "job " << j;
    EXPECT_EQ(a.hot, b.hot) << "job " << j;
    EXPECT_EQ(a.queue_len, b.queue_len) << "job " << j;
    EXPECT_EQ(a.reduction_sum_q, b.reduction_sum_q) << "job " << j;
    EXPECT_EQ(a.reduction_max, b.reduction_max) << "job " << j;
  }
}

Rig make_rig() {
  Rig rig;
  rig.frames = 1 << 17;
  rig.segments = 3;
  rig.left = material(rig.frames * rig.segments, 5);
  rig.right = material(rig.frames * rig.segments, 6);
  // The maximizer's defaults (-1 dBTP, 50 ms release, 5 ms look-ahead).
  add_job(rig, params(-1.0, 50.0, 240, 0));
  // A fast release (its warm-up is shorter than a chunk, so the guesses are real guesses),
  // a short look-ahead padded to a longer one's latency.
  add_job(rig, params(-3.0, 5.0, 48, 192));
  // Driven into the ceiling (the delivery's drive), one sample of look-ahead.
  LimiterParams p = params(-0.5, 20.0, 1, 5);
  p.drive = 1.7f;
  add_job(rig, p);
  return rig;
}

TEST(LimiterChunks, ChunkedLimitersMatchTheSequentialOneBitForBit) {
  const Rig rig = make_rig();
  const Result seq = run(rig, {0, 0, 0});
  EXPECT_GT(seq.states[0].reduction_max, 3.0f) << "the material must make the limiter work";
  for (const std::vector<int>& chunks : {std::vector<int>{1, 1, 1},
                                         {2, 2, 2},
                                         {3, 3, 3},
                                         {7, 7, 7},
                                         {7, 1, 3},
                                         {1, 2, 1},
                                         {0, 3, 1}}) {
    SCOPED_TRACE(testing::Message()
                 << chunks[0] << "/" << chunks[1] << "/" << chunks[2] << " chunks per segment");
    const Result chunked = run(rig, chunks);
    expect_identical(seq, chunked);
    // The fix-up re-runs a small part of the song: the guesses meet the true trajectories.
    EXPECT_LT(chunked.rerun, rig.frames * rig.segments * (long long)rig.jobs.size() / 4);
  }
}

// The fix-up on its own: chunk 1's guessed start is spoiled. A guess off by 0.3 is
// repaired where the trajectories meet; one that can never meet (NaN) makes the fix-up
// re-run the whole chunk. Either way smooth[] and the end state are the sequential ones.
TEST(LimiterChunks, AWrongGuessIsRepairedByTheFixUp) {
  const long long frames = 1 << 16;
  const int count = 2;
  const LimiterParams p = params(-1.0, 30.0, 96, 0);
  std::vector<float> hold((size_t)frames);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0.3f, 1.0f);
  for (long long n = 0; n < frames; ++n) hold[(size_t)n] = n % 5000 < 40 ? u(rng) : 1.0f;
  std::vector<float> seq((size_t)frames);
  float s = 1.0f;
  for (long long n = 0; n < frames; ++n) seq[(size_t)n] = s = limiter_smooth(p, s, hold[(size_t)n]);
  for (float spoil : {0.3f, NAN}) {
    SCOPED_TRACE(testing::Message() << "guess spoiled by " << spoil);
    LimiterState st{};
    st.smooth = 1.0f;
    std::vector<float> smooth((size_t)frames);
    LimiterChunk out[count];
    for (int c = 0; c < count; ++c)
      limiter_smooth_chunk(p, st, hold.data(), frames, count, c, smooth.data(), &out[c]);
    out[1].guess -= spoil;
    const long long rerun =
        limiter_fix_chunks(p, st, hold.data(), smooth.data(), frames, count, out);
    EXPECT_EQ(0, std::memcmp(seq.data(), smooth.data(), sizeof(float) * frames));
    EXPECT_TRUE(same_bits(st.smooth, s));
    if (std::isnan(spoil)) {
      EXPECT_EQ(rerun, frames - chunk_begin(frames, count, 1));
    } else {
      EXPECT_GT(rerun, 0);
      EXPECT_LT(rerun, frames / 4);
    }
  }
}

// The release reaches the hold exactly, so that two trajectories in a steady passage become
// one (a plain float one-pole stalls short of it, at a distance that depends on where it
// started).
TEST(LimiterChunks, TheReleaseReachesTheHoldExactly) {
  const LimiterParams p = params(-1.0, 50.0, 240, 0);
  float a = 0.25f, b = 0.9999999f;
  long long n = 0;
  for (; n < 100 * 2400 && !(a == 1.0f && b == 1.0f); ++n) {
    a = limiter_smooth(p, a, 1.0f);
    b = limiter_smooth(p, b, 1.0f);
  }
  EXPECT_EQ(a, 1.0f);
  EXPECT_EQ(b, 1.0f);
  EXPECT_LT(n, 12 * 2400) << "within 12 time constants";
}

// The delivery's pass computes its needs a block at a time in SIMD lanes: its outputs and
// gains are limiter_step's, bit for bit, for pieces of any length (the blocks' edges fall
// anywhere), with the drive the delivery sets and releases short enough that the quiet
// stretches come back to rest (the at-rest shortcut runs there).
TEST(LimiterChunks, TheDeliveryPassMatchesTheStepBitForBit) {
  const long long frames = 150000;
  const std::vector<float> left = material(frames, 7), right = material(frames, 8);
  const TruePeakFilter f = design_true_peak_filter(kRate);
  for (LimiterParams p : {params(-1.0, 20.0, 240, 0), params(-0.5, 5.0, 1, 5)}) {
    p.drive = 1.7f;
    SCOPED_TRACE(testing::Message() << "look-ahead " << p.lookahead);
    const long long ring_floats = limiter_ring_floats(p.lookahead, p.pad);
    std::vector<float> ring_a((size_t)ring_floats, 0.0f), ring_b = ring_a;
    LimiterState a{}, b{};
    std::vector<float> al(frames), ar(frames), ag(frames), bl(frames), br(frames), bg(frames);
    for (long long n = 0; n < frames; ++n)
      ag[n] = limiter_step(p, f, a, ring_a.data(), left[n], right[n], al[n], ar[n]);
    long long n = 0, rested = 0;
    for (long long piece : {1LL, 15LL, 4096LL, 4097LL, 9000LL, 7LL, 100000LL}) {
      piece = std::min(piece, frames - n);
      rested += cpu::limiter_pass(p, f, b, ring_b.data(), left.data() + n, right.data() + n, piece,
                                  bl.data() + n, br.data() + n, bg.data() + n);
      n += piece;
    }
    rested += cpu::limiter_pass(p, f, b, ring_b.data(), left.data() + n, right.data() + n,
                                frames - n, bl.data() + n, br.data() + n, bg.data() + n);
    // The quiet stretches (0.4 s of every 0.9 s) take the at-rest shortcut once the release
    // has reached unity: at least two of its 4096-sample blocks in the 3.1 s.
    EXPECT_GT(rested, 8192) << "the shortcut must be exercised";
    EXPECT_EQ(0, std::memcmp(al.data(), bl.data(), sizeof(float) * frames));
    EXPECT_EQ(0, std::memcmp(ar.data(), br.data(), sizeof(float) * frames));
    EXPECT_EQ(0, std::memcmp(ag.data(), bg.data(), sizeof(float) * frames));
    EXPECT_TRUE(same_bits(a.smooth, b.smooth));
    EXPECT_EQ(a.box_q, b.box_q);
    EXPECT_LT(*std::min_element(ag.begin(), ag.end()), 0.5f) << "the limiter must work";
  }
}

TEST(LimiterChunks, ChunkCountKeepsChunksLongerThanTheWarmUpAndHistory) {
  const LimiterParams p = params(-1.0, 50.0, 240, 0);
  EXPECT_NEAR(limiter_warmup_frames(p), 24 * 2400, 3);  // 24 time constants at 48 kHz
  EXPECT_EQ(limiter_chunk_count(1, 2, 1 << 18, limiter_warmup_frames(p), limiter_history_frames(p)),
            2);
  EXPECT_EQ(
      limiter_chunk_count(1, 64, 1 << 18, limiter_warmup_frames(p), limiter_history_frames(p)),
      2);                                                      // none shorter than two warm-ups
  EXPECT_EQ(limiter_chunk_count(4, 2, 1 << 18, 100, 100), 1);  // enough jobs: no chunking
}

}  // namespace
}  // namespace td
