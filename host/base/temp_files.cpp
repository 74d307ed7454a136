#include "base/temp_files.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace td {
namespace {

// Fixed slots, so that the handler touches no allocator: a slot is claimed (1), filled,
// then published (2); the handler unlinks every published path.
constexpr int kSlots = 256;
constexpr int kPathBytes = 4096;
struct Slot {
  std::atomic<int> state{0};
  char path[kPathBytes];
};
Slot g_slots[kSlots];

void on_signal(int sig) {
  for (Slot& s : g_slots)
    if (s.state.load() == 2) unlink(s.path);
  _exit(128 + sig);
}

}  // namespace

void install_signal_cleanup() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

TempFileGuard::TempFileGuard(const std::filesystem::path& path) {
  const std::string p = path.string();
  if (p.size() + 1 > (size_t)kPathBytes) return;  // not registered; still removed on errors
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (!g_slots[i].state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(g_slots[i].path, p.c_str(), p.size() + 1);
    g_slots[i].state.store(2);
    slot_ = i;
    return;
  }
}

TempFileGuard::~TempFileGuard() {
  release();
}

void TempFileGuard::release() {
  if (slot_ >= 0) g_slots[slot_].state.store(0);
  slot_ = -1;
}

std::filesystem::path temp_path_for(const std::filesystem::path& file) {
  return file.parent_path() /
         ("." + file.filename().string() + ".partial-" + std::to_string(getpid()));
}

int remove_stale_temporaries(const std::filesystem::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const size_t at = name.rfind(".partial-");
    if (name.empty() || name[0] != '.' || at == std::string::npos) continue;
    const std::string digits = name.substr(at + 9);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(digits.c_str(), nullptr, 10);
    if (pid <= 0 || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rm;
    if (e.is_regular_file(rm) && std::filesystem::remove(e.path(), rm)) ++removed;
  }
  return removed;
}

}  // namespace td
