// The CUDA launchers at their limits, against the CPU backend: job lists longer than a
// grid's y dimension (65535) go in several launches and give what the CPU gives, sample for
// sample. Skips without a device; the emulated-device build (tests/emu) always runs it, and
// there the last test checks that the suite's renders launch every kernel of stages_cuda.cu.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "backend/backend.h"
#include "demo/demo.h"
#include "kernels/utility_design.h"
#include "render/render.h"
#include "test_util.h"
#if defined(TOPDOWN_CUDA_EMU)
#include "emu_launch.h"
#endif

namespace td {
namespace {

constexpr int kFrames = 96;

// One backend with `slots` work streams of kFrames samples filled with a pattern, and a
// keep arena of two streams to read any pair back through deliver_float.
struct Rig {
  std::unique_ptr<Backend> b;
  Rig(const std::string& name, int slots) {
    b = name == "cpu" ? make_cpu_backend() : make_cuda_backend();
    b->allocate(slots, kFrames, 2, kFrames);
    b->begin_segment(0, kFrames);
    std::vector<float> x(kFrames);
    for (int s = 0; s < slots; ++s) {
      for (int n = 0; n < kFrames; ++n) x[n] = (float)std::sin(0.01 * s + 0.37 * n);
      b->upload(s, x.data());
    }
  }
  std::vector<float> pair(int left, int right) {
    b->keep(left, 0, 0);
    b->keep(right, 1, 0);
    std::vector<float> out(2 * kFrames);
    b->deliver_float(0, 1, 1.0f, 0, kFrames, out.data());
    return out;
  }
};

// Streams spread over the whole list, first and last included.
std::vector<int> probes(int count) {
  std::vector<int> out = {0, 1, count / 2, count - 2, count - 1};
  for (int s = 0; s < count; s += 9973) out.push_back(s);
  return out;
}

class DeviceLaunches : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!test::device_available(&why)) GTEST_SKIP() << "no CUDA device: " << why;
  }
};

// 70,000 gain, sum and peak jobs (grid y over 65,535). Sums write streams of their own
// (the stage's contract: a sum never reads its destination).
void many_elementwise_jobs(const std::string& device) {
  const int n = 70000;
  Rig cpu("cpu", 3 * n), dev(device, 3 * n);
  std::vector<GainJob> gains;
  std::vector<SumJob> sums;
  std::vector<SumTerm> terms;
  std::vector<PeakJob> peaks;
  for (int s = 0; s < n; ++s) {
    gains.push_back({s, 1.0f + 1e-5f * (float)s});
    peaks.push_back({s, s, 0, kFrames});
    sums.push_back({n + 2 * s, n + 2 * s + 1, (int)terms.size(), 2});
    terms.push_back({(s + 1) % n, 0.5f, -0.25f});
    terms.push_back({s, 0.75f, 0.5f});
  }
  for (Rig* r : {&cpu, &dev}) {
    r->b->allocate_peaks(n);
    r->b->gain(gains);
    r->b->sum(sums, terms);
    r->b->peak_hold(peaks);
  }
  for (int s : probes(n - 1)) {
    EXPECT_EQ(cpu.pair(s, s + 1), dev.pair(s, s + 1)) << s;
    EXPECT_EQ(cpu.pair(n + 2 * s, n + 2 * s + 1), dev.pair(n + 2 * s, n + 2 * s + 1)) << s;
  }
  EXPECT_EQ(cpu.b->read_peaks(), dev.b->read_peaks());
}

// 40,000 utility jobs (two launches' worth of job channels) with a fractional delay.
void many_utility_jobs(const std::string& device) {
  const int n = 40000;
  Rig cpu("cpu", 2 * n), dev(device, 2 * n);
  const UtilityParams p = design_utility(-1.0f, 0.5f, 17.25);
  std::vector<UtilityJob> jobs;
  for (int j = 0; j < n; ++j) jobs.push_back({2 * j, 2 * j + 1, 0, 2LL * j * p.history});
  for (Rig* r : {&cpu, &dev}) {
    r->b->allocate_stage(std::vector<UtilityParams>{p}, 0, 2LL * n * p.history);
    r->b->utility(jobs);
    r->b->utility(jobs);  // a second segment: the histories carried
  }
  for (int j : probes(n)) EXPECT_EQ(cpu.pair(2 * j, 2 * j + 1), dev.pair(2 * j, 2 * j + 1)) << j;
}

// 40,000 spectrum jobs (80,000 job channels: the pending launch over 65,535).
void many_spectrum_jobs(const std::string& device) {
  const int n = 40000, fft = 64;
  Rig cpu("cpu", 64), dev(device, 64);
  std::vector<SpectrumJob> jobs;
  for (int j = 0; j < n; ++j) jobs.push_back({j % 63, j % 63 + 1, j});
  for (Rig* r : {&cpu, &dev}) {
    r->b->allocate_spectra(n, fft);
    r->b->spectra(jobs, 5, kFrames - 5);
  }
  const std::vector<MidSideBins> a = cpu.b->read_spectra(), b = dev.b->read_spectra();
  ASSERT_EQ(a.size(), b.size());
  for (int j : probes(n)) {
    EXPECT_EQ(a[j].mid, b[j].mid) << j;
    EXPECT_EQ(a[j].side, b[j].side) << j;
  }
}

TEST_F(DeviceLaunches, MoreJobsThanAGridRowHoldMatchTheCpu) {
  many_elementwise_jobs("cuda");
}

TEST_F(DeviceLaunches, FortyThousandUtilityJobsMatchTheCpu) {
  many_utility_jobs("cuda");
}

TEST_F(DeviceLaunches, FortyThousandSpectrumJobsMatchTheCpu) {
  many_spectrum_jobs("cuda");
}

#if defined(TOPDOWN_CUDA_EMU)
// Renders a session whose master runs every stage (a console first, so its buses run
// their channel paths; a fast compressor and a fast limiter,
// so that their segments are cut into chunks; the limiter in the middle of the chain; a wide
// de-esser; 24-bit and float delivery) on the emulated device, once with the device's chunking and
// once with none (TD_EMU_SM_COUNT=0: one thread per compressor), plus the launches above; then
// every
// __global__ function of the CUDA sources (kernels/stages_cuda*.cu) must have run.
TEST_F(DeviceLaunches, EveryKernelOfTheCudaSourcesIsLaunched) {
  DemoOptions o;
  o.seconds = 3.0;
  const DemoSong song = make_demo_song(o);
  std::vector<test::Planar> stems;
  for (const auto& st : song.stems) stems.push_back(st.audio);
  const std::string chain =
      "{ type = \"console\" }, "
      "{ type = \"eq\", bands = [ { type = \"highpass\", freq = 30 } ] }, "
      "{ type = \"compressor\", threshold_db = -30, release_ms = 20 }, "
      "{ type = \"multiband\", crossovers_hz = [200], bands = [ { ratio = 2 }, { ratio = 3 } ] }, "
      "{ type = \"deesser\", mode = \"wide\" }, { type = \"saturation\" }, "
      "{ type = \"imager\", mono_below_hz = 120 }, { type = \"utility\", delay_ms = 0.1 }, "
      "{ type = \"limiter\", release_ms = 5 }, { type = \"gain\", gain_db = -1 }";
  for (const char* depth : {"bit_depth = 24", "bit_depth = 32"})
    for (const char* sms : {"132", "0"}) {
      setenv("TD_EMU_SM_COUNT", sms, 1);
      std::string toml = test::with_master_chain(song.session_toml, chain);
      toml.replace(toml.find("bit_depth = 24"), 14, depth);
      test::TempDir dir;
      RenderOptions ro;
      ro.backend = "cuda";
      ro.out_dir = dir.path;
      const Session s = parse_session_text(toml, dir / "song.toml");
      render_session(s, test::memory_stems(stems, 48000), ro);
    }
  unsetenv("TD_EMU_SM_COUNT");
  many_elementwise_jobs("cuda");
  many_spectrum_jobs("cuda");
  std::stringstream source;
  for (const char* file : {"stages_cuda.cu", "stages_cuda_fft.cu", "stages_cuda_dynamics.cu",
                           "stages_cuda_saturation.cu"}) {
    std::ifstream in(std::string(TOPDOWN_SOURCE_DIR) + "/kernels/" + file);
    EXPECT_TRUE(in) << file;
    source << in.rdbuf();
  }
  const std::string text = source.str();
  const std::regex kernel(R"(__global__\s+void\s+(\w+))");
  const std::map<std::string, long long> counts = td_emu::launch_counts();
  int kernels = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kernel);
       it != std::sregex_iterator(); ++it, ++kernels) {
    const std::string name = (*it)[1];
    EXPECT_GT(counts.count(name) ? counts.at(name) : 0, 0) << name << " was never launched";
  }
  EXPECT_GE(kernels, 30);
}
#endif

}  // namespace
}  // namespace td
