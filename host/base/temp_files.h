// Temporary files and the signals that stop a render (docs/security.md): every file being
// written is registered while it is a temporary, so that SIGINT or SIGTERM (how a terminal,
// Slurm and Kubernetes stop a job) removes it before the process exits with 130 or 143;
// and a render removes the temporaries that processes which no longer exist left behind.
#pragma once
#include <filesystem>

namespace td {

// Installs the SIGINT and SIGTERM handlers (once; the CLI calls it at start).
void install_signal_cleanup();

// Registers `path` for removal on SIGINT/SIGTERM for as long as the guard lives (release()
// once the file has been renamed into place).
class TempFileGuard {
 public:
  explicit TempFileGuard(const std::filesystem::path& path);
  ~TempFileGuard();
  void release();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;

 private:
  int slot_ = -1;
};

// The name a temporary of `file` gets in its folder: ".<name>.partial-<pid>".
std::filesystem::path temp_path_for(const std::filesystem::path& file);

// Removes, in `dir`, temporaries (".*.partial-<pid>") whose process no longer exists.
// Files topdown did not name that way are left alone. Returns how many were removed.
int remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace td
