#include "processors/pitch.h"

#include <rubberband/RubberBandStretcher.h>

#include <cmath>
#include <deque>

#include "processors/processor.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{
      "pitch",
      true,
      nullptr,
      {number_key("semitones", -24, 24, "st", 0, "pitch shift, formants preserved"),
       number_key("formant_semitones", -24, 24, "st", 0,
                  "formant shift (the spectral envelope), pitch kept"),
       number_key("mix", 0, 1, "", 1, "wet share, blended with the time-aligned dry input")},
      nullptr};
  return s;
}

StageShape shape(const StageQuery&) {
  return StageShape{};  // applied as the stem is read, latency trimmed there
}

void lower(Lowering&, const Processor&) {}  // the stem arrives shifted: nothing to add

// In the graph a pitch step is an identity (a constant gain of 1, folded into the sums):
// its work happened in the stem reader.
float unity(const Processor&) {
  return 1.0f;
}

class PitchReader final : public StemReader {
 public:
  PitchReader(std::unique_ptr<StemReader> in, int channels, int rate, const PitchSettings& p)
      : in_(std::move(in)),
        channels_(channels),
        mix_((float)p.mix),
        rb_((size_t)rate, (size_t)channels,
            RubberBand::RubberBandStretcher::OptionProcessRealTime |
                RubberBand::RubberBandStretcher::OptionEngineFiner |
                RubberBand::RubberBandStretcher::OptionFormantPreserved |
                RubberBand::RubberBandStretcher::OptionPitchHighQuality |
                RubberBand::RubberBandStretcher::OptionChannelsTogether |
                RubberBand::RubberBandStretcher::OptionThreadingNever),
        wet_((size_t)channels),
        dry_((size_t)channels) {
    rb_.setPitchScale(std::pow(2.0, p.semitones / 12.0));
    rb_.setFormantScale(std::pow(2.0, p.formant_semitones / 12.0));
    rb_.setMaxProcessSize(kBlock);
    // Real-time mode leaves the start to the caller: silence of the preferred length in,
    // the start delay's samples out and dropped, and the output lines up with the input.
    skip_ = (long long)rb_.getStartDelay();
    std::vector<std::vector<float>> pad((size_t)channels,
                                        std::vector<float>(rb_.getPreferredStartPad(), 0.0f));
    feed(pad, (long long)rb_.getPreferredStartPad(), false);
  }

  void read(float* const* out, long long frames) override {
    std::vector<std::vector<float>> block((size_t)channels_, std::vector<float>(kBlock));
    while ((long long)wet_[0].size() < frames) {
      long long need = (long long)rb_.getSamplesRequired();
      need = std::clamp<long long>(need, 256, kBlock);
      std::vector<float*> ptrs;
      for (auto& b : block) ptrs.push_back(b.data());
      in_->read(ptrs.data(), need);
      feed(block, need, true);
    }
    for (int c = 0; c < channels_; ++c)
      for (long long i = 0; i < frames; ++i) {
        out[c][i] = mix_ * wet_[(size_t)c][(size_t)i] + (1.0f - mix_) * dry_[(size_t)c][(size_t)i];
      }
    for (int c = 0; c < channels_; ++c) {
      wet_[(size_t)c].erase(wet_[(size_t)c].begin(), wet_[(size_t)c].begin() + frames);
      dry_[(size_t)c].erase(dry_[(size_t)c].begin(), dry_[(size_t)c].begin() + frames);
    }
  }

 private:
  static constexpr long long kBlock = 4096;

  void feed(const std::vector<std::vector<float>>& x, long long n, bool real) {
    if (n <= 0) return;
    std::vector<const float*> ptrs;
    for (const auto& c : x) ptrs.push_back(c.data());
    rb_.process(ptrs.data(), (size_t)n, false);
    if (real)
      for (int c = 0; c < channels_; ++c)
        dry_[(size_t)c].insert(dry_[(size_t)c].end(), x[(size_t)c].begin(),
                               x[(size_t)c].begin() + n);
    for (int got; (got = rb_.available()) > 0;) {
      std::vector<std::vector<float>> y((size_t)channels_, std::vector<float>((size_t)got));
      std::vector<float*> yp;
      for (auto& c : y) yp.push_back(c.data());
      const long long r = (long long)rb_.retrieve(yp.data(), (size_t)got);
      const long long drop = std::min(skip_, r);
      skip_ -= drop;
      for (int c = 0; c < channels_; ++c)
        wet_[(size_t)c].insert(wet_[(size_t)c].end(), y[(size_t)c].begin() + drop,
                               y[(size_t)c].begin() + r);
    }
  }

  std::unique_ptr<StemReader> in_;
  int channels_;
  float mix_;
  RubberBand::RubberBandStretcher rb_;
  long long skip_ = 0;
  std::vector<std::deque<float>> wet_, dry_;
};

}  // namespace

std::optional<PitchSettings> track_pitch(const Node& track) {
  if (track.kind != NodeKind::kTrack || track.chain.empty()) return std::nullopt;
  const Processor& p = track.chain[0];
  if (p.type != "pitch" || !enabled(p)) return std::nullopt;
  PitchSettings s;
  s.semitones = setting(p, spec(), "semitones");
  s.formant_semitones = setting(p, spec(), "formant_semitones");
  s.mix = setting(p, spec(), "mix");
  return s;
}

std::unique_ptr<StemReader> pitch_reader(std::unique_ptr<StemReader> in, int channels, int rate,
                                         const PitchSettings& p) {
  return std::make_unique<PitchReader>(std::move(in), channels, rate, p);
}

const ProcessorModule& pitch_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower, unity, false};
  return m;
}

}  // namespace td
