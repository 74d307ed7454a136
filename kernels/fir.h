// The FIR stage: streams convolved with designed FIRs (fir_design.h) by overlap-save FFT
// convolution, in segments of any length with results that do not depend on it.
//
// Each stream has a state: `pending` holds the taps - 1 samples before the block being
// filled plus the samples of that block so far, and `ready` the output of the last block
// transformed. Blocks are hop samples long and sit at fixed stream positions (multiples of
// hop from the start of the render), so every block is transformed from exactly the same
// samples however the song is cut into segments. A block is transformed when its last
// sample arrives; its output is emitted during the following hop samples, so the stage
// delays its input by one hop on top of the FIR's own delay (FirShape::latency), and the
// renderer compensates both (render/launch.cpp).
//
// For a segment of `frames` samples starting `fill` samples into a block, the virtual
// input V = pending[0 .. taps - 1 + fill) followed by the segment; block b (of the
// `blocks` = (fill + frames) / hop completed in it) transforms V[b hop .. b hop + fft_size)
// and keeps the last hop samples of the circular convolution (overlap-save).
#pragma once
#include "td_hd.h"

namespace td {

struct FirJob {
  int stream;
  long long spectrum;  // offset of its fft_size/2 + 1 complex bins in the spectrum array
  long long state;     // offset of its state (fir_state_floats) in the state array
};

// A state: pending (fft_size floats) then ready (hop floats).
TD_HD long long fir_state_floats(int fft_size, int hop) {
  return (long long)fft_size + hop;
}

// Element i of the virtual input V.
TD_HD float fir_virtual(const float* pending, long long pending_len, const float* x, long long i) {
  return i < pending_len ? pending[i] : x[i - pending_len];
}

// Output sample n of the segment: from `ready` while the first block is still filling,
// then from the blocks transformed in this segment, whose outputs lie one after another in
// y (block b's hop samples at y + b * hop).
TD_HD float fir_output(const float* ready, const float* y, int hop, long long fill, long long n) {
  const long long p = fill + n;
  return p < hop ? ready[p] : y[p - hop];
}

}  // namespace td
