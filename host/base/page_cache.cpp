#include "base/page_cache.h"

#include <fcntl.h>

#include <cerrno>

namespace td {
namespace {

// Only a lost write counts; a file system that does not support the call is left be.
bool lost(int rc) {
  return rc != 0 && (errno == EIO || errno == ENOSPC || errno == EDQUOT);
}

}  // namespace

void WriteBehind::advance(long long end) {
  while (end - started_ >= kPieceBytes) {
    failed_ |= lost(sync_file_range(fd_, started_, kPieceBytes, SYNC_FILE_RANGE_WRITE));
    started_ += kPieceBytes;
    // The piece before: on disk once its write-back is done, then out of the cache.
    if (started_ - dropped_ > kPieceBytes) {
      failed_ |= lost(sync_file_range(
          fd_, dropped_, kPieceBytes,
          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
      posix_fadvise(fd_, dropped_, kPieceBytes, POSIX_FADV_DONTNEED);
      dropped_ += kPieceBytes;
    }
  }
}

void drop_read_pages(int fd, long long begin, long long end) {
  if (end > begin) posix_fadvise(fd, begin, end - begin, POSIX_FADV_DONTNEED);
}

}  // namespace td
