// Helpers shared by the tests: temporary folders, writing test signals with libsndfile,
// and measuring files with libebur128 (the reference implementation).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "io/audio_file.h"
#include "render/render.h"

namespace td::test {

// The backend the render tests run on: TD_TEST_BACKEND from the environment ("cuda" in
// the emulated-device build's CI run), else "cpu".
std::string backend();
// Whether the CUDA backend can run here: a GPU answers, or this is the emulated-device
// build (tests/emu), where --backend cuda runs every launch on the CPU.
bool device_available(std::string* why);

// A fresh folder under the system temp dir, removed when the object goes away.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

using Planar = std::vector<std::vector<float>>;

// amplitude * sin(2 pi hz t + phase) on every channel.
Planar sine(double hz, double amplitude, double seconds, int sample_rate, int channels,
            double phase = 0.0);

// Writes planar float audio with libsndfile; `format` is a libsndfile SF_FORMAT_* value.
void write_file(const std::filesystem::path& file, const Planar& audio, int sample_rate,
                int format);

void write_text(const std::filesystem::path& file, const std::string& text);

// libebur128's integrated loudness and max true peak (dBTP) of a file.
struct Ebur128Reading {
  double integrated_lufs;
  double true_peak_dbtp;
};
Ebur128Reading ebur128_measure(const std::filesystem::path& file);
double ebur128_integrated(const Planar& audio, int sample_rate);

// In-memory stems for render_session, in track order.
std::vector<StemSource> memory_stems(const std::vector<Planar>& audio, int sample_rate);

std::string read_bytes(const std::filesystem::path& file);

// A session at 48 kHz with float delivery (no dither): the master's chain is `chain` (the
// body of a TOML array) and its input one track "t" (file t.wav), or `tracks` (TOML
// [[track]] / [[bus]] tables) when given; `extra` is appended.
std::string chain_session(const std::string& chain, const std::string& tracks = "",
                          const std::string& extra = "");

// The demo session (DemoSong::session_toml) with its master chain (the trim) replaced by
// `chain` (the body of a TOML array). Throws if the demo's chain is not found.
std::string with_master_chain(std::string demo_toml, const std::string& chain);

// Renders a session text on the CPU with in-memory stems (track order) at 48 kHz in a
// temporary folder; returns the delivered master.wav. segment 0: the backend's length.
AudioData render_text(const std::string& toml, const std::vector<Planar>& stems,
                      long long segment = 0, RenderResult* result = nullptr);

// Spectra of 48 kHz test signals: the power spectrum (Blackman-Harris, 65536 points) of x
// from `from`; the energy of a tone (the window's main lobe, +-4 bins), dB; and the energy
// below 20 kHz that is not at a harmonic of f0 (nor DC) against the fundamental, dB.
std::vector<double> power_spectrum(const std::vector<float>& x, long long from);
double tone_db(const std::vector<double>& p, double hz);
double aliasing_db(const std::vector<double>& p, double f0);

}  // namespace td::test
