// Compiled instead of backend_cuda.cpp when the build has no CUDA toolkit.
#include <stdexcept>

#include "backend/backend.h"

namespace td {

bool cuda_available(std::string* why) {
  if (why) *why = "this build has no CUDA backend (configured without the CUDA toolkit)";
  return false;
}

std::unique_ptr<Backend> make_cuda_backend() {
  throw std::runtime_error(
      "--backend cuda: this build has no CUDA backend (configured without the CUDA toolkit)");
}

}  // namespace td
