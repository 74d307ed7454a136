// The peer for bench/analyze_vs_peers.sh: libebur128 measuring a file the way topdown
// analyze does (integrated, LRA, momentary and short-term maxima, true peak), reading it
// with libsndfile in blocks.
#include <ebur128.h>
#include <sndfile.h>

#include <cmath>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ebur128_scan FILE\n");
    return 1;
  }
  SF_INFO info{};
  SNDFILE* f = sf_open(argv[1], SFM_READ, &info);
  if (!f) {
    std::fprintf(stderr, "%s: %s\n", argv[1], sf_strerror(nullptr));
    return 1;
  }
  ebur128_state* st = ebur128_init(
      (unsigned)info.channels, (unsigned long)info.samplerate,
      EBUR128_MODE_M | EBUR128_MODE_S | EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK);
  std::vector<float> buf(65536 * info.channels);
  double m_max = -HUGE_VAL, s_max = -HUGE_VAL;
  for (sf_count_t n; (n = sf_readf_float(f, buf.data(), 65536)) > 0;) {
    // Momentary and short-term maxima at 100 ms resolution: feed 100 ms at a time.
    const sf_count_t step = info.samplerate / 10;
    for (sf_count_t i = 0; i < n; i += step) {
      const sf_count_t k = i + step <= n ? step : n - i;
      ebur128_add_frames_float(st, buf.data() + i * info.channels, (size_t)k);
      double m, s;
      if (ebur128_loudness_momentary(st, &m) == 0 && m > m_max) m_max = m;
      if (ebur128_loudness_shortterm(st, &s) == 0 && s > s_max) s_max = s;
    }
  }
  double i_lufs, lra, tp = 0.0;
  ebur128_loudness_global(st, &i_lufs);
  ebur128_loudness_range(st, &lra);
  for (int c = 0; c < info.channels; ++c) {
    double v;
    ebur128_true_peak(st, (unsigned)c, &v);
    if (v > tp) tp = v;
  }
  std::printf("I %.2f LUFS  LRA %.2f LU  M max %.2f  S max %.2f  TP %.2f dBTP\n", i_lufs, lra,
              m_max, s_max, 20 * std::log10(tp));
  ebur128_destroy(&st);
  sf_close(f);
  return 0;
}
