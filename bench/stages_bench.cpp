// Micro-benchmarks of the CPU stage launchers, each next to its floor (memcpy of the same
// bytes), so the distance to the memory-bandwidth limit is visible. Run:
//   build/bench/stages_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "stages.h"

namespace {

constexpr long long kFrames = 1 << 18;  // one CPU segment

struct Arena {
  std::vector<float> data;
  td::StreamArena a;
  explicit Arena(int streams) : data((size_t)streams * kFrames) {
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
    a.data = data.data();
    a.stride = kFrames;
    a.frames = kFrames;
  }
};

void BM_MemcpyFloor(benchmark::State& st) {
  const int streams = (int)st.range(0);
  Arena ar(streams + 2);
  for (auto _ : st)
    for (int s = 0; s < streams; ++s)
      std::memcpy(ar.a.stream(streams), ar.a.stream(s), kFrames * 4);
  st.SetBytesProcessed(st.iterations() * streams * kFrames * 4);
}

void BM_Sum(benchmark::State& st) {  // a bus summing `streams` mono stems into stereo
  const int streams = (int)st.range(0);
  Arena ar(streams + 2);
  std::vector<td::SumTerm> terms;
  for (int s = 0; s < streams; ++s) terms.push_back({s, 0.6f, 0.8f});
  const td::SumJob job{streams, streams + 1, 0, streams};
  for (auto _ : st) td::cpu::sum(ar.a, &job, 1, terms.data());
  st.SetBytesProcessed(st.iterations() * streams * kFrames * 4);
}

void BM_TrackInput(benchmark::State& st) {
  const int streams = (int)st.range(0);
  Arena ar(3 * streams);
  std::vector<td::TrackInputJob> jobs(streams);
  for (int s = 0; s < streams; ++s) {
    jobs[s] = {};
    jobs[s].src_left = jobs[s].src_right = s;
    jobs[s].dst_left = streams + 2 * s;
    jobs[s].dst_right = streams + 2 * s + 1;
    jobs[s].pan = 0.3f;
    jobs[s].pan_law = 1;
    jobs[s].mute_gain = 1.0f;
  }
  for (auto _ : st) td::cpu::track_input(ar.a, jobs.data(), streams, nullptr);
  st.SetBytesProcessed(st.iterations() * streams * kFrames * 4);
}

void BM_Meters(benchmark::State& st) {  // loudness hop sums + true peak of stereo pairs
  const int pairs = (int)st.range(0);
  Arena ar(2 * pairs);
  std::vector<td::MeterJob> jobs;
  for (int p = 0; p < pairs; ++p) jobs.push_back({2 * p, 2 * p + 1, 2, p, 0, kFrames});
  const td::KWeighting k = td::design_kweighting(48000);
  const td::TruePeakFilter f = td::design_true_peak_filter(48000);
  std::vector<td::MeterState> states(pairs);
  std::vector<td::MeterHop> hops((size_t)pairs * (kFrames / 480 + 2));
  for (auto _ : st) {
    std::fill(states.begin(), states.end(), td::MeterState{});
    td::cpu::meters(ar.a, jobs.data(), pairs, k, f, 480, false, states.data(), hops.data(),
                    kFrames / 480 + 2);
  }
  st.SetBytesProcessed(st.iterations() * 2 * pairs * kFrames * 4);
}

BENCHMARK(BM_MemcpyFloor)->Arg(24)->UseRealTime();
BENCHMARK(BM_Sum)->Arg(24)->UseRealTime();
BENCHMARK(BM_TrackInput)->Arg(24)->UseRealTime();
BENCHMARK(BM_Meters)->Arg(1)->Arg(6)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
