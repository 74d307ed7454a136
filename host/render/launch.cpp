#include "render/launch.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>

#include "analysis/analyze.h"
#include "analysis/meters.h"
#include "backend/backend.h"
#include "kernels/saturation_design.h"
#include "session/schema.h"

namespace td {

namespace {

PanLaw pan_law_of(double db) {
  return db == 0.0    ? PanLaw::k0dB
         : db == -4.5 ? PanLaw::k4_5dB
         : db == -6.0 ? PanLaw::k6dB
                      : PanLaw::k3dB;
}

NodeSettings settings_for(const Session& s, const Plan& p, int node, const NodeInstance& inst) {
  const Node& n = s.nodes[node];
  NodeSettings st{n.gain_db, n.pan, n.fader_db, n.chain};
  for (size_t k = 0; k < p.reaching_axes[node].size(); ++k) {
    const int a = p.reaching_axes[node][k];
    const AxisTarget& t = p.axes[a];
    if (t.node != node) continue;
    const double v = s.variants.sweep[a].values[inst.choice[k]];
    switch (t.what) {
      case AxisTarget::What::kGain:
        st.gain_db = v;
        break;
      case AxisTarget::What::kPan:
        st.pan = v;
        break;
      case AxisTarget::What::kFader:
        st.fader_db = v;
        break;
      case AxisTarget::What::kProcessor: {
        Processor& proc = t.band >= 0 ? st.chain[t.processor].bands[t.band] : st.chain[t.processor];
        ProcessorValue& pv = proc.values[t.key];
        pv.kind = ProcessorValue::Kind::kNumber;
        pv.number = v;
        break;
      }
    }
  }
  return st;
}

Readings shift_readings(Readings r, double gain_db) {
  for (double* v : {&r.integrated_lufs, &r.momentary_max_lufs, &r.short_term_max_lufs,
                    &r.true_peak_dbtp, &r.sample_peak_dbfs, &r.rms_dbfs, &r.vu_max})
    *v += gain_db;
  for (auto* series : {&r.momentary_series, &r.short_term_series, &r.vu_series})
    for (auto& point : *series) point.second += gain_db;
  return r;
}

bool enabled(const Processor& p) {
  auto en = p.values.find("enabled");
  return en == p.values.end() || en->second.flag;
}

// The product of the chain's enabled gain processors (the only linear, constant ones).
float chain_gain(const std::vector<Processor>& chain) {
  float g = 1.0f;
  for (const auto& p : chain) {
    if (!enabled(p) || p.type != "gain") continue;
    auto inv = p.values.find("invert");
    const bool invert = inv != p.values.end() && inv->second.flag;
    g *= db_to_gain((float)p.number("gain_db", 0.0)) * (invert ? -1.0f : 1.0f);
  }
  return g;
}

void reject_unimplemented(const Session& s) {
  for (const auto& n : s.nodes)
    for (size_t i = 0; i < n.chain.size(); ++i) {
      const Processor& p = n.chain[i];
      const ProcessorSpec* spec = find_processor_spec(p.type);
      if (spec && spec->implemented) continue;
      std::ostringstream os;
      os << s.file.string() << ":" << p.line << ": "
         << (n.kind == NodeKind::kMaster ? std::string("[master]") : n.name) << ".chain[" << i
         << "] (type \"" << p.type << "\", id \"" << p.id << "\"): processor not supported yet"
         << " (tracked in issue " << (spec ? spec->issue : "?")
         << "); implemented today: every processor";
      throw InputError(os.str());
    }
}

EqBandType eq_band_type(const std::string& t) {
  return t == "highpass"    ? EqBandType::kHighpass
         : t == "lowpass"   ? EqBandType::kLowpass
         : t == "lowshelf"  ? EqBandType::kLowShelf
         : t == "highshelf" ? EqBandType::kHighShelf
         : t == "notch"     ? EqBandType::kNotch
         : t == "bandpass"  ? EqBandType::kBandpass
         : t == "tilt"      ? EqBandType::kTilt
                            : EqBandType::kBell;
}

EqBand eq_band_of(const Processor& b) {
  EqBand e;
  e.type = eq_band_type(b.type);
  e.freq_hz = b.number("freq", 1000.0);
  e.gain_db = b.number("gain_db", 0.0);
  e.q = b.number("q", 0.0);
  e.slope = b.number("slope", 0.0);
  return e;
}

// The enabled bands of an EQ.
std::vector<EqBand> eq_bands_of(const Processor& p) {
  std::vector<EqBand> out;
  for (const auto& b : p.bands)
    if (enabled(b)) out.push_back(eq_band_of(b));
  return out;
}

FirPhase eq_phase(const Processor& p) {
  return p.text("mode", "linear") == "minimum" ? FirPhase::kMinimum : FirPhase::kLinear;
}

// The FIR shape of the EQ at chain[pos] of a node: long enough for every value its sweeps
// can take (all of the session's variants, not just those of this render, so that a
// shard renders exactly what the whole run renders). taps 0: no enabled band, no stage.
FirShape eq_shape(const Session& s, const Plan& plan, int node, int pos) {
  const Processor& eq = s.nodes[node].chain[pos];
  double duration_s = 0.0;
  bool any = false;
  for (size_t bi = 0; bi < eq.bands.size(); ++bi) {
    const Processor& band = eq.bands[bi];
    if (!enabled(band)) continue;
    any = true;
    // Candidate values per swept key of this band; every combination is tried.
    std::vector<std::pair<std::string, std::vector<double>>> swept;
    for (size_t a = 0; a < plan.axes.size(); ++a) {
      const AxisTarget& t = plan.axes[a];
      if (t.node == node && t.processor == pos && t.band == (int)bi)
        swept.emplace_back(t.key, s.variants.sweep[a].values);
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
  FirShape shape;
  shape.taps = 0;
  if (!any) return shape;
  return fir_shape(fir_taps_for(duration_s, s.sample_rate), eq_phase(eq));
}

// The largest value a compressor's look-ahead takes over the session's sweeps, samples
// (band >= 0: a multiband band's).
long long lookahead_max(const Session& s, const Plan& plan, int node, int pos,
                        double default_ms = 0.0, int band = -1) {
  const Processor& p = s.nodes[node].chain[pos];
  double ms = (band >= 0 ? p.bands[band] : p).number("lookahead_ms", default_ms);
  for (size_t a = 0; a < plan.axes.size(); ++a) {
    const AxisTarget& t = plan.axes[a];
    if (t.node == node && t.processor == pos && t.band == band && t.key == "lookahead_ms")
      for (double v : s.variants.sweep[a].values) ms = std::max(ms, v);
  }
  return std::llround(ms * 1e-3 * s.sample_rate);
}

// Every value a processor key takes over the session's sweeps (the file's value first).
std::vector<double> swept_values(const Session& s, const Plan& plan, int node, int pos,
                                 const std::string& key, double fallback) {
  std::vector<double> out = {s.nodes[node].chain[pos].number(key, fallback)};
  for (size_t a = 0; a < plan.axes.size(); ++a) {
    const AxisTarget& t = plan.axes[a];
    if (t.node == node && t.processor == pos && t.band < 0 && t.key == key)
      out.insert(out.end(), s.variants.sweep[a].values.begin(), s.variants.sweep[a].values.end());
  }
  return out;
}

// The band edges of a multiband (its crossovers_hz) or a de-esser (low_hz, high_hz).
std::vector<double> crossovers_of(const Processor& p) {
  if (p.type == "deesser") return {p.number("low_hz", 5000.0), p.number("high_hz", 9000.0)};
  auto x = p.values.find("crossovers_hz");
  return x == p.values.end() ? std::vector<double>{} : x->second.list;
}

// Long enough for the lowest edge's slope (eq.h's rule for an order-8 pass filter).
FirShape crossover_shape(const std::vector<double>& edges, int rate) {
  double duration = 0.0;
  for (double e : edges) duration = std::max(duration, 7.0 * 8.0 / e);
  return fir_shape(fir_taps_for(duration, rate), FirPhase::kLinear);
}

// Gain reduction traces: 10 values a second.
constexpr double kTraceHz = 10.0;
long long trace_hop_frames(int rate) {
  return std::llround(rate / kTraceHz);
}

float coefficient(double ms, int rate) {  // one-pole: 1 - 1/e of a step in `ms`
  return (float)std::exp(-1.0 / (ms * 1e-3 * rate));
}

// A compressor's settings in per-sample form (docs/processors.md gives the defaults).
CompressorParams compressor_params(const Processor& p, int rate) {
  CompressorParams c{};
  c.threshold_db = (float)p.number("threshold_db", -18.0);
  const double ratio = p.number("ratio", 2.0);
  c.slope = std::isinf(ratio) ? 1.0f : (float)(1.0 - 1.0 / ratio);
  c.knee_db = (float)p.number("knee_db", 6.0);
  c.attack = coefficient(p.number("attack_ms", 10.0), rate);
  const double release_ms = p.number("release_ms", 100.0);
  c.release = coefficient(release_ms, rate);
  c.auto_release = p.text("release", "") == "auto";
  c.release_slow = coefficient(std::max(800.0, release_ms), rate);
  c.memory = coefficient(1000.0, rate);
  c.opto = p.text("style", "vca") == "opto";
  c.rms = p.text("detector", "peak") == "rms";
  c.rms_coeff = coefficient(p.number("rms_ms", 10.0), rate);
  c.link = (float)(p.number("stereo_link_pct", 100.0) / 100.0);
  c.mix = (float)(p.number("mix_pct", 100.0) / 100.0);
  // Automatic makeup (Giannoulis et al., section 2.4): the reduction the static curve
  // applies to a full-scale (0 dBFS) level.
  c.knee_start_power = (float)std::pow(10.0, (c.threshold_db - 0.5 * c.knee_db) / 10.0);
  c.makeup_db = p.text("makeup", "") == "auto" ? -compressor_curve_db(c, 0.0f)
                                               : (float)p.number("makeup_db", 0.0);
  return c;
}

// A limiter's settings (docs/processors.md): look-ahead at least one sample.
constexpr double kLimiterLookaheadMs = 5.0, kLimiterReleaseMs = 50.0;
int limiter_lookahead(const Processor& p, int rate) {
  return (int)std::max<long long>(
      1, std::llround(p.number("lookahead_ms", kLimiterLookaheadMs) * 1e-3 * rate));
}

// A limiter aims this far under its ceiling: true-peak meters with other interpolators
// (libebur128's, for one) read up to a few hundredths of a dB above the project's meter on
// dense high-frequency material; this keeps both at or under the ceiling.
constexpr double kLimiterMarginDb = 0.05;

LimiterParams limiter_params(const Processor& p, int rate, int lookahead_max) {
  LimiterParams l{};
  l.ceiling = (float)std::pow(10.0, (p.number("ceiling_dbtp", -1.0) - kLimiterMarginDb) / 20.0);
  l.release = coefficient(p.number("release_ms", kLimiterReleaseMs), rate);
  l.lookahead = limiter_lookahead(p, rate);
  l.pad = std::max(0, lookahead_max - l.lookahead);
  l.drive = 1.0f;
  l.bound = true_peak_gain_bound(design_true_peak_filter(rate));
  l.inverse_lookahead = 1.0 / l.lookahead;
  return l;
}

// Saturation (docs/processors.md; its FIR stages: kernels/saturation_design.h).
int sat_stages(const Processor& p) {
  const int factor = (int)p.number("oversampling", 8.0);
  return factor >= 8 ? 3 : factor >= 4 ? 2 : factor >= 2 ? 1 : 0;
}

// The wet path's latency of a saturation at `stages` at this rate.
int sat_wet_latency(int stages, int rate) {
  SaturationParams sp{};
  sp.stages = stages;
  sat_filters(sp, rate);
  return sp.wet_latency;
}

SaturationParams saturation_params(const Processor& p, int rate, int latency) {
  const double pi = 3.14159265358979323846;
  SaturationParams sp{};
  const std::string model = p.text("model", "tape");
  sp.model = model == "soft" ? 0 : model == "hard" ? 1 : model == "tube" ? 2 : 3;
  sp.stages = sat_stages(p);
  // Defaults (docs/processors.md, measured in tests): 8x oversampling, and for the hard
  // clip, whose corners alias most, ADAA on top.
  sp.adaa = p.text("antialias", sp.model == 1 ? "adaa" : "none") == "adaa";
  sat_filters(sp, rate);
  sp.pad = std::max(0, latency - sp.wet_latency);
  sp.drive = (float)std::pow(10.0, p.number("drive_db", 0.0) / 20.0);
  // The tube's curve is biased by 0.2 to begin with: it always adds some even harmonics.
  sp.bias = (float)(p.number("bias", 0.0) + (sp.model == 2 ? 0.2 : 0.0));
  const double b = sp.bias, e = 1e-4;
  sp.f_bias = (float)sat_curve<double>(sp.model, b);
  const double slope =
      (sat_curve<double>(sp.model, b + e) - sat_curve<double>(sp.model, b - e)) / (2 * e);
  sp.norm = (float)(1.0 / (sp.drive * slope));
  sp.mix = (float)(p.number("mix_pct", 100.0) / 100.0);
  sp.output = (float)std::pow(10.0, p.number("output_db", 0.0) / 20.0);
  // Tape tone: a first-order shelf at 3 kHz, +-6 dB for tone +-1, before the curve (the
  // brighter, the earlier the highs saturate) and its inverse after.
  const double tone = p.number("tone", 0.0);
  const double fs_high = rate * std::pow(2.0, sp.stages), K = 2 * fs_high;
  const double wz = 2 * pi * 3000.0, wp = wz * std::pow(10.0, 6.0 * tone / 20.0);
  sp.eg = (float)((1 + K / wz) / (1 + K / wp));
  sp.eg_inverse = (float)((1 + K / wp) / (1 + K / wz));
  sp.e0 = (float)((1 - K / wz) / (1 + K / wz));
  sp.e1 = (float)((1 - K / wp) / (1 + K / wp));
  sp.dc = b != 0.0 ? (float)std::exp(-2 * pi * 5.0 / rate) : 0.0f;
  return sp;
}

// The sidechain's key filter: a second-order Butterworth high-pass (RBJ cookbook), or
// none.
KeyFilter key_filter_of(const Processor& p, int rate) {
  KeyFilter f{1, 0, 0, 0, 0};
  const double hz = p.number("sidechain_hpf_hz", 0.0);
  if (hz <= 0) return f;
  const double w0 = 2 * 3.14159265358979323846 * hz / rate, c = std::cos(w0);
  const double alpha = std::sin(w0) / (2 * std::sqrt(0.5)), a0 = 1 + alpha;
  return {(1 + c) / 2 / a0, -(1 + c) / a0, (1 + c) / 2 / a0, -2 * c / a0, (1 - alpha) / a0};
}

}  // namespace

void prepare(SessionWork& w) {
  const Session& s = *w.s;
  const RenderOptions& opt = w.opt;
  RenderResult& r = w.r;
  w.t_start = Clock::now();
  reject_unimplemented(s);
  // References must exist and be readable before any rendering.
  for (const auto& ref : s.references) probe_stem(ref.file, s.sample_rate);
  for (const auto& f : opt.references) probe_stem(f, s.sample_rate);
  {
    const std::string& m = opt.write_variants;
    bool ok = m == "all" || m == "none";
    if (m.rfind("top:", 0) == 0) {
      const std::string k = m.substr(4);
      ok = !k.empty() && k.size() < 7 && std::all_of(k.begin(), k.end(), ::isdigit) &&
           std::stoi(k) > 0;
    }
    if (!ok)
      throw InputError("--write-variants: \"" + m + "\" (allowed: all, none, top:K with K >= 1)");
  }

  // Stems: channel counts and the session length (longest stem plus the tail).
  w.channels.assign(s.nodes.size(), 2);
  w.stem_of.assign(s.nodes.size(), -1);
  {
    int k = 0;
    for (size_t i = 0; i < s.nodes.size(); ++i)
      if (s.nodes[i].kind == NodeKind::kTrack) {
        w.stem_of[i] = k;
        w.channels[i] = (*w.stems)[k].info.channels;
        w.frames = std::max(w.frames, (*w.stems)[k].info.frames_at_rate);
        r.stems.push_back((*w.stems)[k].info);
        w.tracks.push_back((int)i);
        ++k;
      }
  }
  w.frames += (long long)std::llround(s.tail_s * s.sample_rate);
  if (w.frames == 0)
    throw InputError(s.file.string() +
                     ": the session has no audio (no tracks, or only empty stems)");
  r.sample_rate = s.sample_rate;
  r.frames = w.frames;

  w.plan = make_plan(s, w.channels, !opt.bus_meters,
                     opt.only_variants.empty() ? nullptr : &opt.only_variants);
  if (w.plan.variants.empty())
    throw InputError(s.file.string() + ": none of the requested variants exists (the session has " +
                     std::to_string(w.plan.variant_total) + ")");
  const Plan& plan = w.plan;
  r.slots = plan.slot_count;
  r.total_renders = plan.instance_count();
  r.variant_total = plan.variant_total;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    NodeStats ns;
    ns.name = s.nodes[i].name;
    ns.kind = s.nodes[i].kind == NodeKind::kTrack ? "track"
              : s.nodes[i].kind == NodeKind::kBus ? "bus"
                                                  : "master";
    ns.level = plan.level_of[i];
    for (int a : plan.reaching_axes[i]) ns.reaching_axes.push_back(s.variants.sweep[a].path);
    ns.renders = (int)plan.instances[i].size();
    ns.folded = plan.folded[i];
    r.nodes.push_back(ns);
  }

  // FIR shapes and the delays that align every bus's inputs (launch.h).
  {
    const int n = (int)s.nodes.size();
    // The delivery limiter: the master's last enabled processor, when it is a limiter and
    // the delivery has a loudness target.
    w.delivery_limiter = -1;
    if (s.delivery.target_lufs)
      for (int pos = (int)s.master().chain.size() - 1; pos >= 0; --pos)
        if (enabled(s.master().chain[pos])) {
          if (s.master().chain[pos].type == "limiter") w.delivery_limiter = pos;
          break;
        }
    w.fir_shapes.assign(n, {});
    w.stage_latency.assign(n, {});
    std::vector<long long> chain_latency(n, 0);
    for (int i = 0; i < n; ++i) {
      w.fir_shapes[i].assign(s.nodes[i].chain.size(), FirShape{0, 2, 2, 0});
      w.stage_latency[i].assign(s.nodes[i].chain.size(), 0);
      for (size_t pos = 0; pos < s.nodes[i].chain.size(); ++pos) {
        const Processor& p = s.nodes[i].chain[pos];
        if (!enabled(p)) continue;
        if (p.type == "eq") {
          w.fir_shapes[i][pos] = eq_shape(s, plan, i, (int)pos);
          if (w.fir_shapes[i][pos].taps > 0)
            w.stage_latency[i][pos] = w.fir_shapes[i][pos].latency();
        } else if (p.type == "compressor") {
          w.stage_latency[i][pos] = lookahead_max(s, plan, i, (int)pos);
        } else if (p.type == "saturation") {
          int latency = 0;
          for (double f : swept_values(s, plan, i, (int)pos, "oversampling", 8.0)) {
            Processor q = p;
            q.values["oversampling"].kind = ProcessorValue::Kind::kNumber;
            q.values["oversampling"].number = f;
            latency = std::max(latency, sat_wet_latency(sat_stages(q), s.sample_rate));
          }
          w.stage_latency[i][pos] = latency;
        } else if (p.type == "imager") {
          // A linear-phase side high-pass when any variant asks for mono lows: the lowest
          // such frequency sets the FIR (the crossovers' rule).
          double lowest = 0.0;
          for (double hz : swept_values(s, plan, i, (int)pos, "mono_below_hz", 0.0))
            if (hz > 0.0 && (lowest == 0.0 || hz < lowest)) lowest = hz;
          if (lowest > 0.0) {
            w.fir_shapes[i][pos] = crossover_shape({lowest}, s.sample_rate);
            w.stage_latency[i][pos] = w.fir_shapes[i][pos].latency();
          }
        } else if (p.type == "multiband" || p.type == "deesser") {
          w.fir_shapes[i][pos] = crossover_shape(crossovers_of(p), s.sample_rate);
          long long lookahead = 0;
          for (size_t b = 0; p.type == "multiband" && b < p.bands.size(); ++b)
            lookahead = std::max(lookahead, lookahead_max(s, plan, i, (int)pos, 0.0, (int)b));
          w.stage_latency[i][pos] = w.fir_shapes[i][pos].latency() + lookahead;
        } else if (p.type == "limiter" && !(i == n - 1 && (int)pos == w.delivery_limiter)) {
          w.stage_latency[i][pos] =
              std::max(1LL, lookahead_max(s, plan, i, (int)pos, kLimiterLookaheadMs)) +
              kLimiterExtraDelay;
        }
        chain_latency[i] += w.stage_latency[i][pos];
      }
    }
    // Lag of the master's output relative to each node's input: the latencies of the
    // chains from the node up to the master, its own included.
    std::vector<long long> path(n, -1);
    std::function<long long(int)> path_of = [&](int i) {  // routing is acyclic (validated)
      if (path[i] >= 0) return path[i];
      const int parent = s.nodes[i].output.empty() ? -1 : s.find(s.nodes[i].output);
      return path[i] = chain_latency[i] + (parent >= 0 ? path_of(parent) : 0);
    };
    for (int i = 0; i < n; ++i) path_of(i);
    w.latency = *std::max_element(path.begin(), path.end());
    w.in_delay.assign(n, 0);
    w.out_delay.assign(n, 0);
    for (int i = 0; i < n; ++i) {
      w.in_delay[i] = w.latency - path[i];
      w.out_delay[i] = w.in_delay[i] + chain_latency[i];
      r.nodes[i].latency_samples = chain_latency[i];
    }
    r.latency_samples = w.latency;
  }

  // Inputs are never written: refuse an output folder where a delivered file or the
  // report would land on a stem, a reference or the session file itself.
  if (opt.write_audio) {
    std::vector<std::filesystem::path> inputs = {s.file};
    for (const auto& st : r.stems) inputs.push_back(st.file);
    for (const auto& ref : s.references) inputs.push_back(ref.file);
    auto same = [](const std::filesystem::path& a, const std::filesystem::path& b) {
      std::error_code e1, e2;
      const auto ca = std::filesystem::weakly_canonical(a, e1),
                 cb = std::filesystem::weakly_canonical(b, e2);
      return !e1 && !e2 && ca == cb;
    };
    std::vector<std::filesystem::path> outputs = {
        opt.out_dir / "report.json", opt.out_dir / "report.csv", opt.out_dir / "report.html",
        opt.out_dir / ("master." + s.delivery.format)};
    for (int v = 0; v < plan.variant_count() && !s.variants.sweep.empty(); ++v)
      outputs.push_back(
          opt.out_dir / "variants" /
          (variant_id(plan.variant_ids[v], plan.variant_total) + "." + s.delivery.format));
    for (const auto& out : outputs)
      for (const auto& in : inputs)
        if (same(out, in))
          throw InputError(out.string() + ": this output would overwrite an input (" + in.string() +
                           "); choose another output folder");
  }
  w.settings.assign(s.nodes.size(), {});
  for (size_t i = 0; i < s.nodes.size(); ++i)
    for (const auto& inst : plan.instances[i])
      w.settings[i].push_back(settings_for(s, plan, (int)i, inst));
}

namespace {

bool same_design(const FirDesign& a, const FirDesign& b) {
  if (a.phase != b.phase || a.shape.taps != b.shape.taps || a.shape.fft_size != b.shape.fft_size ||
      a.bands.size() != b.bands.size() || a.band != b.band || a.crossovers != b.crossovers)
    return false;
  for (size_t i = 0; i < a.bands.size(); ++i) {
    const EqBand &x = a.bands[i], &y = b.bands[i];
    if (x.type != y.type || x.freq_hz != y.freq_hz || x.gain_db != y.gain_db || x.q != y.q ||
        x.slope != y.slope)
      return false;
  }
  return true;
}

// The spectrum (complex offset within the session's) of a FIR design, designed once per
// distinct design: variants that share it share the spectrum.
long long design_of(SessionWork& w, const FirDesign& d) {
  for (const FirDesign& e : w.fir_designs)
    if (same_design(e, d)) return e.spectrum;
  FirDesign copy = d;
  copy.spectrum = w.fir_spectrum_bins;
  w.fir_spectrum_bins += d.shape.fft_size / 2 + 1;
  w.fir_designs.push_back(std::move(copy));
  return w.fir_designs.back().spectrum;
}

// The overlap-save spectrum of a FIR design (an EQ or a crossover band). Designs are remembered for
// the process (up to kSpectrumCacheBytes, oldest forgotten first): the passes of auto gain staging
// and the launches of a batch reuse the same EQs.
std::shared_ptr<const std::vector<std::complex<float>>> eq_spectrum(const FirDesign& d, int rate) {
  constexpr size_t kSpectrumCacheBytes = 256u << 20;
  struct Entry {
    FirDesign design;
    int rate;
    std::shared_ptr<const std::vector<std::complex<float>>> bins;
  };
  static std::mutex m;
  static std::vector<Entry> cache;
  {
    std::lock_guard<std::mutex> lock(m);
    for (const Entry& e : cache)
      if (e.rate == rate && same_design(e.design, d)) return e.bins;
  }
  const std::vector<double> taps = design_fir(
      [&](double f) {
        return d.band >= 0 ? crossover_band_magnitude(d.crossovers, d.band, f)
                           : eq_magnitude(d.bands, f);
      },
      rate, d.shape, d.phase);
  auto bins = std::make_shared<const std::vector<std::complex<float>>>(
      fir_spectrum(taps, d.shape.fft_size));
  std::lock_guard<std::mutex> lock(m);
  cache.push_back({d, rate, bins});
  size_t bytes = 0;
  for (const Entry& e : cache) bytes += e.bins->size() * sizeof(std::complex<float>);
  while (bytes > kSpectrumCacheBytes && cache.size() > 1) {
    bytes -= cache.front().bins->size() * sizeof(std::complex<float>);
    cache.erase(cache.begin());
  }
  return bins;
}

// The compressor at chain[pos] of a node instance, with its key, delay lines, state and
// trace allocated in the session's share of the launch's arrays.
// The stream's lag behind the song where chain[pos] of a node reads it.
long long lag_at(const SessionWork& w, int node, int pos) {
  long long lag = w.in_delay[node];
  for (int p = 0; p < pos; ++p) lag += w.stage_latency[node][p];
  return lag;
}

// A gain-reduction trace of the session's song (kTraceHz values a second) in the
// launch's trace array: its offset and length.
void allocate_trace(SessionWork& w, long long& trace, long long& hops) {
  hops = w.frames / trace_hop_frames(w.s->sample_rate) + 1;
  trace = w.trace_offset + w.trace_floats;
  w.trace_floats += hops;
}

// The step's launch of FIRs of this shape (one batched call per shape), made if new.
FirLaunch& launch_for(ChainStep& step, const FirShape& shape) {
  for (auto& f : step.firs)
    if (f.shape.fft_size == shape.fft_size && f.shape.taps == shape.taps) return f;
  step.firs.push_back({shape, {}});
  return step.firs.back();
}

// The FIR job of one stream with a design, in the step's launch of its shape.
void add_fir(SessionWork& w, ChainStep& step, int stream, const FirDesign& d) {
  const long long spectrum = w.fir_spectrum_offset + design_of(w, d);
  launch_for(step, d.shape)
      .jobs.push_back({stream, spectrum, w.fir_state_offset + w.fir_state_floats});
  w.fir_state_floats += fir_state_floats(d.shape.fft_size, d.shape.hop);
}

// Where a compressor runs: its audio and key slots (absolute), the lag of the stream it
// reads, and the audio delay (the largest look-ahead of its stage).
struct CompressorPlace {
  int left, right;
  int key_left, key_right;  // equal to left/right when self-keyed
  long long lag;
  int lookahead;
  int band = -1;       // multiband / de-esser band, for the report
  bool report = true;  // in report.json's dynamics
};

CompressorJob make_compressor(SessionWork& w, int node, int k, int pos, const Processor& proc,
                              const CompressorParams& params, const CompressorPlace& place) {
  const Session& s = *w.s;
  const Plan& plan = w.plan;
  const int so = w.slot_offset;
  CompressorJob job{};
  job.left = place.left;
  job.right = place.right;
  job.key_left = place.key_left;
  job.key_right = place.key_right;
  job.params = w.comp_param_offset + (int)w.comp_params.size();
  w.comp_params.push_back(params);
  job.state = w.comp_state_offset + w.comp_states++;
  job.key_filter = key_filter_of(proc, s.sample_rate);
  const long long lag = place.lag;
  // The audio is delayed by the stage's largest look-ahead; the key by the difference to
  // this instance's own, so every instance has the same latency.
  job.lookahead = place.lookahead;
  long long key_delay =
      job.lookahead - std::llround(proc.number("lookahead_ms", 0.0) * 1e-3 * s.sample_rate);
  const std::string sidechain = proc.text("sidechain", "");
  if (!sidechain.empty()) {
    const int key = s.find(sidechain);
    // The key's instance in a variant that renders this instance.
    int key_k = 0;
    for (int v = 0; v < plan.variant_count(); ++v)
      if (plan.variant_instance[v][node] == k) {
        key_k = plan.variant_instance[v][key];
        break;
      }
    job.key_left = so + plan.instances[key][key_k].out[0];
    job.key_right = so + plan.instances[key][key_k].out[1];
    // Both must lag the song equally: a key with less latency than the compressed signal
    // is delayed to match.
    const long long extra = lag - w.out_delay[key];
    if (extra < 0)
      throw InputError(s.file.string() + ":" + std::to_string(proc.line) + ": " +
                       s.nodes[node].name + "." + proc.id + ".sidechain: the key \"" + sidechain +
                       "\" has " + std::to_string(w.out_delay[key] - lag) +
                       " samples more processing latency than the signal it compresses; "
                       "keying from a node with more linear-phase EQ than the compressed one "
                       "is not supported yet");
    key_delay += extra;
  }
  job.key_delay = (int)key_delay;
  job.ring = w.ring_offset + w.ring_floats;
  w.ring_floats += 2LL * job.lookahead;
  job.key_ring = w.ring_offset + w.ring_floats;
  w.ring_floats += 2LL * job.key_delay;
  job.song_begin = lag + job.lookahead;
  job.song_end = job.song_begin + w.frames;
  allocate_trace(w, job.trace, job.trace_hops);
  if (place.report)
    w.dynamics.push_back({node, k, pos, job.state - w.comp_state_offset, job.trace - w.trace_offset,
                          job.trace_hops, place.band});
  return job;
}

// A compressor at chain[pos] of a node instance, on the node's own streams.
CompressorJob compressor_job(SessionWork& w, int node, int k, int pos, const Processor& proc) {
  const NodeInstance& inst = w.plan.instances[node][k];
  CompressorPlace place;
  place.left = place.key_left = w.slot_offset + inst.out[0];
  place.right = place.key_right = w.slot_offset + inst.out[1];
  place.lag = lag_at(w, node, pos);
  place.lookahead = (int)w.stage_latency[node][pos];
  return make_compressor(w, node, k, pos, proc, compressor_params(proc, w.s->sample_rate), place);
}

// A multiband compressor or a de-esser at chain[pos] of a node instance: the streams are
// copied into band streams (scratch slots of the level), each split by its linear-phase
// crossover FIR (the bands sum to the input delayed), compressed, and summed back.
//  - multiband: each band has its own compressor (bypass: none; solo: only soloed bands
//    are summed);
//  - de-esser: three bands split at low_hz and high_hz; the middle band keys one
//    compressor setting (threshold_db, ratio 4, 1 ms attack, 60 ms release, at most
//    range_db) that reduces the middle band (mode "split") or all three ("wide").
void band_split_jobs(SessionWork& w, int node, int k, int pos, const Processor& proc,
                     ChainStep& step, int& scratch_used) {
  const Session& s = *w.s;
  const NodeInstance& inst = w.plan.instances[node][k];
  const int so = w.slot_offset;
  const int in_l = so + inst.out[0], in_r = so + inst.out[1];
  const bool deesser = proc.type == "deesser";
  const std::vector<double> edges = crossovers_of(proc);
  const int bands = (int)edges.size() + 1;
  const FirShape& shape = w.fir_shapes[node][pos];
  const long long lag = lag_at(w, node, pos) + shape.latency();
  const int lookahead = (int)(w.stage_latency[node][pos] - shape.latency());
  bool any_solo = false;
  for (const auto& b : proc.bands) {
    auto v = b.values.find("solo");
    any_solo |= v != b.values.end() && v->second.flag;
  }
  // Band streams: scratch slots after the plan's.
  std::vector<int> bl(bands), br(bands);
  for (int b = 0; b < bands; ++b) {
    bl[b] = so + w.plan.slot_count + scratch_used++;
    br[b] = so + w.plan.slot_count + scratch_used++;
    const int t = (int)step.terms.size();
    step.terms.push_back({in_l, 1.0f, 0.0f});
    step.terms.push_back({in_r, 0.0f, 1.0f});
    step.pre_sums.push_back({bl[b], br[b], t, 2});
    FirDesign d;
    d.crossovers = edges;
    d.band = b;
    d.shape = shape;
    for (int ch : {bl[b], br[b]}) add_fir(w, step, ch, d);
  }
  CompressorParams unity{};  // a pure delay (bands without a compressor, when look-ahead)
  unity.attack = unity.release = unity.release_slow = unity.memory = unity.rms_coeff = 0.5f;
  unity.mix = 1.0f;
  unity.link = 1.0f;
  unity.knee_start_power = HUGE_VALF;
  for (int b = 0; b < bands; ++b) {
    CompressorPlace place;
    place.left = place.key_left = bl[b];
    place.right = place.key_right = br[b];
    place.lag = lag;
    place.lookahead = lookahead;
    place.band = b;
    if (deesser) {
      const bool wide = proc.text("mode", "split") == "wide";
      if (b == 1 || wide) {
        Processor c;  // the de-esser's compressor
        c.values["threshold_db"].number = proc.number("threshold_db", -30.0);
        c.values["ratio"].number = 4.0;
        c.values["knee_db"].number = 0.0;
        c.values["attack_ms"].number = 1.0;
        c.values["release_ms"].number = 60.0;
        CompressorParams cp = compressor_params(c, s.sample_rate);
        cp.range_db = (float)proc.number("range_db", 6.0);
        place.key_left = bl[1];
        place.key_right = br[1];
        place.report = b == 1;
        step.compressors.push_back(make_compressor(w, node, k, pos, proc, cp, place));
      }
      continue;
    }
    const Processor& band = proc.bands[b];
    auto by = band.values.find("bypass");
    if (by != band.values.end() && by->second.flag) {
      if (lookahead > 0) {
        place.report = false;
        step.compressors.push_back(make_compressor(w, node, k, pos, band, unity, place));
      }
      continue;
    }
    step.compressors.push_back(
        make_compressor(w, node, k, pos, band, compressor_params(band, s.sample_rate), place));
  }
  const int t = (int)step.terms.size();
  for (int b = 0; b < bands; ++b) {
    float g = 1.0f;
    if (!deesser && any_solo) {
      auto v = proc.bands[b].values.find("solo");
      g = v != proc.bands[b].values.end() && v->second.flag ? 1.0f : 0.0f;
    }
    step.terms.push_back({bl[b], g, 0.0f});
    step.terms.push_back({br[b], 0.0f, g});
  }
  step.post_sums.push_back({in_l, in_r, t, 2 * bands});
}

// A streaming limiter at chain[pos] of a node instance.
LimiterJob limiter_job(SessionWork& w, int node, int k, int pos, const Processor& proc) {
  const Session& s = *w.s;
  const NodeInstance& inst = w.plan.instances[node][k];
  LimiterJob job{};
  job.left = w.slot_offset + inst.out[0];
  job.right = w.slot_offset + inst.out[1];
  const int latency = (int)w.stage_latency[node][pos];
  const LimiterParams p = limiter_params(proc, s.sample_rate, latency - kLimiterExtraDelay);
  job.params = w.lim_param_offset + (int)w.lim_params.size();
  w.lim_params.push_back(p);
  job.state = w.lim_state_offset + w.lim_states++;
  job.ring = w.lim_ring_offset + w.lim_ring_floats;
  w.lim_ring_floats += limiter_ring_floats(p.lookahead, p.pad);
  job.song_begin = lag_at(w, node, pos + 1);  // at its output
  job.song_end = job.song_begin + w.frames;
  allocate_trace(w, job.trace, job.trace_hops);
  w.limiter_dynamics.push_back({node, k, pos, job.state - w.lim_state_offset,
                                job.trace - w.trace_offset, job.trace_hops, -1});
  return job;
}

// The imager at chain[pos] of a node instance, in mid/side: M = (L + R) / 2 and
// S = (L - R) / 2 into two scratch streams; with mono lows, S through a linear-phase
// high-pass at mono_below_hz (1 - lp of the crossovers: below it the side is gone, above it
// untouched) and M through the flat FIR of the same length (a pure delay); then
// L = bl (M + w S), R = br (M - w S) with w = width_pct / 100 and (bl, br) the balance law.
void imager_jobs(SessionWork& w, int node, int k, int pos, const Processor& proc, ChainStep& step,
                 int& scratch_used) {
  const NodeInstance& inst = w.plan.instances[node][k];
  const int so = w.slot_offset;
  const int l = so + inst.out[0], r = so + inst.out[1];
  const int m = so + w.plan.slot_count + scratch_used++;
  const int side = so + w.plan.slot_count + scratch_used++;
  const int t = (int)step.terms.size();
  step.terms.push_back({l, 0.5f, 0.5f});
  step.terms.push_back({r, 0.5f, -0.5f});
  step.pre_sums.push_back({m, side, t, 2});
  const FirShape& shape = w.fir_shapes[node][pos];
  if (shape.taps > 0) {
    FirDesign flat;  // no edges, band 0: magnitude 1
    flat.band = 0;
    flat.shape = shape;
    add_fir(w, step, m, flat);
    FirDesign high = flat;
    const double hz = proc.number("mono_below_hz", 0.0);
    if (hz > 0.0) {
      high.crossovers = {hz};
      high.band = 1;
    }
    add_fir(w, step, side, high);
  }
  const float width = (float)(proc.number("width_pct", 100.0) / 100.0);
  const StereoGains b = balance_gains((float)proc.number("balance", 0.0));
  const int u = (int)step.terms.size();
  step.terms.push_back({m, b.left, b.right});
  step.terms.push_back({side, b.left * width, -b.right * width});
  step.post_sums.push_back({l, r, u, 2});
}

// The jobs of every level, with indices offset into the launch's shared arenas.
void build_jobs(SessionWork& w) {
  const Session& s = *w.s;
  const Plan& plan = w.plan;
  const int so = w.slot_offset;
  // The constant gains a folded node applies to each channel: gain_db with pan or
  // balance, the chain's gain processors, the fader, mute and solo (plan.h: folded nodes
  // have no automation and no other processing).
  auto folded_gains = [&](int node, int k) {
    const Node& n = s.nodes[node];
    const NodeSettings& st = w.settings[node][k];
    TrackInputJob job{};
    job.gain_db = (float)st.gain_db;
    job.pan = (float)st.pan;
    job.pan_law = (int)pan_law_of(n.pan_law_db.value_or(s.pan_law_db));
    job.mute_gain = 1.0f;
    job.stereo_source = n.kind != NodeKind::kTrack || plan.sources[node].size() > 1;
    const StereoGains g = track_input_gains(job, nullptr, 0.0);
    float after = plan.audible[node] ? db_to_gain((float)st.fader_db) : 0.0f;
    after *= chain_gain(st.chain);
    return StereoGains{g.left * after, g.right * after};
  };
  // The terms a node instance adds to the sum of the bus that reads it.
  std::function<void(int, int, float, float, std::vector<SumTerm>&)> add_terms =
      [&](int node, int k, float gl, float gr, std::vector<SumTerm>& out) {
        const NodeInstance& inst = plan.instances[node][k];
        if (!plan.folded[node]) {
          if (gl != 0.0f) out.push_back({so + inst.out[0], gl, 0.0f});
          if (gr != 0.0f) out.push_back({so + inst.out[1], 0.0f, gr});
          return;
        }
        const StereoGains g = folded_gains(node, k);
        if (s.nodes[node].kind == NodeKind::kTrack) {
          const auto& src = plan.sources[node];
          const float l = gl * g.left, rr = gr * g.right;
          if (src.size() == 1) {
            if (l != 0.0f || rr != 0.0f) out.push_back({so + src[0], l, rr});
          } else {
            if (l != 0.0f) out.push_back({so + src[0], l, 0.0f});
            if (rr != 0.0f) out.push_back({so + src[1], 0.0f, rr});
          }
          return;
        }
        for (size_t j = 0; j < inst.inputs.size(); ++j)
          add_terms(inst.input_nodes[j], inst.inputs[j], gl * g.left, gr * g.right, out);
      };

  w.levels.assign(plan.levels.size(), {});
  for (size_t l = 0; l < plan.levels.size(); ++l) {
    LevelJobs& lj = w.levels[l];
    size_t max_chain = 0;
    for (int node : plan.levels[l]) {
      if (plan.folded[node]) continue;  // mixed into its reader's sum
      const Node& n = s.nodes[node];
      for (size_t k = 0; k < plan.instances[node].size(); ++k) {
        const NodeInstance& inst = plan.instances[node][k];
        const NodeSettings& st = w.settings[node][k];
        max_chain = std::max(max_chain, st.chain.size());
        TrackInputJob job{};
        if (n.kind == NodeKind::kTrack) {
          const auto& src = plan.sources[node];
          job.src_left = so + src[0];
          job.src_right = so + (src.size() > 1 ? src[1] : src[0]);
          job.stereo_source = src.size() > 1;
        } else {
          SumJob sj{so + inst.out[0], so + inst.out[1], (int)lj.terms.size(), 0};
          for (size_t j = 0; j < inst.inputs.size(); ++j)
            add_terms(inst.input_nodes[j], inst.inputs[j], 1.0f, 1.0f, lj.terms);
          sj.term_count = (int)lj.terms.size() - sj.term_offset;
          lj.sums.push_back(sj);
          job.src_left = so + inst.out[0];
          job.src_right = so + inst.out[1];
          job.stereo_source = 1;
        }
        job.dst_left = so + inst.out[0];
        job.dst_right = so + inst.out[1];
        job.gain_db = (float)st.gain_db;
        job.pan = (float)st.pan;
        job.pan_law = (int)pan_law_of(n.pan_law_db.value_or(s.pan_law_db));
        job.mute_gain = 1.0f;
        for (const auto& au : n.automation) {
          const int offset = (int)lj.points.size();
          // Breakpoints on the node's input stream, which lags the song by in_delay.
          for (const auto& pt : au.points)
            lj.points.push_back(
                {pt.time_s * s.sample_rate + (double)w.in_delay[node], (float)pt.value});
          if (au.param == "gain_db") {
            job.gain_env_offset = offset;
            job.gain_env_count = (int)au.points.size();
          } else {
            job.pan_env_offset = offset;
            job.pan_env_count = (int)au.points.size();
          }
        }
        const bool identity = n.kind != NodeKind::kTrack && job.gain_db == 0.0f &&
                              job.pan == 0.0f && job.gain_env_count == 0 && job.pan_env_count == 0;
        if (!identity) lj.inputs.push_back(job);
        const float fader = plan.audible[node] ? db_to_gain((float)st.fader_db) : 0.0f;
        if (fader != 1.0f)
          for (int c = 0; c < 2; ++c) lj.faders.push_back({so + inst.out[c], fader});
        // Metered: the master, every bus (unless the render asks not to), and tracks with
        // an imager (their stereo image: correlation) when buses are metered.
        const bool imaged = std::any_of(n.chain.begin(), n.chain.end(), [](const Processor& p) {
          return p.type == "imager" && enabled(p);
        });
        if (n.kind == NodeKind::kMaster ||
            ((n.kind == NodeKind::kBus || imaged) && w.opt.bus_meters)) {
          const int index = w.meter_offset + (int)w.metered.size();
          w.metered.push_back({node, (int)k});
          const long long in = w.in_delay[node], out = w.out_delay[node];
          lj.pre_chain_peaks.push_back({so + inst.out[0], index, in, in + w.frames});
          lj.pre_chain_peaks.push_back({so + inst.out[1], index, in, in + w.frames});
          lj.meters.push_back({so + inst.out[0], so + inst.out[1], 2, index, out, out + w.frames});
        }
      }
    }
    // The chains, position by position; one launch per processor type (and FIR shape) at
    // each position.
    int scratch_used = 0;  // band streams of this level
    for (size_t pos = 0; pos < max_chain; ++pos) {
      ChainStep step;
      for (int node : plan.levels[l]) {
        if (plan.folded[node]) continue;
        for (size_t k = 0; k < plan.instances[node].size(); ++k) {
          const NodeSettings& st = w.settings[node][k];
          if (pos >= st.chain.size() || !enabled(st.chain[pos])) continue;
          const Processor& proc = st.chain[pos];
          const NodeInstance& inst = plan.instances[node][k];
          if (proc.type == "gain") {
            const float g = chain_gain({proc});
            for (int c = 0; c < 2; ++c) step.gains.push_back({so + inst.out[c], g});
          } else if (proc.type == "eq") {
            const FirShape& shape = w.fir_shapes[node][pos];
            if (shape.taps == 0) continue;  // no enabled band: nothing to do
            FirDesign d;
            d.bands = eq_bands_of(proc);
            d.phase = eq_phase(proc);
            d.shape = shape;
            for (int c = 0; c < 2; ++c) add_fir(w, step, so + inst.out[c], d);
          } else if (proc.type == "compressor") {
            step.compressors.push_back(compressor_job(w, node, (int)k, (int)pos, proc));
          } else if (proc.type == "limiter") {
            if (node == (int)s.nodes.size() - 1 && (int)pos == w.delivery_limiter) continue;
            step.limiters.push_back(limiter_job(w, node, (int)k, (int)pos, proc));
          } else if (proc.type == "multiband" || proc.type == "deesser") {
            band_split_jobs(w, node, (int)k, (int)pos, proc, step, scratch_used);
          } else if (proc.type == "imager") {
            imager_jobs(w, node, (int)k, (int)pos, proc, step, scratch_used);
          } else if (proc.type == "saturation") {
            const SaturationParams sp =
                saturation_params(proc, s.sample_rate, (int)w.stage_latency[node][pos]);
            SaturationJob job{};
            job.left = so + inst.out[0];
            job.right = so + inst.out[1];
            job.params = w.sat_param_offset + (int)w.sat_params.size();
            w.sat_params.push_back(sp);
            job.state = w.sat_state_offset + w.sat_states++;
            job.memory = w.sat_memory_offset + w.sat_memory_floats;
            w.sat_memory_floats += 2 * sat_channel_floats(sp);
            step.saturations.push_back(job);
          }
        }
      }
      lj.chain.push_back(std::move(step));
    }
    w.scratch_slots = std::max(w.scratch_slots, scratch_used);
  }
}

// Appends b's jobs to a's, rebasing the offsets into b's point and term arrays.
void append_level(LevelJobs& a, const LevelJobs& b) {
  const int points = (int)a.points.size(), terms = (int)a.terms.size();
  for (TrackInputJob j : b.inputs) {
    if (j.gain_env_count) j.gain_env_offset += points;
    if (j.pan_env_count) j.pan_env_offset += points;
    a.inputs.push_back(j);
  }
  a.points.insert(a.points.end(), b.points.begin(), b.points.end());
  for (SumJob j : b.sums) {
    j.term_offset += terms;
    a.sums.push_back(j);
  }
  a.terms.insert(a.terms.end(), b.terms.begin(), b.terms.end());
  if (a.chain.size() < b.chain.size()) a.chain.resize(b.chain.size());
  for (size_t p = 0; p < b.chain.size(); ++p) {
    ChainStep& to = a.chain[p];
    const int base = (int)to.terms.size();
    for (SumJob j : b.chain[p].pre_sums) {
      j.term_offset += base;
      to.pre_sums.push_back(j);
    }
    for (SumJob j : b.chain[p].post_sums) {
      j.term_offset += base;
      to.post_sums.push_back(j);
    }
    to.terms.insert(to.terms.end(), b.chain[p].terms.begin(), b.chain[p].terms.end());
    to.gains.insert(to.gains.end(), b.chain[p].gains.begin(), b.chain[p].gains.end());
    to.compressors.insert(to.compressors.end(), b.chain[p].compressors.begin(),
                          b.chain[p].compressors.end());
    to.limiters.insert(to.limiters.end(), b.chain[p].limiters.begin(), b.chain[p].limiters.end());
    to.saturations.insert(to.saturations.end(), b.chain[p].saturations.begin(),
                          b.chain[p].saturations.end());
    for (const FirLaunch& f : b.chain[p].firs) {
      FirLaunch& into = launch_for(to, f.shape);
      into.jobs.insert(into.jobs.end(), f.jobs.begin(), f.jobs.end());
    }
  }
  a.faders.insert(a.faders.end(), b.faders.begin(), b.faders.end());
  a.pre_chain_peaks.insert(a.pre_chain_peaks.end(), b.pre_chain_peaks.begin(),
                           b.pre_chain_peaks.end());
  a.meters.insert(a.meters.end(), b.meters.begin(), b.meters.end());
}

// The delivery limiter run over a whole kept master at one drive, and measured.
struct Limited {
  double drive_db = 0;
  std::vector<std::vector<float>> audio;
  Readings readings;
  StereoSpectra spectra;
  double reduction_p99_db = 0, reduction_max_db = 0;
  std::vector<float> trace_db;  // the largest reduction of every 1 / kTraceHz s
};

Limited limit_at(const std::vector<std::vector<float>>& in, LimiterParams p, double drive_db,
                 int rate, const MeterOptions& mo) {
  Limited out;
  out.drive_db = drive_db;
  p.drive = (float)std::pow(10.0, drive_db / 20.0);
  const long long frames = (long long)in[0].size();
  out.audio.assign(2, std::vector<float>(frames));
  std::vector<float> gain(frames);
  cpu::limiter_whole(p, design_true_peak_filter(rate), in[0].data(), in[1].data(), frames,
                     out.audio[0].data(), out.audio[1].data(), gain.data());
  std::vector<long long> histogram(3001, 0);  // gain reduction in 0.01 dB steps
  const long long hop = trace_hop_frames(rate);
  out.trace_db.assign((size_t)(frames / hop + 1), 0.0f);
  for (long long n = 0; n < frames; ++n) {
    const float g = gain[(size_t)n];
    const double reduction = g < 1.0f ? -20.0 * std::log10((double)g) : 0.0;
    float& t = out.trace_db[(size_t)(n / hop)];
    t = std::max(t, (float)reduction);
    out.reduction_max_db = std::max(out.reduction_max_db, reduction);
    ++histogram[std::min<long long>(3000, std::llround(reduction * 100))];
  }
  long long seen = 0;
  for (int b = 0; b <= 3000; ++b)
    if ((seen += histogram[b]) >= 0.99 * frames) {
      out.reduction_p99_db = b / 100.0;
      break;
    }
  const FileAnalysis a = analyze_audio(out.audio, rate, "cpu", mo);
  out.readings = a.readings;
  out.spectra = a.spectra;
  return out;
}

// Drives the delivery limiter so that the delivered loudness meets the target within
// 0.05 LU (secant steps on the drive; loudness grows by at most 1 LU per dB of drive), then
// backs off if that needs more than max_reduction_db of limiting (its 99th percentile).
Limited drive_to_target(const std::vector<std::vector<float>>& in, const LimiterParams& p,
                        double target, double rendered_lufs, double max_reduction_db, int rate,
                        const MeterOptions& mo, std::vector<std::string>& warnings) {
  double d0 = target - rendered_lufs;
  Limited a = limit_at(in, p, d0, rate, mo);
  if (!std::isfinite(a.readings.integrated_lufs)) return a;
  double d1 = d0 + (target - a.readings.integrated_lufs);
  Limited b = a;
  for (int i = 0; i < 8 && std::fabs(target - b.readings.integrated_lufs) > 0.05; ++i) {
    if (d1 != b.drive_db) b = limit_at(in, p, d1, rate, mo);
    const double err = target - b.readings.integrated_lufs;
    if (std::fabs(err) <= 0.05) break;
    double slope = (b.readings.integrated_lufs - a.readings.integrated_lufs) /
                   (b.drive_db - a.drive_db != 0 ? b.drive_db - a.drive_db : 1.0);
    slope = std::clamp(slope, 0.05, 1.0);
    a = b;
    d1 = b.drive_db + err / slope;
  }
  // The limiter follows the meter's own interpolator, but the gain it applies varies
  // along the interpolator's 16 taps: a residual of a few thousandths of a dB can remain.
  // Measured on the output; the ceiling is lowered by the excess until none remains.
  const double ceiling_db = 20.0 * std::log10((double)p.ceiling);
  LimiterParams q = p;
  for (int i = 0; i < 4 && b.readings.true_peak_dbtp > ceiling_db; ++i) {
    q.ceiling *= (float)std::pow(10.0, -(b.readings.true_peak_dbtp - ceiling_db + 0.002) / 20.0);
    b = limit_at(in, q, b.drive_db, rate, mo);
  }
  if (b.reduction_p99_db > max_reduction_db) {
    // Back off to the drive that limits by the allowed amount (reduction follows drive
    // about 1:1 once limiting); report it instead of crushing the mix.
    const double reached = b.readings.integrated_lufs;
    double d = b.drive_db - (b.reduction_p99_db - max_reduction_db);
    for (int i = 0; i < 3; ++i) {
      b = limit_at(in, q, d, rate, mo);
      if (b.reduction_p99_db <= max_reduction_db + 0.1) break;
      d -= b.reduction_p99_db - max_reduction_db;
    }
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(2);
    os << "reaching " << target << " LUFS (" << reached << " LUFS at that drive) needs more "
       << "than max_reduction_db = " << max_reduction_db << " dB of limiting: delivered at "
       << b.readings.integrated_lufs << " LUFS with " << b.reduction_p99_db
       << " dB of limiting (99th percentile)";
    warnings.push_back(os.str());
  }
  return b;
}

// The session's references and the render's --reference files, each measured like a
// delivered master (BS.1770-4 loudness, LRA, peaks, correlation, 1/3-octave spectrum).
std::vector<std::pair<Reference, Measured>> measure_references(const SessionWork& w) {
  std::vector<Reference> refs = w.s->references;
  for (const auto& f : w.opt.references) refs.push_back({f, 1.0, 0});
  std::vector<std::pair<Reference, Measured>> out;
  MeterOptions mo;
  mo.series = true;
  for (const auto& ref : refs) {
    const FileAnalysis a = analyze_file(ref.file, "cpu", mo);
    out.emplace_back(ref, Measured{a.readings, a.spectra});
  }
  return out;
}

// Readings, delivery and files of one session after its launch.
void finish(SessionWork& w, Backend& backend, std::vector<MeterState>& states,
            std::vector<MeterHop>& hops, long long hops_per_state,
            const std::vector<float>& pre_chain_peaks,
            const std::vector<MidSideBins>& spectrum_bins) {
  const Session& s = *w.s;
  const RenderOptions& opt = w.opt;
  const Plan& plan = w.plan;
  RenderResult& r = w.r;
  auto progress = [&](const std::string& stage, double f) {
    if (opt.progress) opt.progress(stage, f);
  };
  const auto t_measure = Clock::now();
  MeterOptions mo;
  mo.series = true;  // the VU trace goes into the report
  mo.vu_reference_dbfs = s.vu_reference_dbfs;
  r.headroom_dbfs = s.headroom_dbfs;
  r.vu_reference_dbfs = s.vu_reference_dbfs;
  std::vector<Readings> readings(w.metered.size());
  std::vector<StereoSpectra> spectra(w.metered.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long m = 0; m < (long long)w.metered.size(); ++m) {
    const long long g = w.meter_offset + m;
    MeterHop* h = hops.data() + g * hops_per_state;
    meter_finish(states[g], h, 2);
    readings[m] = compute_readings(states[g], h, 2, s.sample_rate, mo);
    spectra[m] = stereo_spectra(spectrum_bins[g].mid, spectrum_bins[g].side, s.sample_rate);
  }
  const int master = (int)s.nodes.size() - 1;
  std::vector<int> master_state(plan.instances[master].size(), -1);
  for (size_t m = 0; m < w.metered.size(); ++m) {
    const int node = w.metered[m].node, k = w.metered[m].k;
    if (node == master) master_state[k] = (int)m;
    NodeMeters nm;
    nm.node = s.nodes[node].name;
    nm.kind = s.nodes[node].kind == NodeKind::kMaster ? "master"
              : s.nodes[node].kind == NodeKind::kBus  ? "bus"
                                                      : "track";
    for (size_t a = 0; a < plan.reaching_axes[node].size(); ++a) {
      const int axis = plan.reaching_axes[node][a];
      nm.params.emplace_back(s.variants.sweep[axis].path,
                             s.variants.sweep[axis].values[plan.instances[node][k].choice[a]]);
    }
    nm.readings = readings[m];
    nm.spectrum = spectra[m].total;
    nm.pre_chain_peak_dbfs = gain_to_db(pre_chain_peaks[w.meter_offset + m]);
    nm.exceeds_headroom = nm.pre_chain_peak_dbfs > s.headroom_dbfs + 1e-9;
    r.meters.push_back(std::move(nm));
  }
  r.timings.measure_s = seconds_since(t_measure);

  const auto t_write = Clock::now();
  const bool has_variants = !s.variants.sweep.empty();
  if (opt.write_audio && has_variants)
    std::filesystem::create_directories(opt.out_dir / "variants");
  // References, measured once: the comparison of every variant with them.
  std::vector<std::pair<Reference, Measured>> references = measure_references(w);
  for (const auto& [ref, m] : references) r.references.push_back({ref.file, ref.weight, m});
  auto deliver = [&](int v, bool write) {
    const int k = plan.variant_instance[v][master];
    VariantResult vr;
    vr.id = has_variants ? variant_id(plan.variant_ids[v], plan.variant_total) : "master";
    for (size_t a = 0; a < s.variants.sweep.size(); ++a)
      vr.params.emplace_back(s.variants.sweep[a].path,
                             s.variants.sweep[a].values[plan.variants[v][a]]);
    const Readings& mr = readings[master_state[k]];
    vr.rendered_lufs = mr.integrated_lufs;
    double gain_db = 0.0;
    // The delivery limiter: driven to the target on the kept master, written as it is.
    std::vector<std::vector<float>> limited;
    if (w.delivery_limiter >= 0 && std::isfinite(vr.rendered_lufs)) {
      const Processor& lp = w.settings[master][k].chain[w.delivery_limiter];
      std::vector<float> inter;
      backend.deliver_float(w.keep_offset + 2 * k, w.keep_offset + 2 * k + 1, 1.0f, w.frames,
                            inter);
      std::vector<std::vector<float>> in(2, std::vector<float>(w.frames));
      for (long long n = 0; n < w.frames; ++n) in[0][n] = inter[2 * n], in[1][n] = inter[2 * n + 1];
      const LimiterParams lparams =
          limiter_params(lp, s.sample_rate, limiter_lookahead(lp, s.sample_rate));
      Limited L =
          drive_to_target(in, lparams, *s.delivery.target_lufs, vr.rendered_lufs,
                          lp.number("max_reduction_db", 6.0), s.sample_rate, mo, vr.warnings);
      vr.limited = true;
      vr.limiter_drive_db = L.drive_db;
      vr.limiter_reduction_p99_db = L.reduction_p99_db;
      vr.limiter_reduction_max_db = L.reduction_max_db;
      vr.limiter_trace_db = std::move(L.trace_db);
      vr.limiter_id = lp.id;
      vr.readings = L.readings;
      vr.spectra = L.spectra;
      limited = std::move(L.audio);
    }
    if (!limited.empty()) {
      // Measured on the delivered audio itself: no delivery gain.
    } else if (s.delivery.target_lufs) {
      if (std::isfinite(vr.rendered_lufs))
        gain_db = *s.delivery.target_lufs - vr.rendered_lufs;
      else
        vr.warnings.push_back(
            "the mix is silent (no block above -70 LUFS): delivered without loudness "
            "normalisation");
    }
    // Every level figure shifts exactly by the delivery gain (loudness, peaks, RMS and VU
    // are homogeneous in gain); ratios (LRA, crest, PLR, correlation) do not move.
    if (limited.empty()) {
      vr.readings = shift_readings(mr, gain_db);
      vr.spectra = spectra[master_state[k]];
      shift_spectra(vr.spectra, gain_db);
    }
    vr.delivery_gain_db = gain_db;
    vr.delivered_lufs = vr.readings.integrated_lufs;
    vr.sample_peak_dbfs = vr.readings.sample_peak_dbfs;
    vr.true_peak_dbtp = vr.readings.true_peak_dbtp;
    if (vr.true_peak_dbtp > s.delivery.ceiling_dbtp) {
      std::ostringstream os;
      os.setf(std::ios::fixed);
      os.precision(2);
      os << "true peak " << vr.true_peak_dbtp << " dBTP is above the ceiling of "
         << s.delivery.ceiling_dbtp << " dBTP"
         << (limited.empty() ? " (end the master's chain with a limiter to deliver under it)" : "");
      vr.warnings.push_back(os.str());
    }
    if (s.delivery.bit_depth != 32 && vr.sample_peak_dbfs > 0.0) {
      std::ostringstream os;
      os.setf(std::ios::fixed);
      os.precision(2);
      os << "sample peak " << vr.sample_peak_dbfs << " dBFS: the fixed-point file clips";
      vr.warnings.push_back(os.str());
    }
    vr.comparisons.clear();
    for (const auto& [ref, measured] : references) {
      Comparison c = compare(Measured{vr.readings, vr.spectra}, measured, s.ranking);
      c.reference = ref.file.filename().string();
      c.weight = ref.weight;
      vr.comparisons.push_back(std::move(c));
    }
    // Held to the report's precision (0.0001): variants that differ by less tie and keep
    // their order, so a ranking merged from shards' reports is the same as a single one.
    vr.score = std::round(blended_score(vr.comparisons) * 1e4) / 1e4;
    if (write) {
      vr.file = has_variants ? opt.out_dir / "variants" / (vr.id + "." + s.delivery.format)
                             : opt.out_dir / ("master." + s.delivery.format);
      WriteSpec ws{s.delivery.format, s.delivery.bit_depth, s.sample_rate};
      const float g = db_to_gain((float)gain_db);
      const int left = w.keep_offset + 2 * k;
      if (!limited.empty()) {
        // The limited audio is on the host: the CPU delivery path over it.
        std::vector<float> planar(2 * (size_t)w.frames);
        std::copy(limited[0].begin(), limited[0].end(), planar.begin());
        std::copy(limited[1].begin(), limited[1].end(), planar.begin() + w.frames);
        const StreamArena arena{planar.data(), w.frames, w.frames, 0};
        if (s.delivery.bit_depth == 32) {
          std::vector<float> out(2 * (size_t)w.frames);
          cpu::deliver_float(arena, 0, 1, 1.0f, w.frames, out.data());
          write_audio_atomic(vr.file, ws, 2, nullptr, out.data(), w.frames);
        } else {
          std::vector<int32_t> out(2 * (size_t)w.frames);
          cpu::deliver_pcm(arena, 0, 1, 1.0f, s.delivery.dither_seed, s.delivery.bit_depth,
                           w.frames, out.data());
          write_audio_atomic(vr.file, ws, 2, out.data(), nullptr, w.frames);
        }
      } else if (s.delivery.bit_depth == 32) {
        std::vector<float> out;
        backend.deliver_float(left, left + 1, g, w.frames, out);
        write_audio_atomic(vr.file, ws, 2, nullptr, out.data(), w.frames);
      } else {
        std::vector<int32_t> out;
        backend.deliver_pcm(left, left + 1, g, s.delivery.dither_seed, s.delivery.bit_depth,
                            w.frames, out);
        write_audio_atomic(vr.file, ws, 2, out.data(), nullptr, w.frames);
      }
    }
    return vr;
  };
  // Every variant measured and compared; the audio of those asked for written (top:K:
  // after the ranking, the chosen ones delivered again: the same bits).
  // Variants are delivered in parallel on the CPU backend (each one's limiter passes and
  // measurements are independent; the CUDA backend's copies share one stream), as many at
  // once as a quarter of the memory holds (a delivery keeps about 8 stereo copies).
  const std::string mode = opt.write_audio ? opt.write_variants : "none";
  const int count = plan.variant_count();
  const double per_delivery = 64.0 * (double)std::max<long long>(1, w.frames);
  const int threads = backend.name() != "cpu"
                          ? 1
                          : (int)std::clamp(0.25 * physical_memory_bytes() / per_delivery, 1.0,
                                            (double)std::max(1, omp_get_max_threads()));
  r.variants.assign(count, VariantResult{});
  std::exception_ptr failure;
  std::atomic<int> delivered{0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int v = 0; v < count; ++v) {
    try {
      r.variants[v] = deliver(v, mode == "all");
    } catch (...) {
#pragma omp critical(td_deliver_failure)
      if (!failure) failure = std::current_exception();
    }
    const int done = ++delivered;
    if (omp_get_thread_num() == 0) progress("write", (double)done / count);
  }
  if (failure) std::rethrow_exception(failure);
  if (count > 0) progress("write", 1.0);
  std::vector<int> order(r.variants.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = (int)i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return r.variants[a].score < r.variants[b].score; });
  for (size_t i = 0; i < order.size(); ++i) r.variants[order[i]].rank = (int)i + 1;
  if (mode.rfind("top:", 0) == 0) {
    const int k = std::stoi(mode.substr(4));
    for (int i = 0; i < k && i < (int)order.size(); ++i) {
      const int rank = r.variants[order[i]].rank;
      r.variants[order[i]] = deliver(order[i], true);
      r.variants[order[i]].rank = rank;
    }
  }
  r.timings.write_s = seconds_since(t_write);
}

// Each compressor's gain reduction: maximum, mean and trace.
void report_dynamics(SessionWork& w, const std::vector<CompressorState>& states,
                     const std::vector<LimiterState>& limiters, const std::vector<float>& traces) {
  const Session& s = *w.s;
  std::vector<std::pair<const SessionWork::Dynamics*, bool>> all;
  for (const auto& d : w.dynamics) all.emplace_back(&d, false);
  for (const auto& d : w.limiter_dynamics) all.emplace_back(&d, true);
  for (const auto& [dp, is_limiter] : all) {
    const SessionWork::Dynamics& d = *dp;
    double sum, max;
    if (is_limiter) {
      sum = limiters[w.lim_state_offset + d.state].reduction_sum;
      max = limiters[w.lim_state_offset + d.state].reduction_max;
    } else {
      sum = (double)states[w.comp_state_offset + d.state].reduction_sum_q * kReductionQuantum;
      max = states[w.comp_state_offset + d.state].reduction_max;
    }
    DynamicsMeters m;
    m.node = s.nodes[d.node].name;
    const Processor& proc = s.nodes[d.node].chain[d.pos];
    m.processor = proc.id;
    if (d.band >= 0)
      m.processor +=
          "." + (proc.type == "deesser" ? std::string("sibilance") : proc.bands[d.band].id);
    for (size_t a = 0; a < w.plan.reaching_axes[d.node].size(); ++a) {
      const int axis = w.plan.reaching_axes[d.node][a];
      m.params.emplace_back(s.variants.sweep[axis].path,
                            s.variants.sweep[axis].values[w.plan.instances[d.node][d.k].choice[a]]);
    }
    m.max_db = max;
    m.mean_db = sum / std::max<long long>(1, w.frames);
    m.trace_hz = kTraceHz;
    const float* t = traces.data() + w.trace_offset + d.trace;
    m.trace_db.assign(t, t + d.hops);
    w.r.dynamics.push_back(std::move(m));
  }
}

}  // namespace

void open_readers(std::vector<SessionWork*>& group) {
  struct TrackRef {
    SessionWork* w;
    size_t t;
  };
  std::vector<TrackRef> todo;
  for (SessionWork* w : group) {
    if (w->readers.size() == w->tracks.size()) continue;  // opened before
    w->readers.resize(w->tracks.size());
    for (size_t t = 0; t < w->tracks.size(); ++t) todo.push_back({w, t});
  }
  std::vector<std::string> errors(todo.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long i = 0; i < (long long)todo.size(); ++i) {
    SessionWork& w = *todo[i].w;
    try {
      w.readers[todo[i].t] = (*w.stems)[w.stem_of[w.tracks[todo[i].t]]].open();
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  }
  for (size_t i = 0; i < todo.size(); ++i)  // the first error of a session, in track order
    if (!errors[i].empty() && todo[i].w->error.empty()) todo[i].w->error = errors[i];
}

void render_launch(std::vector<SessionWork*>& group, const RenderOptions& opt) {
  const int rate = group.front()->s->sample_rate;
  int slots = 0, meters = 0, keeps = 0;
  long long frames = 0;         // the longest song: what the keep arena holds
  long long render_frames = 0;  // the longest song plus its latency: what is rendered
  long long fir_states = 0, fir_bins = 0;
  std::vector<CompressorParams> comp_params;
  int comp_states = 0;
  long long ring_floats = 0, trace_floats = 0;
  std::vector<LimiterParams> lim_params;
  int lim_states = 0;
  long long lim_ring_floats = 0;
  std::vector<SaturationParams> sat_params;
  int sat_states = 0;
  long long sat_memory = 0;
  size_t max_levels = 0;
  for (SessionWork* w : group) {
    w->slot_offset = slots;
    w->meter_offset = meters;
    w->keep_offset = keeps;
    w->fir_state_offset = fir_states;
    w->fir_spectrum_offset = fir_bins;
    w->comp_param_offset = (int)comp_params.size();
    w->comp_state_offset = comp_states;
    w->ring_offset = ring_floats;
    w->trace_offset = trace_floats;
    w->lim_param_offset = (int)lim_params.size();
    w->lim_state_offset = lim_states;
    w->lim_ring_offset = lim_ring_floats;
    w->sat_param_offset = (int)sat_params.size();
    w->sat_state_offset = sat_states;
    w->sat_memory_offset = sat_memory;
    build_jobs(*w);
    slots += w->plan.slot_count + w->scratch_slots;
    fir_states += w->fir_state_floats;
    fir_bins += w->fir_spectrum_bins;
    comp_params.insert(comp_params.end(), w->comp_params.begin(), w->comp_params.end());
    comp_states += w->comp_states;
    ring_floats += w->ring_floats;
    trace_floats += w->trace_floats;
    lim_params.insert(lim_params.end(), w->lim_params.begin(), w->lim_params.end());
    lim_states += w->lim_states;
    lim_ring_floats += w->lim_ring_floats;
    sat_params.insert(sat_params.end(), w->sat_params.begin(), w->sat_params.end());
    sat_states += w->sat_states;
    sat_memory += w->sat_memory_floats;
    render_frames = std::max(render_frames, w->frames + w->latency);
    meters += (int)w->metered.size();
    keeps += 2 * (int)w->plan.instances[w->s->nodes.size() - 1].size();
    frames = std::max(frames, w->frames);
    max_levels = std::max(max_levels, w->levels.size());
  }
  std::string notice;
  std::unique_ptr<Backend> backend = make_backend(opt.backend, &notice);
  for (SessionWork* w : group) {
    w->r.backend = backend->name();
    w->r.backend_notice = notice;
  }
  const long long segment =
      std::min(render_frames,
               opt.segment_frames > 0 ? opt.segment_frames : backend->preferred_segment_frames());
  // The kept masters hold every variant whole until delivery. Refuse, with the way out,
  // a launch that cannot fit in memory instead of failing half way.
  {
    const double need = 4.0 * ((double)keeps * frames + (double)slots * segment);
    const double have = 0.8 * physical_memory_bytes();
    if (have > 0 && need > have) {
      char msg[512];
      std::snprintf(msg, sizeof msg,
                    "%s: %d master variant(s) of %.1f minutes need %.1f GiB to keep until "
                    "delivery, more than this machine has (%.1f GiB usable); render the "
                    "variants in shards (topdown batch --shard K/N splits a session's variants) "
                    "or sweep fewer values",
                    group.front()->s->file.string().c_str(), keeps / 2,
                    (double)frames / rate / 60.0, need / (1 << 30), have / (1 << 30));
      throw InputError(msg);
    }
  }
  backend->allocate(slots, segment, keeps, frames);
  const long long hop_frames = meter_hop_frames(rate);
  const KWeighting kweighting = design_kweighting(rate);
  const TruePeakFilter tp_filter = design_true_peak_filter(rate);
  const long long hops_per_state = frames / hop_frames + 2;
  backend->allocate_meters(meters, hops_per_state);
  backend->allocate_spectra(meters, spectrum_fft_size(rate));
  backend->allocate_peaks(meters);
  {
    // Every distinct FIR of the launch, designed on all cores.
    std::vector<const FirDesign*> designs;
    std::vector<long long> offsets;
    for (SessionWork* w : group)
      for (const FirDesign& d : w->fir_designs) {
        designs.push_back(&d);
        offsets.push_back(w->fir_spectrum_offset + d.spectrum);
      }
    std::vector<float> spectra(2 * (size_t)fir_bins);
    // Sessions of a batch often share an EQ: each distinct one is designed once.
    std::vector<int> unique_of(designs.size());
    std::vector<size_t> unique;
    for (size_t i = 0; i < designs.size(); ++i) {
      size_t u = 0;
      while (u < unique.size() && !same_design(*designs[unique[u]], *designs[i])) ++u;
      if (u == unique.size()) unique.push_back(i);
      unique_of[i] = (int)u;
    }
    std::vector<std::shared_ptr<const std::vector<std::complex<float>>>> bins(unique.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (long long u = 0; u < (long long)unique.size(); ++u)
      bins[u] = eq_spectrum(*designs[unique[u]], rate);
    for (size_t i = 0; i < designs.size(); ++i) {
      const auto& b = *bins[unique_of[i]];
      std::copy(reinterpret_cast<const float*>(b.data()),
                reinterpret_cast<const float*>(b.data() + b.size()),
                spectra.data() + 2 * offsets[i]);
    }
    backend->allocate_fir(fir_states, spectra);
  }
  backend->allocate_dynamics(comp_params, comp_states, ring_floats, trace_floats);
  backend->allocate_limiters(lim_params, lim_states, lim_ring_floats);
  backend->allocate_saturation(sat_params, sat_states, sat_memory);

  // All tracks of all sessions, for decoding on all cores.
  struct TrackRef {
    SessionWork* w;
    size_t t;
  };
  std::vector<TrackRef> all;
  for (SessionWork* w : group)
    for (size_t t = 0; t < w->tracks.size(); ++t) all.push_back({w, t});
  // Runs body on every track; an error fails that track's session (the first error in
  // session order is kept), never the launch.
  auto for_each_track = [&](const std::function<void(const TrackRef&)>& body) {
    std::vector<std::string> errors(all.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (long long i = 0; i < (long long)all.size(); ++i) {
      if (!all[i].w->error.empty()) continue;
      try {
        body(all[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
    for (size_t i = 0; i < all.size(); ++i)
      if (!errors[i].empty() && all[i].w->error.empty()) all[i].w->error = errors[i];
  };
  // Readers may have been opened already, while the previous launch rendered.
  const auto t_open = Clock::now();
  open_readers(group);
  const double open_s = seconds_since(t_open);

  // The levels of all sessions, merged: level l of every session in one set of launches.
  std::vector<LevelJobs> levels(max_levels);
  for (SessionWork* w : group)
    for (size_t l = 0; l < w->levels.size(); ++l) append_level(levels[l], w->levels[l]);
  double decode_s = 0.0, stages_s = 0.0;
  std::vector<std::vector<float>> staging(2 * all.size());
  for (long long origin = 0; origin < render_frames; origin += segment) {
    const long long len = std::min(segment, render_frames - origin);
    backend->begin_segment(origin, len);
    const auto t_decode = Clock::now();
    std::mutex upload_mutex;
    for_each_track([&](const TrackRef& ref) {
      const std::vector<int>& local = ref.w->plan.sources[ref.w->tracks[ref.t]];
      const size_t index = &ref - all.data();
      std::vector<float*> outs;
      for (size_t c = 0; c < local.size(); ++c) {
        float* h = backend->host_slot(ref.w->slot_offset + local[c]);
        if (!h) {
          staging[2 * index + c].resize(segment);
          h = staging[2 * index + c].data();
        }
        outs.push_back(h);
      }
      // The stem is read in_delay samples late (latency compensation): zeros first.
      const long long late = std::clamp(ref.w->in_delay[ref.w->tracks[ref.t]] - origin, 0LL, len);
      for (float* o : outs) std::fill(o, o + late, 0.0f);
      if (late < len) {
        for (float*& o : outs) o += late;
        ref.w->readers[ref.t]->read(outs.data(), len - late);
      }
      if (!backend->host_slot(ref.w->slot_offset + local[0])) {
        std::lock_guard<std::mutex> lock(upload_mutex);
        for (size_t c = 0; c < local.size(); ++c)
          backend->upload(ref.w->slot_offset + local[c], staging[2 * index + c].data());
      }
    });
    decode_s += seconds_since(t_decode);

    const auto t_stages = Clock::now();
    for (size_t l = 0; l < max_levels; ++l) {
      const LevelJobs& lj = levels[l];
      if (!lj.sums.empty()) backend->sum(lj.sums, lj.terms);
      if (!lj.inputs.empty()) backend->track_input(lj.inputs, lj.points);
      if (!lj.pre_chain_peaks.empty()) backend->peak_hold(lj.pre_chain_peaks);
      for (const ChainStep& step : lj.chain) {
        if (!step.pre_sums.empty()) backend->sum(step.pre_sums, step.terms);
        if (!step.gains.empty()) backend->gain(step.gains);
        for (const FirLaunch& f : step.firs) backend->fir(f.shape, f.jobs);
        if (!step.compressors.empty())
          backend->compressor(step.compressors, trace_hop_frames(rate));
        if (!step.saturations.empty()) backend->saturation(step.saturations);
        if (!step.limiters.empty())
          backend->limiter(step.limiters, tp_filter, trace_hop_frames(rate));
        if (!step.post_sums.empty()) backend->sum(step.post_sums, step.terms);
      }
      if (!lj.faders.empty()) backend->gain(lj.faders);
      if (lj.meters.empty()) continue;
      // Metered now, while this level's outputs are in the arena (later levels reuse it):
      // one call per distinct song span [begin, end), with just that part of the segment.
      std::vector<std::pair<long long, long long>> spans;
      for (const MeterJob& job : lj.meters)
        if (std::find(spans.begin(), spans.end(), std::make_pair(job.begin, job.end)) ==
            spans.end())
          spans.emplace_back(job.begin, job.end);
      for (const auto& span : spans) {
        long long b, e;
        job_range(origin, len, span.first, span.second, b, e);
        if (e <= b) continue;
        std::vector<MeterJob> jobs;
        for (const MeterJob& job : lj.meters)
          if (job.begin == span.first && job.end == span.second) jobs.push_back(job);
        backend->meters(jobs, kweighting, tp_filter, hop_frames, span.second <= origin + len, b,
                        e - b);
        std::vector<SpectrumJob> spectrum_jobs;
        for (const MeterJob& job : jobs) spectrum_jobs.push_back({job.left, job.right, job.state});
        backend->spectra(spectrum_jobs, b, e - b);
      }
    }
    for (SessionWork* w : group) {
      const auto& masters = w->plan.instances[w->s->nodes.size() - 1];
      for (size_t k = 0; k < masters.size(); ++k) {
        const long long delay = w->out_delay.back();
        backend->keep(w->slot_offset + masters[k].out[0], w->keep_offset + 2 * (int)k, delay);
        backend->keep(w->slot_offset + masters[k].out[1], w->keep_offset + 2 * (int)k + 1, delay);
      }
    }
    stages_s += seconds_since(t_stages);
    if (opt.progress) opt.progress("render", (double)(origin + len) / render_frames);
  }

  std::vector<MeterState> states;
  std::vector<MeterHop> hops;
  backend->read_meters(states, hops);
  const std::vector<float> pre_chain_peaks = backend->read_peaks();
  const std::vector<MidSideBins> spectrum_bins = backend->read_spectra();
  std::vector<CompressorState> comp_state_values;
  std::vector<float> traces;
  backend->read_dynamics(comp_state_values, traces);
  const std::vector<LimiterState> lim_state_values = backend->read_limiters();
  for (SessionWork* w : group) {
    // A launch's time is shared by its sessions in proportion to their length.
    const double share = (double)w->frames / std::max<long long>(1, frames) / group.size();
    w->r.timings.decode_s = (open_s + decode_s) * share;
    w->r.timings.stages_s = stages_s * share;
    w->r.segment_frames = segment;
    if (!w->error.empty()) continue;
    try {
      finish(*w, *backend, states, hops, hops_per_state, pre_chain_peaks, spectrum_bins);
      report_dynamics(*w, comp_state_values, lim_state_values, traces);
    } catch (const std::exception& e) {
      w->error = e.what();
    }
    w->r.timings.total_s = seconds_since(w->t_start);
  }
}

}  // namespace td
