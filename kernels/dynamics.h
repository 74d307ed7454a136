// The compressor: a feed-forward, log-domain design after D. Giannoulis, M. Massberg and
// J. D. Reiss, "Digital Dynamic Range Compressor Design -- A Tutorial and Analysis", JAES
// 60(6), 2012 (equation numbers below are the paper's). Per sample: detect the level of the
// key (the input, or a sidechain), compute the static gain reduction with a quadratic soft
// knee (eq. 4), smooth it with a branching one-pole detector in the dB domain (eq. 16, with
// program-dependent release or opto behaviour as documented in docs/processors.md), and
// apply it to the (look-ahead delayed) input, blended with the dry signal.
//
// Time constants: a one-pole smoother with coefficient a = exp(-1 / (tau fs)) covers
// 1 - 1/e (63 %) of a step in tau seconds; attack_ms and release_ms are these tau.
#pragma once
#include "fast_math.h"
#include "td_hd.h"

namespace td {

// One compressor instance's settings, in per-sample form.
struct CompressorParams {
  float threshold_db;
  float slope;    // 1 - 1/ratio (0: no compression, 1: limiting)
  float knee_db;  // W
  float attack;   // one-pole coefficients exp(-1 / (tau fs))
  float release;
  float release_slow;  // auto release: the slow release coefficient (800 ms)
  float memory;        // auto release and opto: coefficient of the 1 s gain-reduction memory
  int auto_release;
  int opto;
  int rms;          // 1: mean-square detector
  float rms_coeff;  // its one-pole coefficient (rms_ms)
  float makeup_db;
  float link;              // stereo link, 0 .. 1
  float mix;               // wet share, 0 .. 1
  float range_db;          // the most reduction applied (de-esser's range_db); 0: no limit
  float knee_start_power;  // 10^((threshold_db - knee_db / 2) / 10): no reduction below
};

// Static curve (Giannoulis et al., eq. 4): output level y_G for input level x_G, dB.
TD_HD float compressor_curve_db(const CompressorParams& p, float x_db) {
  const float over = x_db - p.threshold_db;
  if (2.0f * over <= -p.knee_db) return x_db;                  // below the knee
  if (2.0f * over >= p.knee_db) return x_db - p.slope * over;  // above (W = 0: hard knee)
  const float k = over + 0.5f * p.knee_db;                     // inside the knee: quadratic
  return x_db - p.slope * k * k / (2.0f * p.knee_db);
}

// Per channel detector state.
struct CompressorChannel {
  float mean_square;  // RMS detector
  float reduction;    // y_L: smoothed gain reduction, dB (>= 0)
  float memory;       // slow average of the reduction (auto release, opto), dB
};

// 10 log10(power) and 10^(db/20) through log2/exp2 (fast_math.h: the same bits on the CPU
// and the GPU, and vectorisable).
TD_HD float level_db_of(float power) {
  return 3.01029996f * td_log2(power > 1e-30f ? power : 1e-30f);
}

TD_HD float db_to_amplitude(float db) {
  return td_exp2(db * 0.166096404f);  // log2(10) / 20
}

// The parts of smooth_reduction, each one TD_HD function that the per-sample body and the
// CPU's block-wise detector (dynamics_cpu.cpp) both call, so that both round alike.
// The program-dependent modes' memory: a one-pole average of the static reduction (dB).
TD_HD float reduction_memory_step(const CompressorParams& p, float memory, float x_l) {
  return p.memory * memory + (1.0f - p.memory) * x_l;
}

// An opto's attack and release coefficients, a^(1 / (1 + memory / depth)) with depth 6 dB
// (attack) and 3 dB (release), from log2(a): an optical cell slows with the light it saw.
TD_HD float opto_attack(float log2_attack, float memory) {
  return td_exp2(log2_attack * (1.0f / (1.0f + memory * (1.0f / 6.0f))));
}

TD_HD float opto_release(float log2_release, float memory) {
  return td_exp2(log2_release * (1.0f / (1.0f + memory * (1.0f / 3.0f))));
}

// One step of the branching smoother (eq. 16) with coefficient a; released to nothing it
// is exactly 0 (the gain is then exactly unity and costs nothing).
TD_HD float reduction_step(float a, float y, float x_l) {
  const float r = a * y + (1.0f - a) * x_l;
  return r < 1e-6f ? 0.0f : r;
}

TD_HD float released_memory(float memory) {
  return memory < 1e-6f ? 0.0f : memory;
}

// The key's level in dB for one sample of one channel (peak: |x|; RMS: the one-pole mean
// square, Giannoulis et al. section 2.2).
TD_HD float detect_db(const CompressorParams& p, CompressorChannel& c, float key) {
  const float sq = key * key;
  if (!p.rms) return level_db_of(sq);
  c.mean_square = p.rms_coeff * c.mean_square + (1.0f - p.rms_coeff) * sq;
  return level_db_of(c.mean_square);
}

// Smooths the static gain reduction x_L (dB) into y_L (eq. 16, smooth branching peak
// detector), with the program dependence of docs/processors.md:
//  - auto release: the release slows from release_ms towards 800 ms as the reduction is
//    sustained (its 1 s memory approaches the present reduction) and stays fast on
//    isolated peaks;
//  - opto: attack and release slow with the depth of that memory (an optical cell's
//    light-dependent resistance): tau * (1 + memory / 6 dB) for the attack,
//    tau * (1 + memory / 3 dB) for the release.
TD_HD float smooth_reduction(const CompressorParams& p, CompressorChannel& c, float x_l) {
  // The memory only exists for the program-dependent modes (it would otherwise be state
  // that a chunked compressor has to reconstruct for nothing).
  if (p.auto_release || p.opto) c.memory = reduction_memory_step(p, c.memory, x_l);
  const float y = c.reduction;
  float a;
  if (x_l > y) {
    a = p.attack;
    if (p.opto) a = opto_attack(td_log2(a), c.memory);
  } else {
    a = p.release;
    if (p.auto_release) {
      // Sustained: memory ~ reduction -> slow; a transient over a low memory -> fast.
      const float s = y > 1e-6f ? c.memory / y : 1.0f;
      const float w = s < 0.0f ? 0.0f : (s > 1.0f ? 1.0f : s);
      a = a + (p.release_slow - a) * w;
    }
    if (p.opto) a = opto_release(td_log2(a), c.memory);
  }
  c.reduction = reduction_step(a, y, x_l);
  c.memory = released_memory(c.memory);
  return c.reduction;
}

// The key's power for one sample of one channel: |k|^2, or the RMS detector's mean square.
TD_HD float detect_power(const CompressorParams& p, CompressorChannel& c, float key) {
  const float sq = key * key;
  if (!p.rms) return sq;
  c.mean_square = p.rms_coeff * c.mean_square + (1.0f - p.rms_coeff) * sq;
  return c.mean_square;
}

// The gain reductions (dB) of one stereo sample from its key, channels linked by p.link
// (the louder channel's level drives both at link 1).
TD_HD void compressor_reduction(const CompressorParams& p, CompressorChannel* ch, float key_l,
                                float key_r, int channels, float* reduction_db) {
  if (p.link >= 1.0f) {
    // Fully linked: one level, one reduction for both channels. Under the knee the static
    // reduction is exactly 0 and the logarithm is not needed.
    const float pl = detect_power(p, ch[0], key_l);
    const float pr = channels > 1 ? detect_power(p, ch[1], key_r) : pl;
    const float loud = pl > pr ? pl : pr;
    float x_l = 0.0f;
    if (loud > p.knee_start_power) {
      const float x = level_db_of(loud);
      x_l = x - compressor_curve_db(p, x);
      if (p.range_db > 0.0f && x_l > p.range_db) x_l = p.range_db;
    }
    reduction_db[0] = reduction_db[1] = smooth_reduction(p, ch[0], x_l);
    ch[1].reduction = ch[0].reduction;
    ch[1].memory = ch[0].memory;
    return;
  }
  float level[2];
  level[0] = detect_db(p, ch[0], key_l);
  level[1] = channels > 1 ? detect_db(p, ch[1], key_r) : level[0];
  const float loud = level[0] > level[1] ? level[0] : level[1];
  for (int c = 0; c < channels; ++c) {
    const float x = p.link * loud + (1.0f - p.link) * level[c];
    float x_l = x - compressor_curve_db(p, x);
    if (p.range_db > 0.0f && x_l > p.range_db) x_l = p.range_db;
    reduction_db[c] = smooth_reduction(p, ch[c], x_l);
  }
  if (channels == 1) reduction_db[1] = reduction_db[0];
}

// The factor the delayed input is multiplied by for a reduction (dB): makeup, gain and the
// dry/wet mix.
TD_HD float compressor_factor(const CompressorParams& p, float reduction_db) {
  // No branch (a loop of it vectorises): td_exp2(0) is exactly 1, a unity gain stays exact.
  const float g = db_to_amplitude(p.makeup_db - reduction_db);
  return p.mix * g + (1.0f - p.mix);
}

}  // namespace td

namespace td {

// Second-order Butterworth high-pass on the key (sidechain_hpf_hz; RBJ cookbook biquad),
// direct form I in double precision.
struct KeyFilter {
  double b0, b1, b2, a1, a2;  // a0 normalised to 1; b0 = 1, rest 0: no filter
};

// No high-pass on the key (b0 = 1, the rest 0): the filter is skipped, not run as an
// identity (its state then stays zero).
TD_HD bool key_filter_active(const KeyFilter& f) {
  return f.b0 != 1.0 || f.b1 != 0.0 || f.b2 != 0.0 || f.a1 != 0.0 || f.a2 != 0.0;
}

TD_HD double key_filter_step(const KeyFilter& f, double* s, double x) {
  const double y = f.b0 * x + f.b1 * s[0] + f.b2 * s[1] - f.a1 * s[2] - f.a2 * s[3];
  s[1] = s[0], s[0] = x, s[3] = s[2], s[2] = y;
  return y;
}

// A compressor's state between segments. The gain-reduction sum is kept in fixed point
// (kReductionQuantum dB per unit): integer sums do not depend on the order of addition, so
// a compressor cut into chunks reports exactly what the sequential one does.
struct CompressorState {
  CompressorChannel ch[2];
  double key_filter[2][4];
  long long reduction_sum_q;  // over the song's samples, in units of kReductionQuantum
  float reduction_max;
};

constexpr double kReductionQuantum = 1.0 / 1048576.0;  // 2^-20 dB: exact as a float scale

// One compressor instance on one stereo pair of streams, in place. The output lags the
// input by `lookahead` samples (the detector sees that far ahead); `ring` holds the last
// lookahead samples of each channel (ring[0..lookahead) left, then right). A sidechain key
// that lags the song less than the input does is delayed by key_delay samples through
// key_ring the same way. The reduction is recorded per trace hop of the song (its maximum)
// for the report.
struct CompressorJob {
  int left, right;          // the audio, in place
  int key_left, key_right;  // the key streams (equal to left/right without a sidechain)
  int params;               // index into the parameter array
  int state;                // index into the state array
  KeyFilter key_filter;
  int lookahead, key_delay;        // samples
  long long ring, key_ring;        // offsets into the ring array (floats)
  long long song_begin, song_end;  // stream positions of the song at this point
  long long trace, trace_hops;     // offset into the trace array, and its length
};

// The detector for one sample of (already delayed) key: the key filter, then the linked or
// per-channel reduction (dB).
TD_HD void compressor_detect(const CompressorJob& job, const CompressorParams& p,
                             CompressorState& st, float key_l, float key_r, float* reduction) {
  if (key_filter_active(job.key_filter)) {
    key_l = (float)key_filter_step(job.key_filter, st.key_filter[0], key_l);
    key_r = (float)key_filter_step(job.key_filter, st.key_filter[1], key_r);
  }
  compressor_reduction(p, st.ch, key_l, key_r, 2, reduction);
}

// The output for one (look-ahead delayed) input sample. Linked channels share one
// reduction: one gain for both.
TD_HD void compressor_output(const CompressorParams& p, const float* reduction, float in_l,
                             float in_r, float* out_l, float* out_r) {
  const float kl = compressor_factor(p, reduction[0]);
  const float kr = reduction[1] == reduction[0] ? kl : compressor_factor(p, reduction[1]);
  *out_l = in_l * kl;
  *out_r = in_r * kr;
}

// Adds one sample's reduction at stream position pos to the statistics and the trace.
TD_HD void compressor_record(const CompressorJob& job, CompressorState& st, float* trace,
                             long long trace_hop_frames, long long pos, float reduction_l,
                             float reduction_r) {
  if (pos < job.song_begin || pos >= job.song_end) return;
  const float r = reduction_l > reduction_r ? reduction_l : reduction_r;
  st.reduction_sum_q += (long long)(r * (float)(1.0 / kReductionQuantum));
  st.reduction_max = r > st.reduction_max ? r : st.reduction_max;
  float& t = trace[job.trace + (pos - job.song_begin) / trace_hop_frames];
  t = r > t ? r : t;
}

}  // namespace td

namespace td {

// Advances one compressor job over a segment of `frames` samples at stream position
// `origin`: the body of both launchers (one CPU task or one GPU thread per job).
TD_HD void compressor_segment(const CompressorJob& job, const CompressorParams& p,
                              CompressorState& st, float* xl, float* xr, const float* kl,
                              const float* kr, float* rings, float* trace,
                              long long trace_hop_frames, long long origin, long long frames) {
  float* ring_l = rings + job.ring;
  float* ring_r = ring_l + job.lookahead;
  float* key_l_ring = rings + job.key_ring;
  float* key_r_ring = key_l_ring + job.key_delay;
  for (long long n = 0; n < frames; ++n) {
    const long long pos = origin + n;
    // The key is read before the audio is overwritten (a self-keyed compressor).
    float key_l = kl[n], key_r = kr[n];
    if (job.key_delay > 0) {
      const long long i = pos % job.key_delay;
      const float dl = key_l_ring[i], dr = key_r_ring[i];
      key_l_ring[i] = key_l, key_r_ring[i] = key_r;
      key_l = dl, key_r = dr;
    }
    float reduction[2];
    compressor_detect(job, p, st, key_l, key_r, reduction);
    float dl = xl[n], dr = xr[n];
    if (job.lookahead > 0) {
      const long long i = pos % job.lookahead;
      const float tl = ring_l[i], tr = ring_r[i];
      ring_l[i] = dl, ring_r[i] = dr;
      dl = tl, dr = tr;
    }
    compressor_output(p, reduction, dl, dr, xl + n, xr + n);
    compressor_record(job, st, trace, trace_hop_frames, pos, reduction[0], reduction[1]);
  }
}

}  // namespace td
