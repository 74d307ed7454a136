// libFuzzer target: the session parser and the plan, from arbitrary bytes. Bad input must
// end in InputError (the one-line message a user sees), never in a crash, a sanitizer
// report or another exception. Built with -DTOPDOWN_FUZZ=ON (clang); without it the same
// function is driven by fuzz_replay.cpp over the regression corpus in every test run.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/input_error.h"
#include "graph/plan.h"
#include "session/session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const td::Session s = td::parse_session_text(text, "/fuzz/session.toml");
    // Every track as a stereo stem: the plan needs the channel counts, not the audio.
    const std::vector<int> channels(s.nodes.size(), 2);
    (void)td::make_plan(s, channels);
  } catch (const td::InputError&) {
  }
  return 0;
}
