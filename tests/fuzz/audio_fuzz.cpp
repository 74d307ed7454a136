// libFuzzer target: the audio reader, from arbitrary file bytes (written to a temporary
// file, as a client's upload would be). Probing and decoding must end in InputError or in
// audio, within bounded memory (nothing is sized from a header before it is verified).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/input_error.h"
#include "io/audio_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/topdown-audio-fuzz-" + std::to_string(getpid());
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  try {
    const td::StemInfo info = td::probe_stem(path, 48000);
    // Decode at most 10 s, resampled when the file's rate differs (both readers).
    const long long frames = std::min<long long>(info.frames_at_rate, 480000);
    std::vector<std::vector<float>> out(info.channels, std::vector<float>((size_t)frames + 1));
    std::vector<float*> ptrs;
    for (auto& c : out) ptrs.push_back(c.data());
    td::decode_stem(info, 48000, ptrs.data(), frames);
  } catch (const td::InputError&) {
  }
  std::remove(path.c_str());
  return 0;
}
