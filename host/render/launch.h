// The machinery of a render launch: sessions prepared (validated, planned), their jobs
// offset into one shared set of arenas, run segment by segment on one backend, then
// measured, delivered and written. render.cpp builds the public calls on it.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kernels/eq.h"
#include "kernels/fir_design.h"
#include "kernels/spectrum.h"
#include "kernels/stages.h"
#include "render/render.h"

namespace td {

// A node's settings in one instance: the session's values with the sweep applied.
struct NodeSettings {
  double gain_db = 0, pan = 0, fader_db = 0;
  std::vector<Processor> chain;
};

// One session's part of a launch: its plan, jobs (with stream, meter and keep indices
// already offset into the shared arenas), readers, meters, and the result being filled.
// The FIR jobs of one shape (one batched launch).
struct FirLaunch {
  FirShape shape;
  std::vector<FirJob> jobs;
};

// One chain position of every node of a level: one launch per processor type and shape.
struct ChainStep {
  // Band splitting (multiband, de-esser): copies into band streams first, the band sums
  // back last; their terms index `terms`.
  std::vector<SumJob> pre_sums, post_sums;
  std::vector<SumTerm> terms;
  std::vector<GainJob> gains;
  std::vector<FirLaunch> firs;
  std::vector<CompressorJob> compressors;
  std::vector<LimiterJob> limiters;
  std::vector<SaturationJob> saturations;
};

struct LevelJobs {
  std::vector<TrackInputJob> inputs;
  std::vector<Breakpoint> points;
  std::vector<SumJob> sums;
  std::vector<SumTerm> terms;
  std::vector<ChainStep> chain;  // by chain position
  std::vector<GainJob> faders;
  std::vector<PeakJob> pre_chain_peaks;  // buses and master, before their chains
  std::vector<MeterJob> meters;          // buses and master, after their faders
};

// A FIR to design: an EQ's enabled bands at one setting, and where its spectrum goes.
struct FirDesign {
  std::vector<EqBand> bands;
  // Or a crossover band: band `band` of the split at `crossovers` (Hz).
  std::vector<double> crossovers;
  int band = -1;
  FirPhase phase = FirPhase::kLinear;
  FirShape shape;
  long long spectrum = 0;  // complex offset in the launch's spectrum array
};

struct Metered {
  int node, k;
};

struct SessionWork {
  const Session* s = nullptr;
  const std::vector<StemSource>* stems = nullptr;
  RenderOptions opt;
  Clock::time_point t_start;
  RenderResult r;
  std::string error;  // set when the session failed; the others of its launch go on
  long long frames = 0;
  std::vector<int> channels, stem_of, tracks;
  Plan plan;
  std::vector<std::vector<NodeSettings>> settings;
  std::vector<std::unique_ptr<StemReader>> readers;
  int slot_offset = 0, meter_offset = 0, keep_offset = 0;
  std::vector<LevelJobs> levels;
  // Latency compensation. A FIR stage delays a stream (FirShape::latency); each node's
  // input and output streams lag the song by in_delay / out_delay samples, chosen so that
  // every bus sums inputs with the same lag: a track's stem is read in_delay samples
  // late. The master lags by `latency`, so the render runs that much longer and the
  // delivered file is cut from it sample-exactly.
  std::vector<std::vector<FirShape>> fir_shapes;  // [node][chain position]; taps 0: no FIR
  std::vector<long long> in_delay, out_delay;
  long long latency = 0;
  long long fir_state_offset = 0, fir_state_floats = 0;      // floats, in the launch's states
  long long fir_spectrum_offset = 0, fir_spectrum_bins = 0;  // complex values
  std::vector<FirDesign> fir_designs;
  // Per node and chain position: the stage's latency (FIR, compressor look-ahead) in
  // samples; a compressor's look-ahead is the largest its sweeps take (lookahead_max).
  std::vector<std::vector<long long>> stage_latency;
  // Compressors: parameter sets, states, delay-line floats and trace values, with their
  // offsets in the launch's arrays; and what each state reports.
  struct Dynamics {
    int node, k, pos, state;
    long long trace, hops;
    int band = -1;  // multiband / de-esser band, or -1
  };
  std::vector<CompressorParams> comp_params;
  int comp_param_offset = 0, comp_state_offset = 0, comp_states = 0;
  long long ring_offset = 0, ring_floats = 0, trace_offset = 0, trace_floats = 0;
  std::vector<Dynamics> dynamics;
  // Limiters, the same way (their gain reduction reported with the compressors'). The
  // master's last limiter is the delivery limiter when [delivery] target_lufs is set: it
  // does not run in the stream but at delivery, driven to the target (finish()).
  std::vector<LimiterParams> lim_params;
  int lim_param_offset = 0, lim_state_offset = 0, lim_states = 0;
  long long lim_ring_offset = 0, lim_ring_floats = 0;
  std::vector<Dynamics> limiter_dynamics;
  int delivery_limiter = -1;  // its chain position on the master, or -1
  std::vector<SaturationParams> sat_params;
  int sat_param_offset = 0, sat_state_offset = 0, sat_states = 0;
  long long sat_memory_offset = 0, sat_memory_floats = 0;
  int scratch_slots = 0;  // band streams of multiband / de-esser stages, after the plan's
  std::vector<Metered> metered;
};

// Validates and plans a session (no audio yet). Throws InputError.
void prepare(SessionWork& w);

// Opens the stem readers of sessions (decoding and resampling whole the stems whose rate
// differs). Safe to run on another thread while a different launch renders; a session
// whose stem fails gets its `error` set.
void open_readers(std::vector<SessionWork*>& group);

// Renders prepared sessions of one sample rate in one launch: one arena, and at every
// level one backend call per stage type over the jobs of all of them. A session whose stem
// fails to decode gets its `error` set and the others go on.
void render_launch(std::vector<SessionWork*>& group, const RenderOptions& opt);

}  // namespace td
