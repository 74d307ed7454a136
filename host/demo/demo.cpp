#include "demo/demo.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <thread>

#include "io/audio_file.h"

namespace td {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kBeat_s = 0.5;  // 120 BPM
constexpr double kBar_s = 4 * kBeat_s;

// Am - F - C - G, one chord per bar, as MIDI notes (root position triads, octave 3).
const int kChords[4][3] = {{57, 60, 64}, {53, 57, 60}, {48, 52, 55}, {55, 59, 62}};
const int kMelody[16] = {69, 72, 74, 72, 69, 67, 69, 64, 65, 69, 72, 69, 67, 71, 74, 71};

double midi_hz(double note) {
  return 440.0 * std::pow(2.0, (note - 69.0) / 12.0);
}

struct Rng {  // xorshift64*: small, fast, the same on every platform
  uint64_t s;
  double uniform() {  // -1 .. 1
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (double)((s * 2685821657736338717ull) >> 11) / 4503599627370496.0 - 1.0;
  }
};

// Band-limited sawtooth by PolyBLEP (Valimaki & Huovilainen, 2007): cheap and free of
// the worst aliasing of a naive ramp.
double poly_blep(double t, double dt) {
  if (t < dt) {
    t /= dt;
    return t + t - t * t - 1.0;
  }
  if (t > 1.0 - dt) {
    t = (t - 1.0) / dt;
    return t * t + t + t + 1.0;
  }
  return 0.0;
}

struct Saw {
  double phase = 0.0;
  double next(double hz, double sr) {
    const double dt = hz / sr;
    const double v = 2.0 * phase - 1.0 - poly_blep(phase, dt);
    phase += dt;
    if (phase >= 1.0) phase -= 1.0;
    return v;
  }
};

// RBJ cookbook band-pass (constant 0 dB peak gain), for the vocal formants.
struct Resonator {
  double b0 = 0, b2 = 0, a1 = 0, a2 = 0, x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  void set(double hz, double q, double sr) {
    const double w = 2 * kPi * hz / sr, alpha = std::sin(w) / (2 * q), a0 = 1 + alpha;
    b0 = alpha / a0;
    b2 = -alpha / a0;
    a1 = -2 * std::cos(w) / a0;
    a2 = (1 - alpha) / a0;
  }
  double step(double x) {
    const double y = b0 * x + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    return y;
  }
};

using Planar = std::vector<std::vector<float>>;

void normalise(Planar& a, double peak_dbfs) {
  float peak = 0.0f;
  for (const auto& c : a)
    for (float v : c) peak = std::max(peak, std::fabs(v));
  if (peak <= 0.0f) return;
  const float g = (float)(std::pow(10.0, peak_dbfs / 20.0) / peak);
  for (auto& c : a)
    for (float& v : c) v *= g;
}

// Percussion: one hit shape per kind, placed on a rhythmic grid.
Planar drum(const std::string& kind, long long n, double sr, uint64_t seed) {
  Planar out(1, std::vector<float>(n, 0.0f));
  Rng rng{seed};
  const double len_s = n / sr;
  auto hit = [&](double at_s, double amp) {
    const long long start = (long long)(at_s * sr);
    double phase = 0.0, hp_prev = 0.0, lp = 0.0;
    for (long long i = start; i < std::min(n, start + (long long)(1.2 * sr)); ++i) {
      const double t = (i - start) / sr;
      double v = 0.0;
      const double noise = rng.uniform();
      if (kind == "kick") {
        phase += 2 * kPi * (48.0 + 110.0 * std::exp(-t / 0.035)) / sr;
        v = std::sin(phase) * std::exp(-t / 0.32) + 0.3 * noise * std::exp(-t / 0.004);
      } else if (kind == "snare" || kind == "clap") {
        phase += 2 * kPi * 188.0 / sr;
        const double hp = noise - hp_prev;
        hp_prev = noise;
        v = (kind == "snare" ? 0.55 * std::sin(phase) * std::exp(-t / 0.07) : 0.0) +
            0.6 * hp * std::exp(-t / (kind == "snare" ? 0.13 : 0.09));
      } else if (kind == "tom") {
        phase += 2 * kPi * (95.0 + 40.0 * std::exp(-t / 0.05)) / sr;
        v = std::sin(phase) * std::exp(-t / 0.35);
      } else {  // hats, shaker, ride: high-passed noise, short or long
        const double hp = noise - hp_prev;
        hp_prev = noise;
        lp += 0.5 * (hp - lp);
        const double decay = kind == "ride" ? 0.6 : kind == "shaker" ? 0.06 : 0.035;
        v = (kind == "ride" ? 0.4 * std::sin(2 * kPi * 5100 * t) * std::exp(-t / 0.4) : 0.0) +
            lp * std::exp(-t / decay);
      }
      out[0][i] += (float)(amp * v);
    }
  };
  for (double beat = 0; beat * kBeat_s < len_s; beat += 0.5) {
    const double t = beat * kBeat_s;
    const int step = (int)std::lround(beat * 2) % 8;  // 8th notes within the bar
    if (kind == "kick" && (step == 0 || step == 3 || step == 4)) hit(t, step == 3 ? 0.7 : 1.0);
    if ((kind == "snare" || kind == "clap") && (step == 2 || step == 6)) hit(t, 1.0);
    if (kind == "hats") hit(t, step % 2 ? 0.55 : 0.9);
    if (kind == "shaker") {
      hit(t, 0.7);
      hit(t + kBeat_s / 4, 0.4);
    }
    if (kind == "ride" && step % 2 == 0) hit(t, 0.8);
    if (kind == "tom" && step == 7 && (int)(t / kBar_s) % 4 == 3) hit(t, 1.0);
  }
  return out;
}

// Bass: eighth notes on the chord root, PolyBLEP saw through a one-pole low-pass.
Planar bass(long long n, double sr, int octave_shift) {
  Planar out(1, std::vector<float>(n, 0.0f));
  Saw saw;
  double lp = 0.0;
  for (long long i = 0; i < n; ++i) {
    const double t = i / sr;
    const int bar = (int)(t / kBar_s) % 4;
    const double in_note = std::fmod(t, kBeat_s / 2);
    const double hz = midi_hz(kChords[bar][0] - 24 + 12 * octave_shift);
    const double env = std::min(1.0, in_note / 0.004) * std::exp(-in_note / 0.35);
    const double cutoff = 0.04 + 0.05 * std::exp(-in_note / 0.05);
    lp += cutoff * (saw.next(hz, sr) - lp);
    out[0][i] = (float)(env * lp);
  }
  return out;
}

// Guitar: Karplus-Strong plucked strings (Karplus & Strong, CMJ 1983) strumming the chord.
Planar guitar(long long n, double sr, uint64_t seed, int pattern) {
  Planar out(1, std::vector<float>(n, 0.0f));
  Rng rng{seed};
  const double len_s = n / sr;
  for (double t0 = 0; t0 < len_s; t0 += kBeat_s * (pattern ? 0.5 : 1.0)) {
    const int bar = (int)(t0 / kBar_s) % 4;
    for (int v = 0; v < 3; ++v) {
      const double hz = midi_hz(kChords[bar][v] + (pattern ? 12 : 0));
      const int delay = std::max(2, (int)std::lround(sr / hz));
      std::vector<double> line(delay);
      for (auto& x : line) x = rng.uniform();
      const long long start = (long long)((t0 + 0.012 * v) * sr);
      const long long end =
          std::min(n, start + (long long)(kBeat_s * sr * (pattern ? 0.5 : 1.0)) + delay);
      int idx = 0;
      for (long long i = start; i < end; ++i) {
        const int nxt = (idx + 1) % delay;
        const double y = line[idx];
        line[idx] = 0.996 * 0.5 * (line[idx] + line[nxt]);
        idx = nxt;
        out[0][i] += (float)(0.3 * y);
      }
    }
  }
  return out;
}

// Keys, organ, pad, strings: chord tones of sines or saws, stereo by a small detune.
Planar chords(long long n, double sr, const std::string& kind) {
  Planar out(2, std::vector<float>(n, 0.0f));
  std::vector<Saw> saws(6);
  double lp[2] = {0, 0};
  std::vector<double> phase(6, 0.0);
  for (long long i = 0; i < n; ++i) {
    const double t = i / sr;
    const int bar = (int)(t / kBar_s) % 4;
    const double in_bar = std::fmod(t, kBar_s);
    double env;
    if (kind == "pad" || kind == "strings")
      env = std::min(1.0, in_bar / 0.6) * std::min(1.0, (kBar_s - in_bar) / 0.15);
    else if (kind == "organ")
      env = std::min(1.0, in_bar / 0.01) * std::min(1.0, (kBar_s - in_bar) / 0.02);
    else  // keys: a stab per beat
      env = std::exp(-std::fmod(t, kBeat_s) / 0.25);
    for (int ch = 0; ch < 2; ++ch) {
      double v = 0.0;
      for (int k = 0; k < 3; ++k) {
        const double hz =
            midi_hz(kChords[bar][k] + (kind == "strings" ? 12 : 0)) * (ch ? 1.0015 : 0.9985);
        const int o = ch * 3 + k;
        if (kind == "pad" || kind == "strings") {
          v += saws[o].next(hz, sr);
        } else {
          phase[o] += 2 * kPi * hz / sr;
          if (phase[o] > 2 * kPi) phase[o] -= 2 * kPi;
          v += std::sin(phase[o]) + (kind == "organ" ? 0.5 : 0.25) * std::sin(2 * phase[o]);
        }
      }
      lp[ch] += 0.08 * (v - lp[ch]);
      out[ch][i] = (float)(env * ((kind == "pad" || kind == "strings") ? lp[ch] : v));
    }
  }
  return out;
}

// Vocal-like lead: a glottal saw with vibrato through three formant resonators whose vowel
// changes with each note (a, o, e; formants after Peterson & Barney, JASA 1952).
Planar voice(long long n, double sr, int transpose, double offset_s) {
  Planar out(1, std::vector<float>(n, 0.0f));
  const double vowels[3][3] = {{730, 1090, 2440}, {570, 840, 2410}, {530, 1840, 2480}};
  Saw saw;
  Resonator f[3];
  int current = -1;
  for (long long i = 0; i < n; ++i) {
    const double t = i / sr - offset_s;
    if (t < 0) continue;
    const int note = (int)(t / kBeat_s) % 16;
    const double in_note = std::fmod(t, kBeat_s);
    if (note != current) {
      current = note;
      for (int k = 0; k < 3; ++k) f[k].set(vowels[note % 3][k], 8.0 + 4 * k, sr);
    }
    const double hz =
        midi_hz(kMelody[note] + transpose) * (1.0 + 0.006 * std::sin(2 * kPi * 5.5 * t));
    const double src = saw.next(hz, sr);
    const double env = std::min(1.0, in_note / 0.03) * std::min(1.0, (kBeat_s - in_note) / 0.05);
    const double phrase = ((int)(t / kBar_s) % 2 == 1 && in_note > 0 && note % 8 >= 6) ? 0.0 : 1.0;
    out[0][i] =
        (float)(env * phrase * (f[0].step(src) + 0.6 * f[1].step(src) + 0.3 * f[2].step(src)));
  }
  return out;
}

struct Role {
  const char* name;
  const char* bus;
  double pan;
  double peak_dbfs;
};

// The first `tracks` of these are used: the demo's 10, then doubles and colour up to 24.
// Two are second microphones of another source, for `topdown align`: kick_out (the kick's
// outside mic) from 8 tracks, bass_amp (the bass's amp) from 10.
const Role kRoles[24] = {
    {"kick_in", "drums", 0.0, -6},       {"snare", "drums", 0.05, -8},
    {"hats", "drums", 0.35, -14},        {"bass_di", "bass", 0.0, -8},
    {"gtr_l", "guitars", -0.7, -12},     {"gtr_r", "guitars", 0.7, -12},
    {"piano", "keys", 0.0, -12},         {"kick_out", "drums", 0.0, -8},
    {"lead_vox", "vocals", 0.0, -8},     {"bass_amp", "bass", 0.0, -10},
    {"bgv", "vocals", -0.3, -16},        {"pad", "keys", 0.0, -16},
    {"tom", "drums", -0.2, -10},         {"clap", "drums", -0.1, -14},
    {"shaker", "drums", 0.5, -20},       {"ride", "drums", -0.45, -18},
    {"sub", "bass", 0.0, -14},           {"gtr_lead", "guitars", 0.2, -14},
    {"organ", "keys", -0.4, -18},        {"strings", "keys", 0.3, -18},
    {"vox_double", "vocals", 0.25, -16}, {"bgv_high", "vocals", 0.4, -20},
    {"gtr_dbl_l", "guitars", -0.9, -16}, {"gtr_dbl_r", "guitars", 0.9, -16},
};

// How far behind their sources the second mics are (the demo session's align steps undo
// exactly this; the align tests recover it).
constexpr double kKickOutDelay_ms = 0.9;
constexpr double kBassAmpDelay_ms = 1.6;

// A second microphone of a source: `x` delayed by `delay_s` (a whole number of samples
// and a Hann-windowed sinc of 32 taps for the fraction), as the extra path to a mic
// further away delays it.
std::vector<float> delayed(const std::vector<float>& x, double delay_s, double sr) {
  const double d = delay_s * sr;
  const long long whole = (long long)std::floor(d);
  const double frac = d - (double)whole;
  constexpr int kHalf = 16;
  double taps[2 * kHalf];
  for (int k = 0; k < 2 * kHalf; ++k) {
    const double t = k - (kHalf - 1) - frac;  // tap k reads x[n - whole - (k - kHalf + 1)]
    const double sinc = t == 0.0 ? 1.0 : std::sin(kPi * t) / (kPi * t);
    taps[k] = sinc * (0.5 + 0.5 * std::cos(kPi * t / kHalf));
  }
  const long long n = (long long)x.size();
  std::vector<float> y(x.size(), 0.0f);
  for (long long i = 0; i < n; ++i) {
    double acc = 0.0;
    for (int k = 0; k < 2 * kHalf; ++k) {
      const long long j = i - whole - (k - (kHalf - 1));
      if (j >= 0 && j < n) acc += taps[k] * x[j];
    }
    y[i] = (float)acc;
  }
  return y;
}

// A one-pole low- or high-pass run forwards and then backwards, in place: the colour of a
// mic or an amp without a phase shift, so the only delay is the one `delayed` gives (the
// delay the align tests recover).
void zero_phase_one_pole(std::vector<float>& x, double hz, double sr, bool high) {
  const double a = 1.0 - std::exp(-2 * kPi * hz / sr);
  for (int pass = 0; pass < 2; ++pass) {
    double state = 0.0;
    const long long n = (long long)x.size();
    for (long long k = 0; k < n; ++k) {
      const long long i = pass ? n - 1 - k : k;
      state += a * (x[i] - state);
      x[i] = (float)(high ? x[i] - state : state);
    }
  }
}

Planar synthesise(int role, long long n, double sr) {
  const std::string name = kRoles[role].name;
  Planar a;
  if (name == "kick_in" || name == "kick_out") {
    a = drum("kick", n, sr, 1000);
    if (name == "kick_out") {  // outside the resonant head: 0.9 ms later, less beater
      a[0] = delayed(a[0], kKickOutDelay_ms * 1e-3, sr);
      zero_phase_one_pole(a[0], 900, sr, false);
    }
  } else if (name == "snare" || name == "hats" || name == "tom" || name == "clap" ||
             name == "shaker" || name == "ride") {
    a = drum(name, n, sr, 1000 + role);
  } else if (name == "bass_di" || name == "bass_amp") {
    a = bass(n, sr, 0);
    if (name == "bass_amp") {  // the amp: driven, 80 Hz - 3 kHz, 1.6 ms away, inverting
      for (float& v : a[0]) v = (float)-std::tanh(4.0 * v);
      zero_phase_one_pole(a[0], 80, sr, true);
      zero_phase_one_pole(a[0], 3000, sr, false);
      a[0] = delayed(a[0], kBassAmpDelay_ms * 1e-3, sr);
    }
  } else if (name == "sub") {
    a = bass(n, sr, -1);
  } else if (name == "gtr_l" || name == "gtr_r" || name == "gtr_dbl_l" || name == "gtr_dbl_r") {
    a = guitar(n, sr, 2000 + role, 0);
  } else if (name == "gtr_lead") {
    a = guitar(n, sr, 2000 + role, 1);
  } else if (name == "piano") {
    a = chords(n, sr, "keys");
  } else if (name == "pad") {
    a = chords(n, sr, "pad");
  } else if (name == "organ" || name == "strings") {
    a = chords(n, sr, name);
  } else if (name == "lead_vox" || name == "vox_double") {
    a = voice(n, sr, 0, name == "vox_double" ? 0.012 : 0.0);
  } else {
    a = voice(n, sr, name == "bgv" ? -5 : 7, 2 * kBar_s);
  }
  normalise(a, kRoles[role].peak_dbfs);
  return a;
}

}  // namespace

DemoSong make_demo_song(const DemoOptions& o) {
  const int tracks = std::clamp(o.tracks, 8, 24);
  const long long n = (long long)std::llround(o.seconds * o.sample_rate);
  DemoSong song;
  song.stems.resize(tracks);
  std::vector<std::thread> pool;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned w = 0; w < threads; ++w)
    pool.emplace_back([&, w]() {
      for (int r = (int)w; r < tracks; r += (int)threads)
        song.stems[r] = {kRoles[r].name, synthesise(r, n, o.sample_rate)};
    });
  for (auto& t : pool) t.join();

  std::ostringstream s;
  s << "# topdown demo session: " << tracks << " synthesised tracks, " << o.seconds
    << " s at 120 BPM (Am - F - C - G)\n\n"
    << "[session]\nsample_rate = " << o.sample_rate << "\nheadroom_dbfs = -12.0\n\n"
    << "[delivery]\nformat = \"wav\"\nbit_depth = 24\ntarget_lufs = -14.0\nceiling_dbtp = -1.0\n\n"
    << "[master]\n# Mix bus first: a trim that leaves headroom for the processing to come, and\n"
    << "# the maximizer that delivers [delivery] target_lufs under the ceiling.\n"
    << "chain = [ { type = \"gain\", id = \"trim\", gain_db = -2.0 },\n"
    << "          { type = \"limiter\", id = \"max\", ceiling_dbtp = -1.0 } ]\n\n";
  const char* buses[] = {"drums", "bass", "guitars", "keys", "vocals"};
  for (const char* b : buses) {
    bool used = false;
    for (int r = 0; r < tracks; ++r) used |= std::string(kRoles[r].bus) == b;
    if (!used) continue;
    s << "[[bus]]\nname = \"" << b << "\"\n";
    if (std::string(b) == "drums") s << "fader_db = -1.0\n";
    if (std::string(b) == "vocals") s << "fader_db = 1.0\n";
    s << "\n";
  }
  for (int r = 0; r < tracks; ++r) {
    s << "[[track]]\nname = \"" << kRoles[r].name << "\"\nfile = \"stems/" << kRoles[r].name
      << ".wav\"\nbus = \"" << kRoles[r].bus << "\"\n";
    if (kRoles[r].pan != 0.0) s << "pan = " << kRoles[r].pan << "\n";
    // The second mics lined up with their sources, as `topdown align` measures them.
    if (std::string(kRoles[r].name) == "kick_out")
      s << "# The kick's outside mic, " << kKickOutDelay_ms << " ms behind the inside one: "
        << "lined up.\nchain = [ { type = \"utility\", id = \"align\", delay_ms = "
        << -kKickOutDelay_ms << " } ]\n";
    if (std::string(kRoles[r].name) == "bass_amp")
      s << "# The bass amp's mic, " << kBassAmpDelay_ms << " ms behind the DI and inverted: "
        << "lined up.\nchain = [ { type = \"utility\", id = \"align\", delay_ms = "
        << -kBassAmpDelay_ms << ", invert_left = true, invert_right = true } ]\n";
    if (std::string(kRoles[r].name) == "lead_vox")
      s << "# Ride the vocal up into the second half.\n"
        << "automation = [ { param = \"gain_db\", points = [[0.0, -2.0], [" << o.seconds / 2
        << ", 0.0]] } ]\n";
    s << "\n";
  }
  song.session_toml = s.str();
  return song;
}

std::vector<StemSource> demo_stem_sources(const DemoSong& song, int sample_rate) {
  std::vector<StemSource> out;
  for (const auto& st : song.stems) {
    StemSource src;
    src.info.file = "stems/" + st.track + ".wav";
    src.info.channels = (int)st.audio.size();
    src.info.sample_rate = sample_rate;
    src.info.frames = (long long)st.audio[0].size();
    src.info.frames_at_rate = src.info.frames;
    src.info.format = "synthesised 32-bit float";
    const auto* audio = &st.audio;
    src.open = [audio]() { return open_memory_stem(*audio); };
    out.push_back(std::move(src));
  }
  return out;
}

void export_demo_song(const DemoSong& song, int sample_rate, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "stems");
  for (const auto& st : song.stems) {
    const long long n = (long long)st.audio[0].size();
    const int ch = (int)st.audio.size();
    std::vector<int32_t> pcm((size_t)n * ch);
    for (long long i = 0; i < n; ++i)
      for (int c = 0; c < ch; ++c) {
        const double v = std::clamp((double)st.audio[c][i], -1.0, 8388607.0 / 8388608.0);
        pcm[i * ch + c] = (int32_t)std::lround(v * 8388608.0) * 256;
      }
    write_audio_atomic(dir / "stems" / (st.track + ".wav"), WriteSpec{"wav", 24, sample_rate}, ch,
                       pcm.data(), nullptr, n);
  }
  write_text_atomic(dir / "session.toml", song.session_toml);
}

}  // namespace td
