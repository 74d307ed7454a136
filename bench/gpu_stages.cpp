// Throughput of every stage type on a backend (the CUDA backend by default), against the
// device's memory-bandwidth roofline: each stage streams its samples from and to device
// memory, so bytes moved / time over the peak bandwidth says how close to the memory
// floor it runs (FFT-based stages also compute; their share is shown the same way).
// Usage: gpu_stages [--backend cuda|cpu] [--pairs N] [--frames F] [--reps R]
// Part of scripts/gpu-check.sh; on the CPU backend it gives the same table for comparison.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "analysis/meters.h"
#include "backend/backend.h"
#include "kernels/eq.h"
#include "kernels/fir_design.h"
#include "kernels/utility_design.h"
#include "processors/compressor.h"
#include "processors/limiter.h"
#include "processors/saturation.h"
#if defined(TOPDOWN_HAVE_CUDA) && !defined(TOPDOWN_CUDA_EMU)
#include <cuda_runtime.h>
#endif

using namespace td;

namespace {

constexpr int kRate = 48000;

// Peak DRAM bandwidth, bytes/s, from the device's memory clock and bus width (0 if unknown).
double peak_bandwidth(const std::string& backend) {
#if defined(TOPDOWN_HAVE_CUDA) && !defined(TOPDOWN_CUDA_EMU)
  if (backend == "cuda") {
    int khz = 0, bits = 0;
    if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, 0) == cudaSuccess &&
        cudaDeviceGetAttribute(&bits, cudaDevAttrGlobalMemoryBusWidth, 0) == cudaSuccess)
      return 2.0 * khz * 1e3 * bits / 8.0;  // double data rate
  }
#endif
  (void)backend;
  return 0.0;
}

double seconds(const std::function<void()>& f, int reps) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();  // every backend call returns when its stage is done
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

Processor proc(std::initializer_list<std::pair<const char*, double>> values) {
  Processor p;
  for (const auto& [k, v] : values) p.values[k].number = v;
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  std::string backend_name = "cuda";
  int pairs = 48, reps = 3;
  long long frames = 1LL << 21;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--backend") backend_name = argv[i + 1];
    if (a == "--pairs") pairs = std::atoi(argv[i + 1]);
    if (a == "--frames") frames = std::atoll(argv[i + 1]);
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
  }
  std::unique_ptr<Backend> b =
      backend_name == "cpu" ? make_cpu_backend() : make_backend(backend_name, nullptr);
  const double peak = peak_bandwidth(backend_name);
  // Streams: 2 per pair of input, 2 per pair of bus output, 2 scratch.
  const int streams = 4 * pairs + 2;
  b->allocate(streams, frames, 0, 0);
  b->begin_segment(0, frames);
  std::vector<float> x(frames);
  for (int s = 0; s < streams; ++s) {
    for (long long n = 0; n < frames; ++n) x[n] = 0.3f * (float)std::sin(0.001 * (s + 1) * n);
    b->upload(s, x.data());
  }
  struct Row {
    const char* stage;
    double s, bytes;
  };
  std::vector<Row> rows;
  const double samples = (double)frames * 2 * pairs;  // per pass over every input channel
  auto add = [&](const char* stage, double bytes_per_sample, const std::function<void()>& f) {
    rows.push_back({stage, seconds(f, reps), bytes_per_sample * samples});
  };

  std::vector<GainJob> gains;
  std::vector<TrackInputJob> inputs;
  for (int s = 0; s < 2 * pairs; ++s) gains.push_back({s, 0.999f});
  for (int p = 0; p < pairs; ++p) {
    TrackInputJob j{};
    j.src_left = j.dst_left = 2 * p;
    j.src_right = j.dst_right = 2 * p + 1;
    j.stereo_source = 1;
    j.gain_db = -0.01f;
    j.pan = 0.1f;
    j.mute_gain = 1.0f;
    inputs.push_back(j);
  }
  add("gain", 8, [&] { b->gain(gains); });
  add("track input", 8, [&] { b->track_input(inputs, {}); });
  {  // buses of 4 pairs each: every input read once, a quarter as much written
    std::vector<SumJob> sums;
    std::vector<SumTerm> terms;
    for (int bus = 0; bus < pairs / 4; ++bus) {
      sums.push_back({2 * pairs + 2 * bus, 2 * pairs + 2 * bus + 1, (int)terms.size(), 8});
      for (int k = 0; k < 4; ++k) {
        terms.push_back({2 * (4 * bus + k), 1.0f, 0.0f});
        terms.push_back({2 * (4 * bus + k) + 1, 0.0f, 1.0f});
      }
    }
    add("bus sum", 5, [&] { b->sum(sums, terms); });
  }
  {  // a linear-phase EQ of 8191 taps (a bell at 200 Hz, Q 2)
    const FirShape shape = fir_shape(8191, FirPhase::kLinear);
    EqBand bell;
    bell.type = EqBandType::kBell;
    bell.freq_hz = 200;
    bell.gain_db = 3;
    bell.q = 2;
    const auto taps = design_fir([&](double f) { return eq_magnitude({bell}, f); }, kRate, shape,
                                 FirPhase::kLinear);
    const auto bins = fir_spectrum(taps, shape.fft_size);
    std::vector<float> spectrum(2 * bins.size());
    std::memcpy(spectrum.data(), bins.data(), sizeof(float) * spectrum.size());
    std::vector<FirJob> jobs;
    for (int s = 0; s < 2 * pairs; ++s)
      jobs.push_back({s, 0, (long long)s * fir_state_floats(shape.fft_size, shape.hop)});
    b->allocate_fir(2LL * pairs * fir_state_floats(shape.fft_size, shape.hop), spectrum);
    add("EQ (FIR, 8191 taps)", 8, [&] { b->fir(shape, jobs); });
  }
  // Stateful stages count their song positions on: room for every repetition.
  b->allocate_traces((long long)pairs * (reps + 1) * (frames / 4800 + 1));
  {
    const CompressorParams cp = compressor_params(
        proc({{"threshold_db", -20}, {"ratio", 3}, {"attack_ms", 10}, {"release_ms", 100}}), kRate);
    std::vector<CompressorJob> jobs;
    for (int p = 0; p < pairs; ++p) {
      CompressorJob j{};
      j.left = j.key_left = 2 * p;
      j.right = j.key_right = 2 * p + 1;
      j.params = 0;
      j.state = p;
      j.key_filter = KeyFilter{1, 0, 0, 0, 0};
      j.song_begin = 0;
      j.song_end = frames;
      j.trace = (long long)p * (reps + 1) * (frames / 4800 + 1);
      j.trace_hops = (reps + 1) * (frames / 4800 + 1);
      jobs.push_back(j);
    }
    b->allocate_stage(std::vector<CompressorParams>{cp}, pairs, 0);
    add("compressor", 8, [&] { b->compressor(jobs, 4800); });
  }
  {
    const LimiterParams lp = limiter_params(proc({}), kRate, limiter_lookahead(proc({}), kRate));
    std::vector<LimiterJob> jobs;
    for (int p = 0; p < pairs; ++p) {
      LimiterJob j{};
      j.left = 2 * p;
      j.right = 2 * p + 1;
      j.params = 0;
      j.state = p;
      j.ring = (long long)p * limiter_ring_floats(lp.lookahead, lp.pad);
      j.song_begin = 0;
      j.song_end = frames;
      j.trace = (long long)p * (reps + 1) * (frames / 4800 + 1);
      j.trace_hops = (reps + 1) * (frames / 4800 + 1);
      jobs.push_back(j);
    }
    b->allocate_stage(std::vector<LimiterParams>{lp}, pairs,
                      pairs * limiter_ring_floats(lp.lookahead, lp.pad));
    add("limiter", 8, [&] { b->limiter(jobs, design_true_peak_filter(kRate), 4800); });
  }
  {
    const Processor sat = proc({{"drive_db", 6}, {"oversampling", 8}});  // tape
    const int latency = saturation_params(sat, kRate, 0).wet_latency;
    const SaturationParams sp = saturation_params(sat, kRate, latency);
    std::vector<SaturationJob> jobs;
    for (int p = 0; p < pairs; ++p)
      jobs.push_back({2 * p, 2 * p + 1, 0, p, (long long)p * 2 * sat_channel_floats(sp)});
    b->allocate_stage(std::vector<SaturationParams>{sp}, pairs, pairs * 2 * sat_channel_floats(sp));
    add("saturation (tape, 8x)", 8, [&] { b->saturation(jobs); });
  }
  {
    const UtilityParams up = design_utility(-1.0f, 1.0f, 20.3);
    std::vector<UtilityJob> jobs;
    for (int p = 0; p < pairs; ++p) jobs.push_back({2 * p, 2 * p + 1, 0, 2LL * p * up.history});
    b->allocate_stage(std::vector<UtilityParams>{up}, 0, 2LL * pairs * up.history);
    add("utility (fractional delay)", 8, [&] { b->utility(jobs); });
  }
  {
    const long long hop = meter_hop_frames(kRate);
    std::vector<MeterJob> jobs;
    std::vector<SpectrumJob> spectra;
    for (int p = 0; p < pairs; ++p) {
      jobs.push_back({2 * p, 2 * p + 1, 2, p, 0, frames});
      spectra.push_back({2 * p, 2 * p + 1, p});
    }
    b->allocate_meters(pairs, (reps + 1) * (frames / hop + 2));
    b->allocate_spectra(pairs, 32768);
    add("meters (K-weighting, true peak)", 4, [&] {
      b->meters(jobs, design_kweighting(kRate), design_true_peak_filter(kRate), hop, false, 0,
                frames);
    });
    add("spectra (32768-point mid/side)", 4, [&] { b->spectra(spectra, 0, frames); });
  }

  std::printf("stage throughput on %s: %d stereo pairs x %lld frames (median of %d)\n",
              b->name().c_str(), pairs, frames, reps);
  if (peak > 0) std::printf("device memory bandwidth (peak): %.0f GB/s\n", peak / 1e9);
  std::printf("%-34s %10s %12s %10s %10s\n", "stage", "ms", "Msamples/s", "GB/s", "% of peak");
  for (const Row& r : rows) {
    const double gbs = r.bytes / r.s / 1e9;
    std::printf("%-34s %10.2f %12.0f %10.1f", r.stage, r.s * 1e3, samples / r.s / 1e6, gbs);
    if (peak > 0)
      std::printf(" %9.1f%%\n", 100.0 * r.bytes / r.s / peak);
    else
      std::printf(" %10s\n", "-");
  }
  return 0;
}
