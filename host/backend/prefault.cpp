#include "backend/prefault.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace td {

void Prefaulter::start(float* data, int streams, long long stride, long long frames,
                       long long first) {
  stop();
  if (!data || streams <= 0 || frames <= 0) return;
  data_ = data;
  streams_ = streams;
  stride_ = stride;
  frames_ = frames;
  begin_ = 0;
  end_ = std::min(first, frames);
  written_ = 0;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Prefaulter::ahead_of(long long origin, long long frames) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    written_ = origin;
    begin_ = std::max(begin_, origin + frames);
    end_ = std::min(frames_, origin + 2 * frames);
  }
  wake_.notify_one();
}

void Prefaulter::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Prefaulter::run() {
  const uintptr_t page = 4096;
  for (;;) {
    long long b, e;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || begin_ < end_; });
      if (stopping_) return;
      b = begin_, e = end_;
      begin_ = end_;  // taken
    }
    for (int s = 0; s < streams_; ++s) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        b = std::max(b, written_);  // the render has passed it: not again
      }
      if (b >= e) break;
      // Whole pages inside the window only: a page shared with the part already written
      // stays as the writer left it.
      const uintptr_t from = reinterpret_cast<uintptr_t>(data_ + s * stride_ + b);
      const uintptr_t to = reinterpret_cast<uintptr_t>(data_ + s * stride_ + e);
      const uintptr_t pb = (from + page - 1) / page * page, pe = to / page * page;
      if (pe <= pb) continue;
      if (madvise(reinterpret_cast<void*>(pb), pe - pb, MADV_POPULATE_WRITE) != 0 &&
          errno == EINVAL)
        return;  // a kernel without it: the writer faults the pages in, as before
    }
  }
}

}  // namespace td
