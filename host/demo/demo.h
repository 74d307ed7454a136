// The demo: a small multitrack song synthesised in memory (drums, bass, guitars, keys, a
// pad and a vocal-like lead over an Am-F-C-G progression at 120 BPM), routed through a
// top-down bus tree. Also used to generate the benchmark's 24-track session.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "render/render.h"

namespace td {

struct DemoOptions {
  int tracks = 10;        // 8 .. 24
  double seconds = 16.0;  // song length
  int sample_rate = 48000;
};

struct DemoStem {
  std::string track;                      // track name in the session
  std::vector<std::vector<float>> audio;  // planar, 1 or 2 channels
};

struct DemoSong {
  std::string session_toml;  // refers to stems/<track>.wav
  std::vector<DemoStem> stems;
};

DemoSong make_demo_song(const DemoOptions& options);

// In-memory stem sources for render_session, in the session's track order.
std::vector<StemSource> demo_stem_sources(const DemoSong& song, int sample_rate);

// Writes DIR/session.toml and DIR/stems/*.wav (24-bit) so the demo can be rendered,
// edited and benchmarked as files.
void export_demo_song(const DemoSong& song, int sample_rate, const std::filesystem::path& dir);

}  // namespace td
