// `deesser`: three bands split at low_hz and high_hz (band_split.h); the middle band keys
// one compressor setting (threshold_db, ratio 4, 1 ms attack, 60 ms release, at most
// range_db) that reduces the middle band (mode "split") or all three ("wide").
#include "processors/band_split.h"
#include "processors/compressor.h"
#include "processors/processor.h"
#include "render/lower.h"

namespace td {
namespace {

const ProcessorSpec& spec() {
  static const ProcessorSpec s{
      "deesser",
      true,
      nullptr,
      {number_key("low_hz", 2000, 16000, "Hz", 5000, "sibilance band low edge"),
       number_key("high_hz", 2000, 20000, "Hz", 9000, "sibilance band high edge (above low_hz)"),
       number_key("threshold_db", -80, 0, "dBFS", -30, "detection threshold (sibilance band)"),
       number_key("range_db", 0, 24, "dB", 6, "maximum reduction"),
       text_key("mode", "split|wide", "split", "what is reduced")},
      nullptr};
  return s;
}

std::vector<double> edges(const Processor& p) {
  return {setting(p, spec(), "low_hz"), setting(p, spec(), "high_hz")};
}

StageShape shape(const StageQuery& q) {
  StageShape out;
  out.fir = crossover_shape(edges(q.proc()), q.s.sample_rate);
  out.latency = out.fir.latency();
  return out;
}

void lower(Lowering& l, const Processor& p) {
  const BandStreams bands = split_bands(l, edges(p));
  const bool wide = setting_text(p, spec(), "mode") == "wide";
  Processor c;  // the de-esser's compressor
  c.values["threshold_db"].number = setting(p, spec(), "threshold_db");
  c.values["ratio"].number = 4.0;
  c.values["knee_db"].number = 0.0;
  c.values["attack_ms"].number = 1.0;
  c.values["release_ms"].number = 60.0;
  CompressorParams cp = compressor_params(c, l.rate());
  cp.range_db = (float)setting(p, spec(), "range_db");
  // Wide mode: the three band compressors share band 1 as their key, while band 1's own
  // compressor rewrites band 1 in place; they run at the same time, so the key is a copy of
  // band 1 of its own (the input through the same band-1 FIR: the same samples).
  int key_left = bands.left[1], key_right = bands.right[1];
  if (wide) {
    key_left = l.scratch();
    key_right = l.scratch();
    const int t = (int)l.step.terms.size();
    l.step.terms.push_back({l.left(), 1.0f, 0.0f});
    l.step.terms.push_back({l.right(), 0.0f, 1.0f});
    l.step.pre_sums.push_back({key_left, key_right, t, 2});
    FirDesign d;
    d.crossovers = edges(p);
    d.band = 1;
    d.shape = l.shape().fir;
    l.add_fir(key_left, d);
    l.add_fir(key_right, d);
  }
  for (int b = 0; b < 3; ++b) {
    if (b != 1 && !wide) continue;
    CompressorPlace place;
    place.left = bands.left[b];
    place.right = bands.right[b];
    place.key_left = key_left;
    place.key_right = key_right;
    place.lag = l.lag() + l.shape().fir.latency();
    place.lookahead = 0;
    place.band = b;
    place.report = b == 1;
    l.step.compressors.push_back(make_compressor(l, p, cp, place));
  }
  sum_bands(l, bands, {1.0f, 1.0f, 1.0f});
}

}  // namespace

const ProcessorModule& deesser_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower, nullptr, false};
  return m;
}

}  // namespace td
