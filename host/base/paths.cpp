#include "base/paths.h"

#include <cstdlib>

#include "base/input_error.h"

namespace td {
namespace {

// The path with symlinks, "." and ".." resolved as far as it exists (the rest lexically).
std::filesystem::path resolved(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::path r = std::filesystem::weakly_canonical(std::filesystem::absolute(p), ec);
  return ec ? std::filesystem::absolute(p).lexically_normal() : r;
}

bool inside(const std::filesystem::path& file, const std::filesystem::path& dir) {
  const std::filesystem::path rel = file.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != ".." && !rel.is_absolute();
}

}  // namespace

PathPolicy path_policy(const std::vector<std::string>& allow_paths, bool allow_any) {
  PathPolicy p;
  p.allow_any = allow_any;
  for (const auto& a : allow_paths) p.allowed.push_back(a);
  if (const char* env = std::getenv("TOPDOWN_ALLOW_PATH")) {
    std::string list = env;
    size_t at = 0;
    while (at <= list.size()) {
      const size_t end = std::min(list.find(':', at), list.size());
      if (end > at) p.allowed.push_back(list.substr(at, end - at));
      at = end + 1;
    }
  }
  return p;
}

void confine_path(const std::filesystem::path& file, const std::filesystem::path& session_dir,
                  const PathPolicy& policy, const std::string& what) {
  if (policy.allow_any) return;
  const std::filesystem::path target = resolved(file);
  const std::filesystem::path home = resolved(session_dir.empty() ? "." : session_dir);
  if (inside(target, home)) return;
  for (const auto& dir : policy.allowed)
    if (inside(target, resolved(dir))) return;
  throw InputError(what + ": \"" + file.string() + "\" resolves to " + target.string() +
                   ", outside the session's folder " + home.string() +
                   " (allowed: files inside it; --allow-path DIR or TOPDOWN_ALLOW_PATH adds a "
                   "folder, --allow-any-path lifts the confinement)");
}

std::string safe_name(const std::string& text) {
  std::string out;
  for (char ch : text) {
    const unsigned char c = (unsigned char)ch;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    out += ok ? ch : '_';
  }
  if (out.empty()) return "session";
  if (out[0] == '.') out[0] = '_';
  return out;
}

}  // namespace td
