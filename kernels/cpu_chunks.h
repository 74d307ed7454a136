// The CPU launchers' unit of work along time.
#pragma once

namespace td {
namespace cpu {

constexpr long long kChunk = 1 << 15;  // samples per task: big enough to amortise, small
                                       // enough to balance a few long streams on 2+ cores

inline long long chunks_of(long long frames) {
  return (frames + kChunk - 1) / kChunk;
}

}  // namespace cpu
}  // namespace td
