// The machinery of a render launch, along its pipeline: sessions are prepared (validated,
// planned: prepare.cpp), their stage latencies aligned (latency.cpp), their chains lowered
// to jobs with indices offset into one shared set of arenas (lower.cpp), their FIRs designed
// (fir_designs.cpp), the segments run on one backend (launch.cpp), and each session
// delivered (deliver.cpp), measured, ranked and reported (finish.cpp). render.cpp builds
// the public calls on it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "base/system.h"
#include "kernels/eq.h"
#include "kernels/fir_design.h"
#include "kernels/spectrum.h"
#include "kernels/stages.h"
#include "processors/processor.h"
#include "render/render.h"
#include "render/stage_store.h"

namespace td {

// A node's settings in one instance: the session's values with the sweep applied.
struct NodeSettings {
  double gain_db = 0, pan = 0, fader_db = 0;
  std::vector<Processor> chain;
};

// The FIR jobs of one shape (one batched launch).
struct FirLaunch {
  FirShape shape;
  std::vector<FirJob> jobs;
};

// One chain position of every node of a level: one launch per processor type and shape.
struct ChainStep {
  // Chain-prefix sharing (lower.cpp): an instance's stream set to its leader's before
  // anything else of the step runs.
  std::vector<SumJob> copies;
  // Band splitting (multiband, de-esser) and mid/side (imager): copies into scratch
  // streams first, the sums back last; their terms index `terms`.
  std::vector<SumJob> pre_sums, post_sums;
  std::vector<SumTerm> terms;
  std::vector<GainJob> gains;
  std::vector<UtilityJob> utilities;
  std::vector<ConsoleJob> consoles;  // after the pre-sums, before the saturations
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

// A compressor or limiter state whose gain reduction goes into report.json.
struct DynamicsReport {
  int node, k, pos;
  int state;        // relative to the session's share of its stage's states
  long long trace;  // relative to the session's share of the traces
  long long hops;
  int band = -1;  // multiband / de-esser band, or -1
  bool limiter = false;
};

// One session's part of a launch: its plan, jobs (with stream, meter and keep indices
// already offset into the shared arenas), readers, meters, and the result being filled.
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
  // Latency compensation (latency.cpp). Each node's input and output streams lag the song
  // by in_delay / out_delay samples, chosen so that every bus sums inputs with the same
  // lag: a track's stem is read in_delay samples late. The master lags by `latency`, so the
  // render runs that much longer and the delivered file is cut from it sample-exactly.
  std::vector<std::vector<StageShape>> stages;  // [node][chain position]
  std::vector<long long> in_delay, out_delay;
  long long latency = 0;
  // The master's last limiter when it is driven at delivery (its chain position), or -1.
  int delivery_limiter = -1;
  // FIR states and designs, offsets into the launch's arrays.
  long long fir_state_offset = 0, fir_state_floats = 0;      // floats
  long long fir_spectrum_offset = 0, fir_spectrum_bins = 0;  // complex values
  std::vector<FirDesign> fir_designs;
  // The stateful stages' storage (stage_store.h), and the gain-reduction traces that
  // compressors and limiters share.
  StageStore<CompressorParams> compressors;
  StageStore<LimiterParams> limiters;
  StageStore<SaturationParams> saturations;
  StageStore<UtilityParams> utilities;
  StageStore<ConsoleParams> consoles;
  long long trace_offset = 0, trace_floats = 0;
  std::vector<DynamicsReport> dynamics;
  int scratch_slots = 0;  // band and mid/side streams of chain stages, after the plan's
  std::vector<Metered> metered;
  // The launch's memory budget (bytes) as applied: past it the kept masters went to a file.
  double memory_budget_bytes = 0.0;
};

// prepare.cpp: validates and plans a session (no audio yet), settles its latencies.
// Throws InputError.
void prepare(SessionWork& w);

// latency.cpp: every stage's shape, and the delays that align every bus's inputs.
void align_latencies(SessionWork& w);
// The stream's lag behind the song where chain[pos] of a node reads it.
long long lag_at(const SessionWork& w, int node, int pos);

// lower.cpp: the jobs of every level, with indices offset into the launch's arenas; and
// a level of another session appended to a launch's level.
void lower(SessionWork& w);
void append_level(LevelJobs& a, const LevelJobs& b);

// fir_designs.cpp: a design's spectrum within its session (designed once per distinct
// design), and every design of a launch handed to the backend.
long long design_of(SessionWork& w, const FirDesign& d);
void upload_fir_designs(const std::vector<SessionWork*>& group, long long fir_states,
                        long long fir_bins, Backend& backend);

// Opens the stem readers of sessions (decoding and resampling whole the stems whose rate
// differs). Safe to run on another thread while a different launch renders; a session
// whose stem fails gets its `error` set.
void open_readers(std::vector<SessionWork*>& group);

// What a launch's stages leave for delivery (finish.cpp).
struct LaunchReadings {
  std::vector<MeterState> meter_states;
  std::vector<MeterHop> hops;
  long long hops_per_state = 0;
  std::vector<float> pre_chain_peaks;
  std::vector<MidSideBins> spectra;
  std::vector<CompressorState> compressors;
  std::vector<LimiterState> limiters;
  std::vector<float> traces;
};

// A launch whose stages have run: its backend holds the kept masters until every session
// of it is finished.
struct RenderedLaunch {
  std::vector<SessionWork*> group;
  std::unique_ptr<Backend> backend;
  LaunchReadings readings;
};

// Renders prepared sessions of one sample rate in one launch: one arena, and at every
// level one backend call per stage type over the jobs of all of them. A session whose stem
// fails to decode gets its `error` set and the others go on. render_launch is
// render_stages then finish_launch; a batch runs a launch's finish_launch beside the next
// launch's render_stages (render.cpp).
RenderedLaunch render_stages(std::vector<SessionWork*>& group, const RenderOptions& opt);
void finish_launch(RenderedLaunch& launch);
void render_launch(std::vector<SessionWork*>& group, const RenderOptions& opt);

// finish.cpp: readings, delivery, files and ranking of one session after its launch.
void finish(SessionWork& w, Backend& backend, LaunchReadings& readings);

// Gain-reduction traces: 10 values a second.
constexpr double kTraceHz = 10.0;
long long trace_hop_frames(int rate);

}  // namespace td
