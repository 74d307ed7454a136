#include "processors/console.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/dither.h"
#include "processors/processor.h"
#include "processors/saturation.h"
#include "render/lower.h"

namespace td {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kConsoleOversampling = 4;  // the smooth curve's default (saturation's table)

// The models (docs/processors.md, "console"). The curve is the rational tanh of
// `saturation` for all three; what differs is where it bends and how asymmetric it is.
// These are design choices, not measurements of a console: the bias gives the
// transformer-coupled british_a a second harmonic about 15 dB above its third at the
// documented test level, the op-amp american_bus a third about 13 dB above its second,
// and modern_vca the same profile as american_bus 6 dB further below the curve.
const ConsoleModel kModels[] = {
    {"british_a", 0.2, 18.0},
    {"american_bus", 0.01, 18.0},
    {"modern_vca", 0.005, 24.0},
};

KeySpec model_key() {
  return text_key("model", "british_a|american_bus|modern_vca", "british_a", "console model");
}

std::vector<KeySpec> console_keys() {
  return {
      model_key(),
      // At most 18 dB: 0 dBFS at the knee of british_a's and american_bus's curves. Past
      // it the summing amp intermodulates the channel curve's alias at 23 kHz (its 5th
      // harmonic of 5 kHz, folded in the half-band's transition) into the band: -60 dB
      // at 24 (console_render_test).
      number_key("drive_db", -24, 18, "dB", 0, "level into the channel paths and the summing amp"),
      number_key("crosstalk_db", -120, -40, "dB", -80,
                 "one strip into its neighbour at 1 kHz (rises 6 dB/octave)"),
      number_key("noise_dbfs", -140, -60, "dBFS", -100, "summing amp noise (RMS, white)"),
      number_key("tolerance_db", 0, 1, "dB", 0.1,
                 "largest per-input gain, drive and top-end deviation")};
}

const ProcessorSpec& spec() {
  static const ProcessorSpec s{"console", true, nullptr, console_keys(), nullptr};
  return s;
}

// The step the parser appends to each input: the console's keys and the input's seed.
// Its type has a '-', which the parser refuses in a file (like the band specs).
const ProcessorSpec& channel_spec() {
  static const ProcessorSpec s = [] {
    std::vector<KeySpec> keys = console_keys();
    keys.push_back(number_key("channel_seed", 0, 4294967295.0, "", 0, "tolerance seed"));
    return ProcessorSpec{"console-channel", true, nullptr, keys, nullptr};
  }();
  return s;
}

int latency_at(int rate) {
  Processor p;
  p.type = "console";
  return console_curve_params(p, rate, 0, 0.0, 0.0).wet_latency;
}

StageShape shape(const StageQuery& q) {
  StageShape out;
  out.latency = latency_at(q.s.sample_rate);
  return out;
}

uint64_t name_seed(const std::string& a, const std::string& b) {
  uint64_t h = 0x6A09E667F3BCC909ull;
  for (unsigned char c : a + '\0' + b) h = mix64(h ^ c);
  return h;
}

// The first-difference gain a of one input's top-end deviation: |1 + a (1 - e^-jw)| is
// 10^(eq_db/20) at the top of the band (20 kHz, or 0.4 of a lower rate). With
// c = 1 - cos w, |H|^2 = 1 + 2ac + 2a^2c; a is the root nearest 0.
double top_end_gain(double eq_db, int rate) {
  const double w = 2.0 * kPi * std::min(20000.0, 0.4 * rate) / rate;
  const double c = 1.0 - std::cos(w), g2 = std::pow(10.0, eq_db / 10.0);
  return (-c + std::sqrt(c * c - 2.0 * c * (1.0 - g2))) / (2.0 * c);
}

// At the bus: t (each input weighted by its crosstalk, k times its neighbour count, and
// its top-end deviation) into two scratch streams, the difference and noise job, then the
// summing amp's curve.
void lower_bus(Lowering& l, const Processor& p) {
  const NodeInstance& inst = l.instance();
  const int n = (int)inst.inputs.size();
  const int key_left = l.scratch(), key_right = l.scratch();
  const int t = (int)l.step.terms.size();
  // |k (1 - e^-jw)| = 2 k sin(w / 2) at 1 kHz is the stated crosstalk.
  const double at_1k = 2.0 * std::sin(kPi * 1000.0 / l.rate());
  const double k = std::pow(10.0, setting(p, spec(), "crosstalk_db") / 20.0) / at_1k;
  for (int j = 0; j < n; ++j) {
    const int in_node = inst.input_nodes[j];
    if (l.w.plan.folded[in_node]) throw std::logic_error("console: an input of its bus was folded");
    const int c = console_channel_step(l.session(), in_node);
    if (c < 0) throw std::logic_error("console: an input of its bus has no channel step");
    const ConsoleTolerance tol = console_tolerance(l.w.settings[in_node][inst.inputs[j]].chain[c]);
    const float weight = (float)(k * ((j > 0) + (j + 1 < n)) + top_end_gain(tol.eq_db, l.rate()));
    const NodeInstance& in = l.w.plan.instances[in_node][inst.inputs[j]];
    l.step.terms.push_back({l.w.slot_offset + in.out[0], weight, 0.0f});
    l.step.terms.push_back({l.w.slot_offset + in.out[1], 0.0f, weight});
  }
  l.step.pre_sums.push_back({key_left, key_right, t, 2 * n});

  ConsoleParams cp{};
  cp.noise_rms = (float)std::pow(10.0, setting(p, spec(), "noise_dbfs") / 20.0);
  cp.seed = name_seed(l.session().nodes[l.node].name, "summing amp");
  ConsoleJob job{};
  job.left = l.left();
  job.right = l.right();
  job.key_left = key_left;
  job.key_right = key_right;
  job.params = l.w.consoles.add_params(cp);
  job.memory = l.w.consoles.add_memory(2);
  l.step.consoles.push_back(job);

  add_saturation_job(l, console_curve_params(p, l.rate(), (int)l.shape().latency, 0, 0));
}

// At an input: its channel path.
void lower_channel(Lowering& l, const Processor& p) {
  const ConsoleTolerance tol = console_tolerance(p);
  add_saturation_job(
      l, console_curve_params(p, l.rate(), (int)l.shape().latency, tol.gain_db, tol.drive_db));
}

bool is_console_bus(const Session& s, int bus) {
  if (bus < 0 || s.nodes[bus].kind == NodeKind::kTrack || s.nodes[bus].chain.empty()) return false;
  const Processor& first = s.nodes[bus].chain[0];
  return first.type == "console" && enabled(first);
}

}  // namespace

const ConsoleModel& console_model(const std::string& name) {
  for (const ConsoleModel& m : kModels)
    if (name == m.name) return m;
  throw std::logic_error("console: unknown model " + name);
}

SaturationParams console_curve_params(const Processor& console, int rate, int latency,
                                      double gain_deviation_db, double drive_deviation_db) {
  const ProcessorSpec& s = console.type == "console" ? spec() : channel_spec();
  const ConsoleModel& m = console_model(setting_text(console, s, "model"));
  Processor sat;
  sat.type = "saturation";
  auto number = [&](const char* key, double v) {
    ProcessorValue pv;
    pv.kind = ProcessorValue::Kind::kNumber;
    pv.number = v;
    sat.values[key] = pv;
  };
  auto text = [&](const char* key, const char* v) {
    ProcessorValue pv;
    pv.kind = ProcessorValue::Kind::kString;
    pv.text = v;
    sat.values[key] = pv;
  };
  text("model", "soft");
  text("antialias", "none");
  number("oversampling", kConsoleOversampling);
  number("drive_db", setting(console, s, "drive_db") + drive_deviation_db - m.headroom_db);
  number("bias", m.bias);
  number("output_db", gain_deviation_db);
  SaturationParams sp = saturation_params(sat, rate, latency);
  sp.dc_residual = 1;  // nulls at a low drive: the blocker takes only the curve's DC
  return sp;
}

ConsoleTolerance console_tolerance(const Processor& channel) {
  const double tol = setting(channel, channel_spec(), "tolerance_db");
  const uint64_t seed = (uint64_t)setting(channel, channel_spec(), "channel_seed");
  auto uniform = [&](uint64_t k) {  // in [-1, 1)
    return (double)(mix64(seed ^ mix64(k)) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
  };
  return {tol * uniform(1), tol * uniform(2), tol * uniform(3)};
}

void add_console_channels(Session& s) {
  for (int i = 0; i < (int)s.nodes.size(); ++i) {
    Node& n = s.nodes[i];
    if (n.kind == NodeKind::kMaster) continue;
    const int bus = s.find(n.output);
    if (!is_console_bus(s, bus)) continue;
    Processor p = s.nodes[bus].chain[0];
    p.type = "console-channel";
    p.id = "console-channel";
    p.bands.clear();
    ProcessorValue seed;
    seed.kind = ProcessorValue::Kind::kNumber;
    seed.number = (double)(name_seed(s.nodes[bus].name, n.name) >> 32);
    p.values["channel_seed"] = seed;
    n.chain.push_back(p);
  }
}

int console_channel_step(const Session& s, int node) {
  const Node& n = s.nodes[node];
  if (n.kind == NodeKind::kMaster || n.chain.empty()) return -1;
  if (n.chain.back().type != "console-channel") return -1;
  return (int)n.chain.size() - 1;
}

bool console_channel_target(const Session& s, int node, SweepTarget& t) {
  const int channel = console_channel_step(s, node);
  if (channel < 0 || t.node != s.find(s.nodes[node].output) ||
      t.what != SweepTarget::What::kProcessor || t.processor != 0)
    return false;
  t.node = node;
  t.processor = channel;
  return true;
}

void sync_console_channels(Session& s) {
  for (int i = 0; i < (int)s.nodes.size(); ++i) {
    const int c = console_channel_step(s, i);
    if (c < 0) continue;
    Processor& channel = s.nodes[i].chain[c];
    for (const auto& [key, value] : s.nodes[s.find(s.nodes[i].output)].chain[0].values)
      channel.values[key] = value;
  }
}

const ProcessorModule& console_module() {
  static const ProcessorModule m{spec, nullptr, shape, lower_bus, nullptr, false};
  return m;
}

const ProcessorModule& console_channel_module() {
  static const ProcessorModule m{channel_spec, nullptr, shape, lower_channel, nullptr, false};
  return m;
}

}  // namespace td
