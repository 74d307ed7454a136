#include "processors/saturation.h"

#include <algorithm>
#include <cmath>

#include "kernels/saturation_design.h"
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s = [] {
    KeySpec antialias = text_key_without_default(
        "antialias", "adaa|none", "`adaa` for `hard`, else `none`", "antiderivative anti-aliasing");
    // The lowest factor that keeps aliasing under -80 dB for each curve (docs/processors.md's
    // measured table): 4x for the smooth curves, 8x (with ADAA) for the hard clip.
    KeySpec oversampling =
        choice_number_key("oversampling", "1|2|4|8", "", 4, "oversampling factor");
    oversampling.has_default = false;
    oversampling.default_note = "4 (`hard`: 8)";
    return ProcessorSpec{
        "saturation",
        true,
        nullptr,
        {text_key("model", "tape|tube|soft|hard", "tape", "transfer curve"),
         number_key("drive_db", 0, 36, "dB", 0, "input drive (small signals stay at unity)"),
         number_key("bias", -1, 1, "", 0, "asymmetry (even harmonics)"),
         number_key("mix_pct", 0, 100, "%", 100, "wet share"),
         number_key("output_db", -24, 24, "dB", 0, "output gain"),
         number_key("tone", -1, 1, "", 0, "tape emphasis, dark to bright"), oversampling,
         antialias},
        nullptr};
  }();
  return s;
}

// The wet path's latency of a saturation at `stages` at this rate.
int wet_latency(int stages, int rate) {
  SaturationParams sp{};
  sp.stages = stages;
  sat_filters(sp, rate);
  return sp.wet_latency;
}

int stages_for(double factor) {
  return factor >= 8 ? 3 : factor >= 4 ? 2 : factor >= 2 ? 1 : 0;
}

// The oversampling factor: given, or the model's default (8 for the hard clip, 4 else).
double oversampling_of(const Processor& p) {
  auto it = p.values.find("oversampling");
  if (it != p.values.end() && it->second.kind == ProcessorValue::Kind::kNumber)
    return it->second.number;
  return setting_text(p, spec(), "model") == "hard" ? 8.0 : 4.0;
}

StageShape shape(const StageQuery& q) {
  std::vector<double> factors = q.swept("oversampling");
  factors.push_back(oversampling_of(q.proc()));
  StageShape out;
  for (double f : factors)
    out.latency = std::max<long long>(out.latency, wet_latency(stages_for(f), q.s.sample_rate));
  return out;
}

void lower(Lowering& l, const Processor& p) {
  add_saturation_job(l, saturation_params(p, l.rate(), (int)l.shape().latency));
}

}  // namespace

void add_saturation_job(Lowering& l, const SaturationParams& sp) {
  SaturationJob job{};
  job.left = l.left();
  job.right = l.right();
  job.params = l.w.saturations.add_params(sp);
  job.state = l.w.saturations.add_state();
  job.memory = l.w.saturations.add_memory(2 * sat_channel_floats(sp));
  l.step.saturations.push_back(job);
}

int saturation_stages(const Processor& p) {
  return stages_for(oversampling_of(p));
}

SaturationParams saturation_params(const Processor& p, int rate, int latency) {
  const double pi = 3.14159265358979323846;
  auto num = [&](const char* key) { return setting(p, spec(), key); };
  SaturationParams sp{};
  const std::string model = setting_text(p, spec(), "model");
  sp.model = model == "soft" ? 0 : model == "hard" ? 1 : model == "tube" ? 2 : 3;
  sp.stages = saturation_stages(p);
  // Defaults (docs/processors.md, measured in tests): 8x oversampling, and for the hard
  // clip, whose corners alias most, ADAA on top.
  const std::string antialias = given_text(p, "antialias");
  sp.adaa = antialias.empty() ? sp.model == 1 : antialias == "adaa";
  sat_filters(sp, rate);
  sp.pad = std::max(0, latency - sp.wet_latency);
  sp.drive = (float)std::pow(10.0, num("drive_db") / 20.0);
  // The tube's curve is biased by 0.2 to begin with: it always adds some even harmonics.
  sp.bias = (float)(num("bias") + (sp.model == 2 ? 0.2 : 0.0));
  const double b = sp.bias, e = 1e-4;
  sp.f_bias = (float)sat_curve<double>(sp.model, b);
  const double slope =
      (sat_curve<double>(sp.model, b + e) - sat_curve<double>(sp.model, b - e)) / (2 * e);
  sp.norm = (float)(1.0 / (sp.drive * slope));
  sp.mix = (float)(num("mix_pct") / 100.0);
  sp.output = (float)std::pow(10.0, num("output_db") / 20.0);
  // Tape tone: a first-order shelf at 3 kHz, +-6 dB for tone +-1, before the curve (the
  // brighter, the earlier the highs saturate) and its inverse after.
  const double tone = num("tone");
  const double fs_high = rate * std::pow(2.0, sp.stages), K = 2 * fs_high;
  const double wz = 2 * pi * 3000.0, wp = wz * std::pow(10.0, 6.0 * tone / 20.0);
  sp.eg = (float)((1 + K / wz) / (1 + K / wp));
  sp.eg_inverse = (float)((1 + K / wp) / (1 + K / wz));
  sp.e0 = (float)((1 - K / wz) / (1 + K / wz));
  sp.e1 = (float)((1 - K / wp) / (1 + K / wp));
  sp.emphasis = sp.model == 3 && tone != 0.0;
  sp.dc = b != 0.0 ? (float)std::exp(-2 * pi * 5.0 / rate) : 0.0f;
  return sp;
}

const ProcessorModule& saturation_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower, nullptr, false};
  return m;
}

}  // namespace td
