#include "io/output_set.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "base/hash.h"
#include "base/input_error.h"

namespace td {
namespace {

std::mutex g_sets_mutex;
std::vector<OutputSet*> g_sets;
std::vector<std::filesystem::path> g_dirs;

std::filesystem::path normal(const std::filesystem::path& p) {
  return std::filesystem::absolute(p).lexically_normal();
}

nlohmann::json read_manifest(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// A manifest path is trusted only if it names a file inside the folder.
bool safe_relative(const std::string& rel) {
  const std::filesystem::path p(rel);
  if (rel.empty() || p.is_absolute()) return false;
  for (const auto& part : p)
    if (part == ".." || part == ".") return false;
  return true;
}

}  // namespace

OutputSet::OutputSet(const std::filesystem::path& dir, const std::string& manifest)
    : dir_(normal(dir)), manifest_(manifest) {
  std::lock_guard<std::mutex> lock(g_sets_mutex);
  g_sets.push_back(this);
  g_dirs.push_back(dir_);
}

OutputSet::~OutputSet() {
  {
    std::lock_guard<std::mutex> lock(g_sets_mutex);
    for (size_t i = 0; i < g_sets.size(); ++i)
      if (g_sets[i] == this) {
        g_sets.erase(g_sets.begin() + i);
        g_dirs.erase(g_dirs.begin() + i);
        break;
      }
  }
  if (published_) return;
  std::error_code ec;
  for (const Entry& e : entries_) std::filesystem::remove(e.tmp, ec);
}

OutputSet* OutputSet::covering(const std::filesystem::path& file) {
  const std::filesystem::path f = normal(file);
  std::lock_guard<std::mutex> lock(g_sets_mutex);
  for (size_t i = 0; i < g_sets.size(); ++i) {
    const std::filesystem::path rel = f.lexically_relative(g_dirs[i]);
    if (!rel.empty() && *rel.begin() != "..") return g_sets[i];
  }
  return nullptr;
}

std::filesystem::path OutputSet::readable(const std::filesystem::path& file) {
  OutputSet* set = covering(file);
  if (!set) return file;
  std::lock_guard<std::mutex> lock(set->mutex_);
  for (const Entry& e : set->entries_)
    if (e.file == file) return e.tmp;
  return file;
}

void OutputSet::add(const std::filesystem::path& tmp, const std::filesystem::path& file,
                    std::unique_ptr<TempFileGuard> guard) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Entry& e : entries_)
    if (e.file == file) {  // written again (top:K delivers its choice twice): the last wins
      std::error_code ec;
      if (e.tmp != tmp) std::filesystem::remove(e.tmp, ec);
      e.tmp = tmp;
      e.guard = std::move(guard);
      return;
    }
  entries_.push_back({tmp, file, std::move(guard)});
}

namespace {

// Writes `j` to `file` through a temporary renamed into place.
void write_json_atomic(const std::filesystem::path& file, const nlohmann::json& j) {
  const std::filesystem::path tmp = temp_path_for(file);
  {
    TempFileGuard guard(tmp);
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw InputError(file.string() + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) throw InputError(file.string() + ": " + ec.message());
}

// Carries out a journal: every rename whose temporary is still there, the removals, the
// manifest; then the journal goes. Each step may already have happened (idempotent).
void roll_forward(const std::filesystem::path& dir, const std::filesystem::path& journal) {
  const nlohmann::json j = read_manifest(journal);
  if (!j.is_object() || !j.contains("manifest_name") || !j.contains("manifest")) {
    std::error_code ec;
    std::filesystem::remove(journal, ec);  // not ours, or torn: it was never acted on
    return;
  }
  for (const auto& r : j.value("renames", nlohmann::json::array())) {
    const std::string from = r.value("from", std::string()), to = r.value("to", std::string());
    if (!safe_relative(from) || !safe_relative(to)) continue;
    std::error_code ec;
    if (std::filesystem::exists(dir / from, ec)) std::filesystem::rename(dir / from, dir / to, ec);
  }
  for (const auto& r : j.value("removals", nlohmann::json::array())) {
    const std::string rel = r.get<std::string>();
    if (!safe_relative(rel)) continue;
    std::error_code ec;
    std::filesystem::remove(dir / rel, ec);
  }
  const std::string name = j["manifest_name"].get<std::string>();
  if (safe_relative(name)) write_json_atomic(dir / name, j["manifest"]);
  std::error_code ec;
  std::filesystem::remove(journal, ec);
}

}  // namespace

// The publication is journaled, so that SIGKILL or a power cut in the middle of the
// renames cannot leave a folder that is neither set: the journal (the new manifest, the
// renames still to do, the old files to remove) is written atomically first, acted on,
// then removed. A journal found later is carried forward (complete_publication).
void OutputSet::publish() {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json renames = nlohmann::json::array();
  nlohmann::json removals = nlohmann::json::array();
  std::set<std::string> written;
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.file < b.file; });
  // The files' hashes on every core: a render with variants publishes one master per
  // variant, each read back from the disk (the write-behind dropped it from the cache).
  std::vector<std::string> hashes(entries_.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (long long i = 0; i < (long long)entries_.size(); ++i)
    hashes[i] = hash_file(entries_[i].tmp, true);
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const std::string rel = normal(e.file).lexically_relative(dir_).generic_string();
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(e.tmp, ec);
    files.push_back({{"path", rel}, {"bytes", ec ? 0 : bytes}, {"hash", hashes[i]}});
    renames.push_back(
        {{"from", normal(e.tmp).lexically_relative(dir_).generic_string()}, {"to", rel}});
    written.insert(rel);
  }
  // What the previous set wrote and this one did not (an old variant beside a report that
  // no longer describes it); files topdown never listed are left alone.
  const nlohmann::json previous = read_manifest(dir_ / manifest_);
  if (previous.is_object() && previous.contains("files") && previous["files"].is_array())
    for (const auto& f : previous["files"]) {
      const std::string rel = f.value("path", std::string());
      if (safe_relative(rel) && !written.count(rel)) removals.push_back(rel);
    }
  const nlohmann::json manifest = {{"tool", "topdown"}, {"files", files}};
  const std::filesystem::path journal = dir_ / (manifest_ + ".journal");
  write_json_atomic(journal, {{"manifest_name", manifest_},
                              {"manifest", manifest},
                              {"renames", renames},
                              {"removals", removals}});
  for (Entry& e : entries_) {
    std::error_code ec;
    std::filesystem::rename(e.tmp, e.file, ec);
    if (ec)
      throw InputError(e.file.string() +
                       ": cannot move the finished file into place: " + ec.message());
    e.guard.reset();
  }
  for (const auto& rel : removals) {
    std::error_code ec;
    std::filesystem::remove(dir_ / rel.get<std::string>(), ec);
  }
  write_json_atomic(dir_ / manifest_, manifest);
  std::error_code ec;
  std::filesystem::remove(journal, ec);
  published_ = true;
}

bool complete_publication(const std::filesystem::path& dir) {
  bool found = false;
  std::error_code ec;
  std::vector<std::filesystem::path> journals;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("topdown-manifest", 0) == 0 && e.path().extension() == ".journal")
      journals.push_back(e.path());
  }
  std::sort(journals.begin(), journals.end());
  for (const auto& j : journals) {
    roll_forward(dir, j);
    found = true;
  }
  return found;
}

std::vector<std::string> verify_outputs(const std::filesystem::path& dir) {
  complete_publication(dir);  // a publication cut short is carried forward first
  std::vector<std::filesystem::path> manifests;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("topdown-manifest", 0) == 0 && e.path().extension() == ".json")
      manifests.push_back(e.path());
  }
  std::sort(manifests.begin(), manifests.end());
  if (manifests.empty())
    throw InputError((dir / kManifestName).string() +
                     ": no manifest (a folder topdown render has published has one)");
  std::vector<std::string> problems;
  for (const auto& file : manifests) {
    const nlohmann::json m = read_manifest(file);
    if (!m.is_object() || !m.contains("files") || !m["files"].is_array()) {
      problems.push_back(file.filename().string() + ": not a manifest");
      continue;
    }
    for (const auto& f : m["files"]) {
      const std::string rel = f.value("path", std::string());
      if (!safe_relative(rel)) {
        problems.push_back("\"" + rel + "\": not a path inside the folder");
        continue;
      }
      const auto bytes = std::filesystem::file_size(dir / rel, ec);
      if (ec) {
        problems.push_back(rel + ": missing");
      } else if (bytes != f.value("bytes", (uintmax_t)0)) {
        problems.push_back(rel + ": " + std::to_string(bytes) + " bytes, the manifest says " +
                           std::to_string(f.value("bytes", (uintmax_t)0)));
      } else if (hash_file(dir / rel) != f.value("hash", std::string())) {
        problems.push_back(rel + ": its content differs from the manifest's hash");
      }
    }
  }
  return problems;
}

}  // namespace td
