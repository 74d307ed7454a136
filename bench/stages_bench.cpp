// Micro-benchmarks of the CPU stage launchers, each next to its floor (memcpy of the same
// bytes), so the distance to the memory-bandwidth limit is visible. Run:
//   build/bench/stages_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <fftw3.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/fft.h"
#include "kernels/fir_design.h"
#include "kernels/stages.h"

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

// The FIR stage (overlap-save) on `streams` streams of one segment with the mix-bus EQ's
// shape (44801 taps on 131072-point FFTs), next to its floor: the same number of bare
// FFTW r2c + c2r pairs (BM_FftFloor).
const td::FirShape kEqShape = td::fir_shape(44801, td::FirPhase::kLinear);

void BM_Fir(benchmark::State& st) {
  const int streams = (int)st.range(0);
  Arena ar(streams);
  const int bins = kEqShape.fft_size / 2 + 1;
  std::vector<float> spectrum(2 * (size_t)bins, 1.0f / kEqShape.fft_size);
  std::vector<float> states((size_t)streams *
                            td::fir_state_floats(kEqShape.fft_size, kEqShape.hop));
  std::vector<td::FirJob> jobs;
  for (int s = 0; s < streams; ++s)
    jobs.push_back({s, 0, (long long)s * td::fir_state_floats(kEqShape.fft_size, kEqShape.hop)});
  long long origin = 0;
  for (auto _ : st) {
    ar.a.origin = origin;
    td::cpu::fir(ar.a, jobs.data(), streams, kEqShape.fft_size, kEqShape.taps, kEqShape.hop,
                 spectrum.data(), states.data());
    origin += kFrames;
  }
  st.SetItemsProcessed(st.iterations() * streams * kFrames);
}

void BM_FftFloor(benchmark::State& st) {
  const int streams = (int)st.range(0);
  const int n = kEqShape.fft_size;
  const td::FftPlanPair& plans = td::fft_plans(n);
  // The blocks one segment completes per stream, on average.
  const long long blocks = streams * kFrames / kEqShape.hop;
  for (auto _ : st) {
#pragma omp parallel
    {
      float* x = fftwf_alloc_real(n);
      fftwf_complex* c = fftwf_alloc_complex(n / 2 + 1);
      std::fill(x, x + n, 0.5f);
#pragma omp for schedule(dynamic, 1)
      for (long long b = 0; b < blocks; ++b) {
        fftwf_execute_dft_r2c(static_cast<fftwf_plan>(plans.forward), x, c);
        fftwf_execute_dft_c2r(static_cast<fftwf_plan>(plans.inverse), c, x);
      }
      fftwf_free(x);
      fftwf_free(c);
    }
  }
  st.SetItemsProcessed(st.iterations() * streams * kFrames);
}

// One compressor (2:1, 10 ms attack, release range(1) ms, peak, linked) on one stereo pair:
// the sequential recurrence (range(0) = 1 chunk) against the chunked one (range(0) = 0: as
// many chunks as the threads and the warm-up allow; the same output bit for bit).
void BM_CompressorOneJob(benchmark::State& st) {
  Arena ar(2);
  td::CompressorParams p{};
  p.threshold_db = -6.0f;
  p.slope = 0.5f;
  p.knee_db = 6.0f;
  p.attack = std::exp(-1.0f / (0.010f * 48000.0f));
  p.release = std::exp(-1.0f / (1e-3f * (float)st.range(1) * 48000.0f));
  p.link = 1.0f;
  p.mix = 1.0f;
  p.knee_start_power = std::pow(10.0f, -0.9f);
  td::CompressorJob job{};
  job.left = 0;
  job.right = 1;
  job.key_left = 0;
  job.key_right = 1;
  job.key_filter = td::KeyFilter{1, 0, 0, 0, 0};
  job.song_end = 1LL << 40;
  job.trace_hops = 1 << 20;
  td::CompressorState state{};
  std::vector<float> trace(1 << 20), rings(1);
  long long origin = 0;
  for (auto _ : st) {
    ar.a.origin = origin;
    td::cpu::compressor(ar.a, &job, 1, &p, &state, rings.data(), trace.data(), 1 << 12,
                        (int)st.range(0));
    origin += kFrames;
  }
  st.SetItemsProcessed(st.iterations() * kFrames);
}

BENCHMARK(BM_CompressorOneJob)
    ->Args({1, 20})
    ->Args({0, 20})
    ->Args({1, 100})
    ->Args({0, 100})
    ->UseRealTime();
BENCHMARK(BM_Fir)->Arg(48)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FftFloor)->Arg(48)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemcpyFloor)->Arg(24)->UseRealTime();
BENCHMARK(BM_Sum)->Arg(24)->UseRealTime();
BENCHMARK(BM_TrackInput)->Arg(24)->UseRealTime();
BENCHMARK(BM_Meters)->Arg(1)->Arg(6)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
