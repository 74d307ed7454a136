#include "processors/console.h"

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
      number_key("tolerance_db", 0, 1, "dB", 0.1, "largest per-input gain and drive deviation")};
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

// At the bus: t (each input times its neighbour count) into two scratch streams, the
// crosstalk and noise job, then the summing amp's curve.
void lower_bus(Lowering& l, const Processor& p) {
  const NodeInstance& inst = l.instance();
  const int n = (int)inst.inputs.size();
  const int key_left = l.scratch(), key_right = l.scratch();
  const int t = (int)l.step.terms.size();
  for (int j = 0; j < n; ++j) {
    const float neighbours = (float)((j > 0) + (j + 1 < n));
    if (l.w.plan.folded[inst.input_nodes[j]])
      throw std::logic_error("console: an input of its bus was folded");
    const NodeInstance& in = l.w.plan.instances[inst.input_nodes[j]][inst.inputs[j]];
    l.step.terms.push_back({l.w.slot_offset + in.out[0], neighbours, 0.0f});
    l.step.terms.push_back({l.w.slot_offset + in.out[1], 0.0f, neighbours});
  }
  l.step.pre_sums.push_back({key_left, key_right, t, 2 * n});

  ConsoleParams cp{};
  // |k (1 - e^-jw)| = 2 k sin(w / 2) at 1 kHz is the stated crosstalk.
  const double at_1k = 2.0 * std::sin(kPi * 1000.0 / l.rate());
  cp.crosstalk = (float)(std::pow(10.0, setting(p, spec(), "crosstalk_db") / 20.0) / at_1k);
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
  double gain_db = 0, drive_db = 0;
  console_tolerance(p, gain_db, drive_db);
  add_saturation_job(l,
                     console_curve_params(p, l.rate(), (int)l.shape().latency, gain_db, drive_db));
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

void console_tolerance(const Processor& channel, double& gain_db, double& drive_db) {
  const double tol = setting(channel, channel_spec(), "tolerance_db");
  const uint64_t seed = (uint64_t)setting(channel, channel_spec(), "channel_seed");
  auto uniform = [&](uint64_t k) {  // in [-1, 1)
    return (double)(mix64(seed ^ mix64(k)) >> 11) * (2.0 / 9007199254740992.0) - 1.0;
  };
  gain_db = tol * uniform(1);
  drive_db = tol * uniform(2);
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
