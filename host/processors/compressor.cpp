#include "processors/compressor.h"

#include <algorithm>
#include <cmath>

#include "processors/processor.h"
#include "render/lower.h"

namespace td {

std::vector<KeySpec> compressor_keys() {
  return {
      number_key("threshold_db", -80, 0, "dBFS", -18, "level where compression starts"),
      number_key("ratio", 1, HUGE_VAL, "", 2, "input dB over threshold per output dB"),
      number_key("knee_db", 0, 24, "dB", 6, "width of the quadratic soft knee"),
      number_key("attack_ms", 0.01, 500, "ms", 10, "attack time constant (63 % of a step)"),
      number_key("release_ms", 1, 5000, "ms", 100, "release time constant (63 % of a step)"),
      text_key_without_default("release", "auto", "", "program-dependent release"),
      text_key("detector", "peak|rms", "peak", "level detector"),
      number_key("rms_ms", 1, 1000, "ms", 10, "RMS detector time constant"),
      number_key("makeup_db", -24, 24, "dB", 0, "makeup gain"),
      text_key_without_default("makeup", "auto", "", "automatic makeup gain"),
      number_key("stereo_link_pct", 0, 100, "%", 100, "100: the louder channel drives both"),
      node_key("sidechain", "node whose signal keys the detector"),
      number_key_without_default("sidechain_hpf_hz", 10, 1000, "Hz", "off",
                                 "12 dB/octave high-pass on the key"),
      number_key("mix_pct", 0, 100, "%", 100, "wet share (parallel compression)"),
      number_key("lookahead_ms", 0, 20, "ms", 0, "detector look-ahead (compensated latency)"),
      text_key("style", "vca|opto", "vca", "character"),
  };
}

const ProcessorSpec& compressor_spec() {
  static const ProcessorSpec s{"compressor", true, nullptr, compressor_keys(), nullptr};
  return s;
}

float one_pole_coefficient(double ms, int rate) {
  return (float)std::exp(-1.0 / (ms * 1e-3 * rate));
}

CompressorParams compressor_params(const Processor& p, int rate) {
  const ProcessorSpec& spec = compressor_spec();
  auto num = [&](const char* key) { return setting(p, spec, key); };
  CompressorParams c{};
  c.threshold_db = (float)num("threshold_db");
  const double ratio = num("ratio");
  c.slope = std::isinf(ratio) ? 1.0f : (float)(1.0 - 1.0 / ratio);
  c.knee_db = (float)num("knee_db");
  c.attack = one_pole_coefficient(num("attack_ms"), rate);
  const double release_ms = num("release_ms");
  c.release = one_pole_coefficient(release_ms, rate);
  c.auto_release = given_text(p, "release") == "auto";
  c.release_slow = one_pole_coefficient(std::max(800.0, release_ms), rate);
  c.memory = one_pole_coefficient(1000.0, rate);
  c.opto = setting_text(p, spec, "style") == "opto";
  c.rms = setting_text(p, spec, "detector") == "rms";
  c.rms_coeff = one_pole_coefficient(num("rms_ms"), rate);
  c.link = (float)(num("stereo_link_pct") / 100.0);
  c.mix = (float)(num("mix_pct") / 100.0);
  // Automatic makeup (Giannoulis et al., section 2.4): the reduction the static curve
  // applies to a full-scale (0 dBFS) level.
  c.knee_start_power = (float)std::pow(10.0, (c.threshold_db - 0.5 * c.knee_db) / 10.0);
  c.makeup_db =
      given_text(p, "makeup") == "auto" ? -compressor_curve_db(c, 0.0f) : (float)num("makeup_db");
  return c;
}

KeyFilter key_filter_of(const Processor& p, int rate) {
  KeyFilter f{1, 0, 0, 0, 0};
  const double hz = p.number("sidechain_hpf_hz", 0.0);  // absent: no filter
  if (hz <= 0) return f;
  const double w0 = 2 * 3.14159265358979323846 * hz / rate, c = std::cos(w0);
  const double alpha = std::sin(w0) / (2 * std::sqrt(0.5)), a0 = 1 + alpha;
  return {(1 + c) / 2 / a0, -(1 + c) / a0, (1 + c) / 2 / a0, -2 * c / a0, (1 - alpha) / a0};
}

CompressorJob make_compressor(Lowering& l, const Processor& proc, const CompressorParams& params,
                              const CompressorPlace& place) {
  SessionWork& w = l.w;
  const Session& s = *w.s;
  const Plan& plan = w.plan;
  CompressorJob job{};
  job.left = place.left;
  job.right = place.right;
  job.key_left = place.key_left;
  job.key_right = place.key_right;
  job.params = w.compressors.add_params(params);
  job.state = w.compressors.add_state();
  job.key_filter = key_filter_of(proc, s.sample_rate);
  const long long lag = place.lag;
  // The audio is delayed by the stage's largest look-ahead; the key by the difference to
  // this instance's own, so every instance has the same latency.
  job.lookahead = place.lookahead;
  long long key_delay =
      job.lookahead -
      std::llround(setting(proc, compressor_spec(), "lookahead_ms") * 1e-3 * s.sample_rate);
  const std::string sidechain = given_text(proc, "sidechain");
  if (!sidechain.empty()) {
    const int key = s.find(sidechain);
    // The key's instance in a variant that renders this instance.
    int key_k = 0;
    for (int v = 0; v < plan.variant_count(); ++v)
      if (plan.variant_instance[v][l.node] == l.k) {
        key_k = plan.variant_instance[v][key];
        break;
      }
    job.key_left = w.slot_offset + plan.instances[key][key_k].out[0];
    job.key_right = w.slot_offset + plan.instances[key][key_k].out[1];
    // Both must lag the song equally: a key with less latency than the compressed signal
    // is delayed to match.
    const long long extra = lag - w.out_delay[key];
    if (extra < 0)
      throw InputError(s.file.string() + ":" + std::to_string(proc.line) + ": " +
                       s.nodes[l.node].name + "." + proc.id + ".sidechain: the key \"" + sidechain +
                       "\" has " + std::to_string(w.out_delay[key] - lag) +
                       " samples more processing latency than the signal it compresses; "
                       "keying from a node with more linear-phase EQ than the compressed one "
                       "is not supported yet");
    key_delay += extra;
  }
  job.key_delay = (int)key_delay;
  job.ring = w.compressors.add_memory(2LL * job.lookahead);
  job.key_ring = w.compressors.add_memory(2LL * job.key_delay);
  job.song_begin = lag + job.lookahead;
  job.song_end = job.song_begin + w.frames;
  job.trace = l.add_trace(job.trace_hops);
  if (place.report)
    w.dynamics.push_back({l.node, l.k, l.pos, job.state - w.compressors.state_offset,
                          job.trace - w.trace_offset, job.trace_hops, place.band, false});
  return job;
}

namespace {

StageShape shape(const StageQuery& q) {
  StageShape out;
  const std::vector<double> ms = q.values("lookahead_ms");
  out.latency = std::llround(*std::max_element(ms.begin(), ms.end()) * 1e-3 * q.s.sample_rate);
  return out;
}

void lower(Lowering& l, const Processor& p) {
  CompressorPlace place;
  place.left = place.key_left = l.left();
  place.right = place.key_right = l.right();
  place.lag = l.lag();
  place.lookahead = (int)l.shape().latency;
  l.step.compressors.push_back(make_compressor(l, p, compressor_params(p, l.rate()), place));
}

}  // namespace

const ProcessorModule& compressor_module() {
  static const ProcessorModule m{compressor_spec, nullptr, shape, lower, nullptr, false};
  return m;
}

}  // namespace td
