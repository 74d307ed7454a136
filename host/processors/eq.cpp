#include "processors/eq.h"

#include <algorithm>

#include "graph/plan.h"
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{"eq",
                               true,
                               nullptr,
                               {text_key("mode", "linear|minimum", "linear", "phase response")},
                               "eq-band"};
  return s;
}

const ProcessorSpec* band_spec() {
  static const ProcessorSpec s = [] {
    KeySpec type = text_key_without_default(
        "type", "highpass|lowpass|lowshelf|highshelf|bell|notch|bandpass|tilt", "required",
        "band shape");
    KeySpec q =
        number_key_without_default("q", 0.1, 40, "", "0.7071 shelves, 1 others", "quality factor");
    KeySpec slope = number_key_without_default(
        "slope", 0.1, 96, "dB/octave or S", "",
        "high/low-pass: dB/octave (6, 12, 18, 24, 36, 48, 72, 96); shelves: RBJ's S (0.1 .. 1)");
    slope.allowed_note =
        "high/low-pass: 6, 12, 18, 24, 36, 48, 72, 96 (default 12); shelves: RBJ's S, 0.1 .. 1";
    return ProcessorSpec{"eq-band",
                         true,
                         nullptr,
                         {type,
                          number_key_without_default("freq", 10, 24000, "Hz", "required",
                                                     "corner, centre or pivot frequency, Hz"),
                          number_key("gain_db", -24, 24, "dB", 0, "band gain, dB"), q, slope},
                         nullptr};
  }();
  return &s;
}

// Band shapes by the name the session uses (the schema's `type` choices, in order).
constexpr EqBandType kBandTypes[] = {
    EqBandType::kHighpass, EqBandType::kLowpass, EqBandType::kLowShelf, EqBandType::kHighShelf,
    EqBandType::kBell,     EqBandType::kNotch,   EqBandType::kBandpass, EqBandType::kTilt};

EqBandType band_type(const std::string& name) {
  std::string choices = find_key(*band_spec(), "type")->choices;
  int index = 0;
  for (size_t at = 0; at <= choices.size(); ++index) {
    const size_t bar = std::min(choices.find('|', at), choices.size());
    if (choices.compare(at, bar - at, name) == 0) return kBandTypes[index];
    at = bar + 1;
  }
  return EqBandType::kBell;  // the parser has checked the name
}

// The FIR shape of the EQ: long enough for every value its sweeps can take (every
// combination of a band's swept keys is tried). taps 0: no enabled band, no stage.
StageShape shape(const StageQuery& q) {
  const Processor& eq = q.proc();
  double duration_s = 0.0;
  bool any = false;
  for (size_t bi = 0; bi < eq.bands.size(); ++bi) {
    const Processor& band = eq.bands[bi];
    if (!enabled(band)) continue;
    any = true;
    std::vector<std::pair<std::string, std::vector<double>>> swept;
    for (const SweepAxis& axis : q.s.variants.sweep) {
      const SweepTarget& t = axis.target;
      if (t.node == q.node && t.processor == q.pos && t.band == (int)bi)
        swept.emplace_back(t.key, axis.values);
    }
    std::vector<size_t> idx(swept.size(), 0);
    while (true) {
      Processor b = band;
      for (size_t k = 0; k < swept.size(); ++k) {
        ProcessorValue& v = b.values[swept[k].first];
        v.kind = ProcessorValue::Kind::kNumber;
        v.number = swept[k].second[idx[k]];
      }
      duration_s = std::max(duration_s, eq_band_fir_duration_s(eq_band_of(b)));
      size_t k = 0;
      while (k < swept.size() && ++idx[k] == swept[k].second.size()) idx[k++] = 0;
      if (k == swept.size()) break;
    }
  }
  StageShape out;
  if (!any) return out;
  out.fir = fir_shape(fir_taps_for(duration_s, q.s.sample_rate), eq_phase(eq));
  out.latency = out.fir.latency();
  return out;
}

void lower(Lowering& l, const Processor& p) {
  if (l.shape().fir.taps == 0) return;  // no enabled band: nothing to do
  FirDesign d;
  d.bands = eq_bands_of(p);
  d.phase = eq_phase(p);
  d.shape = l.shape().fir;
  l.add_fir(l.left(), d);
  l.add_fir(l.right(), d);
}

}  // namespace

EqBand eq_band_of(const Processor& b) {
  EqBand e;
  e.type = band_type(b.type);
  e.freq_hz = b.number("freq", 1000.0);  // required by the parser
  e.gain_db = setting(b, *band_spec(), "gain_db");
  e.q = b.number("q", 0.0);          // 0: the type's default (kernels/eq.h)
  e.slope = b.number("slope", 0.0);  // 0: the type's default
  return e;
}

std::vector<EqBand> eq_bands_of(const Processor& p) {
  std::vector<EqBand> out;
  for (const auto& b : p.bands)
    if (enabled(b)) out.push_back(eq_band_of(b));
  return out;
}

FirPhase eq_phase(const Processor& p) {
  return setting_text(p, spec(), "mode") == "minimum" ? FirPhase::kMinimum : FirPhase::kLinear;
}

const ProcessorModule& eq_module() {
  static const ProcessorModule m{spec, band_spec, shape, lower, nullptr, false, true};
  return m;
}

}  // namespace td
