// A long output passes through a few MiB of the page cache, not all of it, and is written
// and hashed the same (base/page_cache.h).
#include "base/page_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <vector>

#include "base/hash.h"
#include "test_util.h"

namespace td {
namespace {

const long long kMiB = 1 << 20;

// Bytes of `file` in the page cache (mincore over a mapping of it).
long long cached_bytes(const std::filesystem::path& file) {
  const int fd = open(file.c_str(), O_RDONLY);
  const long long size = (long long)std::filesystem::file_size(file);
  void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  const long page = sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> in((size + page - 1) / page);
  mincore(p, size, in.data());
  munmap(p, size);
  long long n = 0;
  for (unsigned char c : in) n += c & 1;
  return n * page;
}

bool on_tmpfs(const std::filesystem::path& dir) {
  struct statfs s {};
  return statfs(dir.c_str(), &s) == 0 && s.f_type == TMPFS_MAGIC;
}

// 64 MiB written 1 MiB at a time, each byte its offset's low bits.
std::filesystem::path write_long(const test::TempDir& t) {
  const std::filesystem::path f = t.path / "long.bin";
  const int fd = open(f.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  WriteBehind behind(fd);
  std::vector<unsigned char> block(kMiB);
  for (long long at = 0; at < 64 * kMiB; at += kMiB) {
    for (long long i = 0; i < kMiB; ++i) block[i] = (unsigned char)((at + i) * 7 >> 3);
    EXPECT_EQ(write(fd, block.data(), kMiB), kMiB);
    behind.advance(at + kMiB);
  }
  EXPECT_FALSE(behind.failed());
  close(fd);
  return f;
}

TEST(PageCache, AWriteLeavesAtMostTwoPiecesCachedAndTheSameBytes) {
  test::TempDir t;
  if (on_tmpfs(t.path)) GTEST_SKIP() << "tmpfs keeps every page in memory by design";
  const std::filesystem::path f = write_long(t);
  // The piece being written back and the one before it may still be cached.
  EXPECT_LE(cached_bytes(f), 2 * WriteBehind::kPieceBytes);
  const int fd = open(f.c_str(), O_RDONLY);
  std::vector<unsigned char> block(kMiB);
  for (long long at = 0; at < 64 * kMiB; at += kMiB) {
    ASSERT_EQ(read(fd, block.data(), kMiB), kMiB);
    for (long long i = 0; i < kMiB; i += 4099)
      ASSERT_EQ(block[i], (unsigned char)((at + i) * 7 >> 3)) << "at byte " << at + i;
  }
  close(fd);
}

TEST(PageCache, AHashThatDropsTheCacheIsTheSameHash) {
  test::TempDir t;
  const std::filesystem::path f = write_long(t);
  const std::string kept = hash_file(f);  // reads the whole file into the cache
  EXPECT_EQ(hash_file(f, true), kept);
  if (!on_tmpfs(t.path)) EXPECT_LE(cached_bytes(f), WriteBehind::kPieceBytes);
  EXPECT_EQ(hash_file(t.path / "none", true), "missing");
}

}  // namespace
}  // namespace td
