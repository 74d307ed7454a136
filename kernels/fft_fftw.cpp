#include <fftw3.h>

#include <map>
#include <mutex>
#include <stdexcept>

#include "fft.h"

namespace td {
namespace {
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

// The shipped wisdom (fftw_wisdom.inc): FFTW_MEASURE's algorithms for every size planned
// here, chosen once by scripts/make_fftw_wisdom.sh. FFTW_ESTIMATE plans take a problem's
// wisdom when there is some, so every run plans the same algorithm (the same roundings)
// and 30 to 45 % faster than FFTW_ESTIMATE's own guess at 2^12 to 2^18 points. An FFTW
// that rejects it (another version) plans by estimate alone: slower, just as repeatable.
constexpr const char* kWisdom =
#include "fftw_wisdom.inc"
    ;

// Called with planner_mutex held, before any plan.
bool load_wisdom() {
  static const bool loaded = fftwf_import_wisdom_from_string(kWisdom) != 0;
  return loaded;
}
}  // namespace

bool fft_wisdom_loaded() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  return load_wisdom();
}

RealFft::RealFft(int size) : size_(size) {
  in_ = fftwf_alloc_real((size_t)size);
  out_ = reinterpret_cast<std::complex<float>*>(fftwf_alloc_complex((size_t)size / 2 + 1));
  if (!in_ || !out_)
    throw std::runtime_error("out of memory for an FFT of size " + std::to_string(size));
  std::lock_guard<std::mutex> lock(planner_mutex());
  load_wisdom();
  plan_ = fftwf_plan_dft_r2c_1d(size, in_, reinterpret_cast<fftwf_complex*>(out_),
                                FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  if (!plan_)
    throw std::runtime_error("FFTW could not plan a transform of size " + std::to_string(size));
}

RealFft::~RealFft() {
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    fftwf_destroy_plan(static_cast<fftwf_plan>(plan_));
  }
  fftwf_free(in_);
  fftwf_free(out_);
}

namespace {
// The plans by size, kept for the process (planning costs more than a segment's work) and
// destroyed at exit, so that a leak checker's report means a leak. (Not fftwf_cleanup():
// a spectrum's plans may be destroyed after this cache.)
struct PlanCache {
  std::map<int, FftPlanPair> plans;
  ~PlanCache() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (auto& [size, p] : plans) {
      fftwf_destroy_plan(static_cast<fftwf_plan>(p.forward));
      fftwf_destroy_plan(static_cast<fftwf_plan>(p.inverse));
    }
    plans.clear();
  }
};
}  // namespace

const FftPlanPair& fft_plans(int size) {
  (void)planner_mutex();  // constructed first, so destroyed after the cache
  static PlanCache cache;
  std::map<int, FftPlanPair>& plans = cache.plans;
  std::lock_guard<std::mutex> lock(planner_mutex());
  auto it = plans.find(size);
  if (it != plans.end()) return it->second;
  load_wisdom();
  float* x = fftwf_alloc_real((size_t)size);
  fftwf_complex* c = fftwf_alloc_complex((size_t)size / 2 + 1);
  FftPlanPair p;
  p.forward = fftwf_plan_dft_r2c_1d(size, x, c, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  p.inverse = fftwf_plan_dft_c2r_1d(size, c, x, FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
  fftwf_free(x);
  fftwf_free(c);
  if (!p.forward || !p.inverse)
    throw std::runtime_error("FFTW could not plan a transform of size " + std::to_string(size));
  return plans.emplace(size, p).first->second;
}

void RealFft::execute() {
  fftwf_execute(static_cast<fftwf_plan>(plan_));
}

}  // namespace td
