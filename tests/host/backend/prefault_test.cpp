// Specification of the keep arena's prefaulter (host/backend/prefault.h): it maps the next
// segment's pages ahead of the writer without changing a byte the writer wrote, and never
// maps again the pages behind the writer (a spilled arena drops those).
#include "backend/prefault.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace td {
namespace {

constexpr int kStreams = 3;
constexpr long long kSegment = 1 << 16, kFrames = 6 * kSegment;

struct Arena {
  float* data;
  size_t bytes;
  Arena() {
    bytes = sizeof(float) * kStreams * kFrames;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data = p == MAP_FAILED ? nullptr : static_cast<float*>(p);
    madvise(data, bytes, MADV_NOHUGEPAGE);  // page by page, so mincore sees the window
  }
  ~Arena() { munmap(data, bytes); }
  // The resident share of [b, e) of a stream.
  double resident(int s, long long b, long long e) const {
    const long long page = sysconf(_SC_PAGESIZE);
    char* from = reinterpret_cast<char*>(data + s * kFrames + b);
    char* to = reinterpret_cast<char*>(data + s * kFrames + e);
    char* pb =
        reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(from) + page - 1) / page * page);
    const long long pages = (to - pb) / page;
    std::vector<unsigned char> in((size_t)pages);
    if (pages <= 0 || mincore(pb, pages * page, in.data()) != 0) return -1.0;
    long long n = 0;
    for (unsigned char c : in) n += c & 1;
    return (double)n / pages;
  }
};

// Waits until the prefaulter has mapped [b, e) of every stream (or a few seconds passed).
bool wait_resident(const Arena& a, long long b, long long e) {
  for (int i = 0; i < 500; ++i) {
    bool all = true;
    for (int s = 0; s < kStreams; ++s) all = all && a.resident(s, b, e) == 1.0;
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(Prefaulter, MapsTheNextSegmentAheadOfTheWriterAndChangesNoByte) {
  Arena a;
  ASSERT_NE(a.data, nullptr);
  ASSERT_EQ(a.resident(0, 0, kFrames), 0.0) << "a fresh mapping has no page yet";
  Prefaulter p;
  p.start(a.data, kStreams, kFrames, kFrames, kSegment);
  ASSERT_TRUE(wait_resident(a, 0, kSegment)) << "the first segment, at once";
  for (long long origin = 0; origin < kFrames; origin += kSegment) {
    p.ahead_of(origin, kSegment);
    for (int s = 0; s < kStreams; ++s)  // the writer, beside the prefaulter
      for (long long n = origin; n < origin + kSegment; ++n)
        a.data[s * kFrames + n] = (float)(s * kFrames + n);
    if (origin + 2 * kSegment <= kFrames)
      EXPECT_TRUE(wait_resident(a, origin + kSegment, origin + 2 * kSegment))
          << "the segment after " << origin;
  }
  p.stop();
  for (int s = 0; s < kStreams; ++s)
    for (long long n = 0; n < kFrames; ++n)
      ASSERT_EQ(a.data[s * kFrames + n], (float)(s * kFrames + n)) << s << " " << n;
}

TEST(Prefaulter, NeverMapsAgainWhatTheWriterHasPassed) {
  Arena a;
  ASSERT_NE(a.data, nullptr);
  Prefaulter p;
  p.start(a.data, kStreams, kFrames, kFrames, 0);  // nothing at once
  // The writer is already at the fourth segment: the window after it, not the ones before.
  p.ahead_of(3 * kSegment, kSegment);
  ASSERT_TRUE(wait_resident(a, 4 * kSegment, 5 * kSegment));
  p.stop();
  for (int s = 0; s < kStreams; ++s) EXPECT_EQ(a.resident(s, 0, 4 * kSegment), 0.0) << s;
}

}  // namespace
}  // namespace td
