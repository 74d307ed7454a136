// FFT wrappers. On the CPU: FFTW3 in single precision. Plans are made with FFTW_ESTIMATE
// from shipped wisdom (fftw_wisdom.inc: FFTW_MEASURE's choices, made once), so the
// algorithm (and with it every rounding) is the same on every run: FFTW_MEASURE itself
// picks by timing and would break bit-exact repeats. Planning is not thread-safe in FFTW,
// so plan creation is serialised here; executing a plan on new arrays is safe.
#pragma once
#include <complex>
#include <memory>

namespace td {

// A real-to-complex transform of a fixed size with its own aligned buffers.
class RealFft {
 public:
  explicit RealFft(int size);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int size() const { return size_; }
  float* input() { return in_; }                              // size() samples
  const std::complex<float>* output() const { return out_; }  // size() / 2 + 1 bins
  void execute();

 private:
  int size_;
  float* in_;
  std::complex<float>* out_;
  void* plan_;
};

// The forward (r2c) and inverse (c2r) plans of one size for the FIR stage, made once per
// size and kept for the process; executed with fftwf_execute_dft_r2c / _c2r on arrays
// from fftwf_malloc (the alignment the plans were made for).
struct FftPlanPair {
  void* forward;
  void* inverse;
};
const FftPlanPair& fft_plans(int size);

// Whether FFTW took the shipped wisdom (false: another FFTW version; plans by estimate).
bool fft_wisdom_loaded();

}  // namespace td
