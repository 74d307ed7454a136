// Files that topdown writes once and reads at most once more (a delivery's audio, the
// manifest's hash of it) pass through a few MiB of the page cache instead of filling it.
//
// Why: a page the kernel has not handed out lately is slow to touch the first time on the
// virtual machines topdown runs on (measured on the 2-core bench machine: 1 GiB written
// plainly 5 to 6.5 s, of which 4.5 to 5.5 s in the kernel copying into fresh cache pages;
// the same written 8 MiB at a time, each piece's write-back started, the previous piece
// awaited and dropped, 0.4 to 0.8 s, because the next piece reuses the dropped pages).
// The data and the file are the same either way; only where the pages come from changes.
#pragma once

namespace td {

// Follows a file descriptor being written sequentially: advance(end) after each write,
// with the file's length so far. Starts the write-back of every whole 8 MiB piece and
// drops the piece before it from the cache once it is on disk (Linux sync_file_range and
// posix_fadvise; a no-op where the file system ignores them, as tmpfs does).
class WriteBehind {
 public:
  static constexpr long long kPieceBytes = 8LL << 20;
  explicit WriteBehind(int fd) : fd_(fd) {}
  void advance(long long end);
  // A write-back reported an error (EIO, ENOSPC, EDQUOT): the file is not what was written.
  bool failed() const { return failed_; }

 private:
  int fd_;
  long long started_ = 0, dropped_ = 0;
  bool failed_ = false;
};

// Drops [begin, end) of a file read sequentially from the cache, behind the reader.
void drop_read_pages(int fd, long long begin, long long end);

}  // namespace td
