#include "base/system.h"

#include <unistd.h>

namespace td {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double physical_memory_bytes() {
  const double pages = (double)sysconf(_SC_PHYS_PAGES), page = (double)sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? pages * page : 0.0;
}

}  // namespace td
