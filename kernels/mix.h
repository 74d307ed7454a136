// The mixer's elementwise stages: track input (clip gain, automation, pan), bus sums and
// plain gains (faders, mutes, the "gain" processor). Plain-data jobs shared by the CPU and
// CUDA launchers; stream numbers index the backend's planar stream arena.
#pragma once
#include "envelope.h"
#include "pan_law.h"
#include "td_hd.h"

namespace td {

TD_HD float db_to_gain(float db) {
  return powf(10.0f, db * 0.05f);
}

// A track's input stage: one or two source channels to a stereo pair.
struct TrackInputJob {
  int src_left, src_right;  // equal for a mono stem
  int stereo_source;        // 1: balance law; 0: pan law on the mono source
  int dst_left, dst_right;
  float gain_db;                        // clip gain
  float pan;                            // static position, -1 .. 1
  int pan_law;                          // PanLaw
  float mute_gain;                      // 0 when muted, 1 otherwise
  int gain_env_offset, gain_env_count;  // trim automation (dB offset), into the point array
  int pan_env_offset, pan_env_count;    // pan automation (absolute position)
};

// The pan (or balance) gains of a track input at sample n: pan automation replaces the
// static position.
TD_HD StereoGains track_pan_gains(const TrackInputJob& job, const Breakpoint* points, double n) {
  float pan = job.pan;
  if (job.pan_env_count > 0) pan = envelope_at(points + job.pan_env_offset, job.pan_env_count, n);
  return job.stereo_source ? balance_gains(pan) : pan_mono_gains(pan, (PanLaw)job.pan_law);
}

// The clip gain of a track input at sample n: gain automation adds its dB value to the
// clip gain (trim automation).
TD_HD float track_gain(const TrackInputJob& job, const Breakpoint* points, double n) {
  float db = job.gain_db;
  if (job.gain_env_count > 0)
    db += envelope_at(points + job.gain_env_offset, job.gain_env_count, n);
  return db_to_gain(db) * job.mute_gain;
}

// Per-channel gains of a track input at sample n.
TD_HD StereoGains track_input_gains(const TrackInputJob& job, const Breakpoint* points, double n) {
  const StereoGains p = track_pan_gains(job, points, n);
  const float g = track_gain(job, points, n);
  return {g * p.left, g * p.right};
}

// One input of a bus sum: a stream and its gain into the bus's left and right channels.
// A rendered stereo input contributes (left, 1, 0) and (right, 0, 1); a track folded into
// its bus (no per-track processing) contributes its stem channels with the track's gain,
// pan and fader already multiplied in, so it is never written out on its own.
struct SumTerm {
  int stream;
  float gain_left, gain_right;
};

// A bus input: the stereo pair dst = sum of the terms, in the order listed (fixed order:
// bit-exact repeats).
struct SumJob {
  int dst_left, dst_right;
  int term_offset, term_count;  // into the term array
};

// In-place gain of one stream.
struct GainJob {
  int stream;
  float gain;
};

}  // namespace td
