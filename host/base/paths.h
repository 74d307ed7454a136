// Where a session may read and where topdown may write: the confinement of a service
// rendering sessions and stems it did not write (docs/security.md).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace td {

// The folders a session's stems and references may resolve into, besides the session
// file's own folder. A local user opts out with allow_any (--allow-any-path).
struct PathPolicy {
  std::vector<std::filesystem::path> allowed;  // --allow-path DIR, TOPDOWN_ALLOW_PATH
  bool allow_any = false;
};

// The policy of the command line's flags plus TOPDOWN_ALLOW_PATH (folders separated by ':').
PathPolicy path_policy(const std::vector<std::string>& allow_paths, bool allow_any);

// Throws InputError unless `file` resolves (after symlinks, `..` and absolute paths) inside
// `session_dir` or a folder of the policy. `what` names the file and key in the message.
void confine_path(const std::filesystem::path& file, const std::filesystem::path& session_dir,
                  const PathPolicy& policy, const std::string& what);

// A file or folder name derived from untrusted text (a session file's stem): every
// character outside [A-Za-z0-9._-] and a leading '.' become '_', so the result is never
// empty, ".", "..", hidden or a path; "session" when the text is empty.
std::string safe_name(const std::string& text);

}  // namespace td
