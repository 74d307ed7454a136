// FIR design by frequency sampling, for the EQ and every other filter that is given as a
// magnitude response (crossovers, playback-system curves): the magnitude is sampled on a
// fine FFT grid and turned into either a linear-phase FIR (inverse FFT, centred, Kaiser
// window) or a minimum-phase FIR with the same magnitude (the real-cepstrum method:
// A. V. Oppenheim and R. W. Schafer, "Discrete-Time Signal Processing", 3rd ed., section
// 5.6 / problem 12.x; the homomorphic construction folds the cepstrum onto n >= 0). Design
// runs on the host in double precision; the stage (fir.h) convolves in float.
#pragma once
#include <complex>
#include <functional>
#include <vector>

namespace td {

enum class FirPhase { kLinear, kMinimum };

// How a FIR is applied by overlap-save: taps, the FFT size and the hop (new samples per
// block, fft_size - taps + 1). delay is where the FIR's main response sits: (taps - 1) / 2
// for linear phase (the centre), 0 for minimum phase.
struct FirShape {
  int taps = 1;
  int fft_size = 2;
  int hop = 2;
  int delay = 0;
  // The stage's total latency: the FIR's delay plus one hop, because a block is
  // transformed only when all its samples have arrived (fir.h).
  long long latency() const { return (long long)delay + hop; }
};

// Tap count for a FIR that must last `duration_s` (eq.h says how long each band needs):
// odd, at least kFirMinTaps and at most kFirMaxSeconds long (131071 taps at 48 kHz: only
// high-pass slopes of 72-96 dB/octave below 40 Hz and resonances of Q > 10 below 60 Hz
// reach it; docs/processors.md states what the cap costs).
constexpr int kFirMinTaps = 511;
constexpr double kFirMaxSeconds = 2.7306;
int fir_taps_for(double duration_s, double sample_rate);

// The overlap-save shape of a FIR: the power-of-two FFT, from twice the taps to four times
// (at most 2^17 points unless twice the taps needs more), that costs least per sample.
FirShape fir_shape(int taps, FirPhase phase);

// Designs `shape.taps` taps whose magnitude response follows magnitude(f_hz) (linear,
// f from 0 to the Nyquist frequency).
std::vector<double> design_fir(const std::function<double(double)>& magnitude, double sample_rate,
                               const FirShape& shape, FirPhase phase);

// The spectrum the overlap-save stage multiplies by: the taps zero-padded to fft_size,
// transformed, scaled by 1 / fft_size (FFTW's inverse is unnormalised); fft_size/2 + 1 bins.
std::vector<std::complex<float>> fir_spectrum(const std::vector<double>& taps, int fft_size);

// The Kaiser window at x in -1 .. 1 (0 at the centre), shape beta.
double kaiser_window(double x, double beta);

// I0, the modified Bessel function of the first kind of order 0 (the Kaiser window's), by
// its power series sum ((x/2)^k / k!)^2 (Abramowitz & Stegun 9.6.12): every term positive,
// so it converges to the last bit without cancellation; five times faster than libstdc++'s
// general cyl_bessel_i, which the report's and the EQ's designs called thousands of times.
double bessel_i0(double x);

// The FIR's response at one frequency (a direct DTFT sum, for tests and reports).
std::complex<double> fir_response(const std::vector<double>& taps, double f_hz, double sample_rate);

}  // namespace td
