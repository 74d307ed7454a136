// ITU-R BS.1770-4 integrated loudness from per-hop K-weighted energies.
#pragma once
#include <vector>

namespace td {

// The hop the meters work in: 100 ms, so a 400 ms gating block is 4 hops and the
// standard's 75 % block overlap is a step of one hop.
long long loudness_hop_frames(int sample_rate);

// Integrated loudness in LUFS (BS.1770-4 section 5.1: 400 ms blocks, 75 % overlap,
// absolute gate -70 LUFS, relative gate -10 LU) from hop energies [channel][hop] as
// produced by kernels/loudness.h. Channel weights are 1.0 (left, right). -inf when no
// block passes the gates or the signal is shorter than one block.
double integrated_loudness(const std::vector<std::vector<double>>& hop_energy, long long hop_frames,
                           long long frames);

// Convenience for tests and analysis: the whole meter on planar host audio.
double integrated_loudness(const std::vector<std::vector<float>>& channels, int sample_rate);

double gain_to_db(double gain);  // -inf for 0

}  // namespace td
