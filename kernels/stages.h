// The batched stages' launchers: each takes every job of one stage type on one graph
// level and runs them in one go. The CPU launchers (stages_cpu.cpp) loop over jobs and
// sample chunks with OpenMP threads; the CUDA launchers (stages_cuda.cu) map one thread
// to one sample (elementwise stages) or one stream (recurrences). Both call the same
// TD_HD functions of mix.h, loudness.h, true_peak.h and dither.h.
#pragma once
#include <stdint.h>

#include "console.h"
#include "dither.h"
#include "dynamics.h"
#include "dynamics_chunks.h"
#include "fir.h"
#include "limiter.h"
#include "loudness.h"
#include "meters.h"
#include "mix.h"
#include "saturation.h"
#include "spectrum_stage.h"
#include "true_peak.h"
#include "utility.h"

namespace td {

// Planar float32 streams: stream s occupies data[s * stride .. s * stride + frames), and
// element 0 is sample `origin` of the song (automation is evaluated at origin + n).
struct StreamArena {
  float* data = nullptr;
  long long stride = 0;
  long long frames = 0;
  long long origin = 0;
  TD_HD float* stream(int s) const { return data + (long long)s * stride; }
};

namespace cpu {
void track_input(const StreamArena& a, const TrackInputJob* jobs, int job_count,
                 const Breakpoint* points);
void sum(const StreamArena& a, const SumJob* jobs, int job_count, const SumTerm* terms);
void gain(const StreamArena& a, const GainJob* jobs, int job_count);
// The meters of one segment: true peaks (chunk-parallel, reading each state's history),
// then the hop sums (one task per job). hops[state * hops_per_state + hop].
void meters(const StreamArena& a, const MeterJob* jobs, int job_count, const KWeighting& k,
            const TruePeakFilter& f, long long hop_frames, bool last_segment, MeterState* states,
            MeterHop* hops, long long hops_per_state);
// peaks[job.slot] = max(peaks[job.slot], max |x|) over the job's part of the segment.
void peak_hold(const StreamArena& a, const PeakJob* jobs, int job_count, float* peaks);
// The FIR stage (fir.h) over every job of one FFT size: all blocks of all jobs are
// transformed in one parallel pass with FFTW (one plan per size, executed on each block's
// own buffers, so a block's result does not depend on which others share the pass).
// spectra: interleaved complex float bins; states: per job, fir_state_floats floats.
void fir(const StreamArena& a, const FirJob* jobs, int job_count, int fft_size, int taps, int hop,
         const float* spectra, float* states);
// Compressors (dynamics.h): one task per job, its samples in order (a recurrence); with
// fewer jobs than threads each job's segment is cut into chunks (dynamics_chunks.h; the
// result is identical). chunks: per job, 0 = chosen from the job and thread counts.
// trace[job.trace + hop] holds the largest reduction of each trace hop of the song.
// Returns the samples the chunk fix-up re-ran.
long long compressor(const StreamArena& a, const CompressorJob* jobs, int job_count,
                     const CompressorParams* params, CompressorState* states, float* rings,
                     float* trace, long long trace_hop_frames, int chunks = 0);
// Limiters (limiter.h): one task per job, its samples in order; with fewer jobs than
// threads each job's segment is cut into chunks (limiter_chunks.h; the result is
// identical). chunks: per job, 0 = chosen from the job and thread counts. Returns the
// samples the chunk fix-up re-ran.
long long limiter(const StreamArena& a, const LimiterJob* jobs, int job_count,
                  const LimiterParams* params, const TruePeakFilter& f, LimiterState* states,
                  float* rings, float* trace, long long trace_hop_frames, int chunks = 0);
// The delivery limiter's passes over a kept master, a piece at a time: `count` inputs
// through one limiter whose state and ring (limiter_ring_floats, zeroed at the start of a
// pass) carry over between calls; out[k] and gain[k] (the gain applied to it) are the
// output of input k, which is the input limiter_pass_delay(p) samples earlier. A pass
// steps the song and then that many zeros, and drops as many first outputs. Returns the
// inputs that took the at-rest shortcut (the limiter at unity and no loud sample).
long long limiter_pass(const LimiterParams& p, const TruePeakFilter& f, LimiterState& st,
                       float* ring, const float* in_l, const float* in_r, long long count,
                       float* out_l, float* out_r, float* gain);
inline long long limiter_pass_delay(const LimiterParams& p) {
  return p.lookahead + p.pad + kLimiterExtraDelay;
}
// Saturation (saturation.h), block-wise: the FIR stages in parallel over (channel, chunk of
// time), the curve and DC blocker in order per channel; the bits of saturation_segment.
void saturation(const StreamArena& a, const SaturationJob* jobs, int job_count,
                const SaturationParams* params, SaturationState* states, float* memory);
// The utility stage (utility.h), parallel in time: per channel, the history and the
// segment gathered into a scratch line, every output computed from it, the line's tail
// kept. memory: the jobs' histories (UtilityJob::memory).
void utility(const StreamArena& a, const UtilityJob* jobs, int job_count,
             const UtilityParams* params, float* memory);
// The console's summing stage (console.h), parallel in time: every sample of every job,
// then each channel's last t kept. memory: the jobs' t[-1] (ConsoleJob::memory).
void console(const StreamArena& a, const ConsoleJob* jobs, int job_count,
             const ConsoleParams* params, float* memory);
// Gains, dithers and quantises a stereo pair into interleaved left-aligned int32: samples
// [begin, begin + frames) of the pair's streams into out[0 .. 2 frames). The dither of
// sample n is drawn at `first + n`, its index in the delivered file, so a file delivered
// in pieces has the bits of one delivered whole.
void deliver_pcm(const StreamArena& a, int left, int right, float gain, uint64_t seed, int bits,
                 long long begin, long long first, long long frames, int32_t* out);
void deliver_float(const StreamArena& a, int left, int right, float gain, long long begin,
                   long long frames, float* out);
// The same from two host buffers of `frames` samples (a delivery's limited segment).
void deliver_pcm_pair(const float* l, const float* r, float gain, uint64_t seed, int bits,
                      long long first, long long frames, int32_t* out);
void deliver_float_pair(const float* l, const float* r, float gain, long long frames, float* out);
}  // namespace cpu

#if defined(TOPDOWN_HAVE_CUDA)
namespace cuda {
// Same contracts; arena, jobs, points and sources live in device memory, outputs
// (energies, peaks, delivered samples) too. `stream` is a cudaStream_t.
void track_input(const StreamArena& a, const TrackInputJob* jobs, int job_count,
                 const Breakpoint* points, void* stream);
void sum(const StreamArena& a, const SumJob* jobs, int job_count, const SumTerm* terms,
         void* stream);
void gain(const StreamArena& a, const GainJob* jobs, int job_count, void* stream);
void meters(const StreamArena& a, const MeterJob* jobs, int job_count, const KWeighting& k,
            const TruePeakFilter& f, long long hop_frames, bool last_segment, MeterState* states,
            MeterHop* hops, long long hops_per_state, float* true_peak_partial, int chunks,
            void* stream);
void peak_hold(const StreamArena& a, const PeakJob* jobs, int job_count, float* peaks,
               float* partial, int chunks, void* stream);
// The FIR stage with cuFFT: gather every block of every job, one batched R2C, the
// spectrum products, one batched C2R, then the outputs and the new states. `scratch`
// holds blocks * fft_size floats, `bins` blocks * (fft_size/2 + 1) complex values and
// `next` job_count * fft_size floats (blocks = job_count * ((fill + frames) / hop)).
// Plans are made once per (size, batch) and kept.
void fir(const StreamArena& a, const FirJob* jobs, int job_count, int fft_size, int taps, int hop,
         const float* spectra, float* states, float* scratch, float* bins, float* next,
         void* stream);
void deliver_pcm(const StreamArena& a, int left, int right, float gain, uint64_t seed, int bits,
                 long long begin, long long first, long long frames, int32_t* out, void* stream);
void deliver_float(const StreamArena& a, int left, int right, float gain, long long begin,
                   long long frames, float* out, void* stream);
// host_jobs, host_params: the same in host memory (the chunked path plans from them).
// chunks: per job, 0 = enough to fill the device (the result is identical either way).
void compressor(const StreamArena& a, const CompressorJob* jobs, const CompressorJob* host_jobs,
                int job_count, const CompressorParams* params, const CompressorParams* host_params,
                CompressorState* states, float* rings, float* trace, long long trace_hop_frames,
                int chunks, void* stream);
// Limiters as on the CPU: one thread per job, or per (job, chunk) for the chunked passes
// (limiter_chunks.h) with a thread per job for the short fix-up and the statistics.
void limiter(const StreamArena& a, const LimiterJob* jobs, const LimiterJob* host_jobs,
             int job_count, const LimiterParams* params, const LimiterParams* host_params,
             const TruePeakFilter& f, LimiterState* states, float* rings, float* trace,
             long long trace_hop_frames, int chunks, void* stream);
// Saturation, block-wise as on the CPU (saturation.h): one thread per output of each FIR
// stage and per element of the set-up and wrap-up, one per channel for the curve and the
// DC blocker. host_jobs, host_params: the same in host memory (the lines are laid out from
// them).
void saturation(const StreamArena& a, const SaturationJob* jobs, const SaturationJob* host_jobs,
                int job_count, const SaturationParams* params, const SaturationParams* host_params,
                SaturationState* states, float* memory, void* stream);
// The utility stage: `line` holds 2 * job_count scratch lines of line_stride floats
// (line_stride >= the largest history + a.frames).
void utility(const StreamArena& a, const UtilityJob* jobs, int job_count,
             const UtilityParams* params, float* memory, float* line, long long line_stride,
             void* stream);
// The console's summing stage: one thread per (sample, channel), then one per channel to
// keep its last t.
void console(const StreamArena& a, const ConsoleJob* jobs, int job_count,
             const ConsoleParams* params, float* memory, void* stream);
// Long-term mid/side spectra (spectrum_stage.h) of samples [skip, skip + frames) of the
// current segment of every job: frames of fft_size points (Hann `window`), transformed in
// batches with cuFFT, bin powers summed in frame order into power[(2 state + channel) *
// (fft_size/2 + 1) + bin]; pending holds each slot's samples short of a frame. host_jobs,
// pending_len and frames_analysed (per slot) live in host memory and are updated here.
void spectra(const StreamArena& a, const SpectrumJob* host_jobs, int job_count, long long skip,
             long long frames, int fft_size, const float* window, float* pending,
             long long* pending_len, double* power, long long* frames_analysed, void* stream);
// The first failed runtime call or launch since the last call of last_error(), as text, or
// nullptr; reading it clears it. The backend reads it after every launcher.
const char* last_error();
// Destroys the cuFFT plans and frees the scratch memory the launchers keep (the backend
// calls them when it goes away).
void release_fft_plans();
void release_scratch();
}  // namespace cuda
#endif

}  // namespace td
