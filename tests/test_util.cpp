#include "test_util.h"

#include <ebur128.h>
#include <sndfile.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "backend/backend.h"
#include "io/audio_file.h"
#include "kernels/fft.h"

namespace td::test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path = std::filesystem::temp_directory_path() /
         ("topdown-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

Planar sine(double hz, double amplitude, double seconds, int sample_rate, int channels,
            double phase) {
  const long long n = (long long)std::llround(seconds * sample_rate);
  Planar out(channels, std::vector<float>(n));
  for (long long i = 0; i < n; ++i) {
    const float v = (float)(amplitude * std::sin(2.0 * M_PI * hz * i / sample_rate + phase));
    for (auto& c : out) c[i] = v;
  }
  return out;
}

void write_file(const std::filesystem::path& file, const Planar& audio, int sample_rate,
                int format) {
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = (int)audio.size();
  info.format = format;
  SNDFILE* f = sf_open(file.string().c_str(), SFM_WRITE, &info);
  if (!f)
    throw std::runtime_error("test: cannot write " + file.string() + ": " + sf_strerror(nullptr));
  const long long n = audio.empty() ? 0 : (long long)audio[0].size();
  std::vector<float> inter(n * audio.size());
  for (long long i = 0; i < n; ++i)
    for (size_t c = 0; c < audio.size(); ++c) inter[i * audio.size() + c] = audio[c][i];
  sf_writef_float(f, inter.data(), n);
  sf_close(f);
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file) << text;
}

Ebur128Reading ebur128_measure(const std::filesystem::path& file) {
  const AudioData d = read_audio(file);
  ebur128_state* st = ebur128_init((unsigned)d.channels.size(), (unsigned long)d.sample_rate,
                                   EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
  const size_t n = d.channels[0].size(), ch = d.channels.size();
  std::vector<float> inter(n * ch);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < ch; ++c) inter[i * ch + c] = d.channels[c][i];
  ebur128_add_frames_float(st, inter.data(), n);
  Ebur128Reading r{};
  ebur128_loudness_global(st, &r.integrated_lufs);
  double tp = 0.0;
  for (unsigned c = 0; c < ch; ++c) {
    double v;
    ebur128_true_peak(st, c, &v);
    tp = std::max(tp, v);
  }
  r.true_peak_dbtp = 20.0 * std::log10(tp);
  ebur128_destroy(&st);
  return r;
}

double ebur128_integrated(const Planar& audio, int sample_rate) {
  ebur128_state* st =
      ebur128_init((unsigned)audio.size(), (unsigned long)sample_rate, EBUR128_MODE_I);
  const size_t n = audio[0].size(), ch = audio.size();
  std::vector<float> inter(n * ch);
  for (size_t i = 0; i < n; ++i)
    for (size_t c = 0; c < ch; ++c) inter[i * ch + c] = audio[c][i];
  ebur128_add_frames_float(st, inter.data(), n);
  double out;
  ebur128_loudness_global(st, &out);
  ebur128_destroy(&st);
  return out;
}

std::vector<StemSource> memory_stems(const std::vector<Planar>& audio, int sample_rate) {
  std::vector<StemSource> out;
  for (size_t k = 0; k < audio.size(); ++k) {
    StemSource s;
    s.info.file = "memory-" + std::to_string(k) + ".wav";
    s.info.channels = (int)audio[k].size();
    s.info.sample_rate = sample_rate;
    s.info.frames = (long long)audio[k][0].size();
    s.info.frames_at_rate = s.info.frames;
    s.info.format = "memory";
    const Planar* a = &audio[k];
    s.open = [a]() { return open_memory_stem(*a); };
    out.push_back(std::move(s));
  }
  return out;
}

std::string read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string with_master_chain(std::string demo_toml, const std::string& chain) {
  const std::string trim =
      "chain = [ { type = \"gain\", id = \"trim\", gain_db = -2.0 },\n          { type = "
      "\"limiter\", id = \"max\", ceiling_dbtp = -1.0 } ]";
  const size_t at = demo_toml.find(trim);
  if (at == std::string::npos) throw std::runtime_error("the demo session's master chain changed");
  return demo_toml.replace(at, trim.size(), "chain = [ " + chain + " ]");
}

std::string chain_session(const std::string& chain, const std::string& tracks,
                          const std::string& extra) {
  return "[session]\nsample_rate = 48000\n[delivery]\nbit_depth = 32\n[master]\nchain = [ " +
         chain + " ]\n" +
         (tracks.empty() ? "[[track]]\nname = \"t\"\nfile = \"t.wav\"\n" : tracks) + extra;
}

AudioData render_text(const std::string& toml, const std::vector<Planar>& stems, long long segment,
                      RenderResult* result) {
  TempDir dir;
  const Session s = parse_session_text(toml, dir / "song.toml");
  RenderOptions o;
  o.backend = backend();
  o.out_dir = dir.path;
  o.segment_frames = segment;
  const RenderResult r = render_session(s, memory_stems(stems, 48000), o);
  if (result) *result = r;
  return read_audio(dir / "master.wav");
}

std::string backend() {
  const char* b = std::getenv("TD_TEST_BACKEND");
  return b && *b ? b : "cpu";
}

bool device_available(std::string* why) {
#if defined(TOPDOWN_CUDA_EMU)
  (void)why;
  return true;
#else
  return cuda_available(why);
#endif
}

namespace {
constexpr double kSpectrumRate = 48000;
double bin_of(double hz) {
  return hz * 65536.0 / kSpectrumRate;
}
}  // namespace

std::vector<double> power_spectrum(const std::vector<float>& x, long long from) {
  const int n = 65536;
  const double pi = 3.14159265358979323846;
  RealFft fft(n);
  for (int i = 0; i < n; ++i) {
    const double t = 2 * pi * i / n;
    const double w =
        0.35875 - 0.48829 * std::cos(t) + 0.14128 * std::cos(2 * t) - 0.01168 * std::cos(3 * t);
    fft.input()[i] = (float)(x[from + i] * w);
  }
  fft.execute();
  std::vector<double> p(n / 2 + 1);
  for (int k = 0; k <= n / 2; ++k) p[k] = std::norm(fft.output()[k]);
  return p;
}

double tone_db(const std::vector<double>& p, double hz) {
  const long long c = std::llround(bin_of(hz));
  double e = 0;
  for (long long k = c - 4; k <= c + 4; ++k) e += p[k];
  return 10 * std::log10(e + 1e-300);
}

double aliasing_db(const std::vector<double>& p, double f0) {
  double alias = 0;
  for (long long k = std::llround(bin_of(30)); k < std::llround(bin_of(20000)); ++k) {
    const double f = k * kSpectrumRate / 65536;
    const double h = std::round(f / f0);
    if (h >= 1 && std::fabs(k - bin_of(h * f0)) <= 6) continue;
    alias += p[k];
  }
  return 10 * std::log10(alias + 1e-300) - tone_db(p, f0);
}

}  // namespace td::test
