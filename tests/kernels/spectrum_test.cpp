// The long-term spectrum is fed segment by segment (kernels/spectrum.h): the frames it
// analyses, and so every bin, do not depend on how the signal is cut into segments. A
// render's meters hand it pieces of any length (a stream that lags the song starts
// mid-segment), so a piece may end inside a frame, complete one, or hold many.
#include "kernels/spectrum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace td {
namespace {

TEST(Spectrum, TheBinsDoNotDependOnHowTheSignalIsCut) {
  const int fft = 1024;
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.25f);
  std::vector<float> x(20 * fft + 333);
  for (float& v : x) v = noise(rng);

  LongTermSpectrum whole = make_spectrum(fft, 1);
  spectrum_add_channel(whole, 0, x.data(), (long long)x.size());
  spectrum_finish(whole);

  // Pieces shorter than a frame, exactly a frame, across frame edges and many frames long.
  const long long cuts[] = {1, 7, fft - 8, fft, 1, 3 * fft + 5, 0, 2 * fft - 1, 9 * fft};
  LongTermSpectrum cut = make_spectrum(fft, 1);
  long long at = 0;
  for (long long len : cuts) {
    spectrum_add_channel(cut, 0, x.data() + at, len);
    at += len;
  }
  spectrum_add_channel(cut, 0, x.data() + at, (long long)x.size() - at);
  spectrum_finish(cut);

  EXPECT_EQ(cut.channels[0].frames_analysed, whole.channels[0].frames_analysed);
  EXPECT_EQ(whole.channels[0].frames_analysed, 20);  // the last 333 samples: no frame
  EXPECT_EQ(cut.channels[0].pending, whole.channels[0].pending);
  ASSERT_EQ(cut.channels[0].power.size(), whole.channels[0].power.size());
  for (size_t k = 0; k < whole.channels[0].power.size(); ++k)
    ASSERT_EQ(cut.channels[0].power[k], whole.channels[0].power[k]) << "bin " << k;
}

}  // namespace
}  // namespace td
