// Bad input: the message is complete (file, line, key, what is allowed) and meant for the
// user as it is. Every layer throws it; the CLI prints it and exits 1.
#pragma once
#include <stdexcept>

namespace td {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace td
