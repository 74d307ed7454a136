// The first touch of a page the kernel has not handed out lately is slow on the virtual
// machines topdown runs on (about 5 s per GiB on the 2-core bench machine, docs/
// architecture.md), and the keep arena's pages are first touched by the render's own
// thread as it copies each segment's masters in: 13 % of a 16-variant render's CPU time,
// all of it on the critical path. A Prefaulter faults the next segment's pages in on a
// thread of its own (madvise MADV_POPULATE_WRITE, Linux 5.14: the pages are mapped
// writable, their contents untouched, so it may run beside the writer), while the stages
// of the current segment run, which leave a core idle part of the time.
#pragma once
#include <condition_variable>
#include <mutex>
#include <thread>

namespace td {

class Prefaulter {
 public:
  ~Prefaulter() { stop(); }
  // Prefaults for an arena of `streams` streams of `stride` floats from `data`, each
  // `frames` long; [0, first) of every stream at once.
  void start(float* data, int streams, long long stride, long long frames, long long first);
  // The render writes [origin, origin + frames) of every stream next: the window after it
  // is prefaulted, and nothing before `origin` any more (a spilled arena drops the pages
  // it has written, which must not come back).
  void ahead_of(long long origin, long long frames);
  void stop();

 private:
  void run();
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  float* data_ = nullptr;
  int streams_ = 0;
  long long stride_ = 0, frames_ = 0;
  long long begin_ = 0, end_ = 0;  // the window asked for
  long long written_ = 0;          // where the render is: nothing before it is prefaulted
  bool stopping_ = false;
};

}  // namespace td
