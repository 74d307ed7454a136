// A render's outputs published as one set (docs/security.md): while an OutputSet for a
// folder exists, every file written into it (write_audio_atomic, write_text_atomic) stays
// under its temporary name; publish() then renames them all into place, removes the files
// that the previous set's manifest listed and this one does not, and writes the new
// manifest (every file with its size and hash) last. A set never published (an error, a
// signal) leaves the folder as it was: its temporaries are removed.
#pragma once
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/temp_files.h"

namespace td {

constexpr const char* kManifestName = "topdown-manifest.json";

class OutputSet {
 public:
  // `manifest`: the manifest's name in dir (a batch shard rendering some of a session's
  // variants into a folder it shares with other shards publishes its own).
  explicit OutputSet(const std::filesystem::path& dir, const std::string& manifest = kManifestName);
  ~OutputSet();  // removes the temporaries of a set not published
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // The set whose folder holds `file` (directly or in a subfolder), or nullptr.
  static OutputSet* covering(const std::filesystem::path& file);
  // A complete temporary `tmp` that becomes `file` at publish (its guard kept till then).
  void add(const std::filesystem::path& tmp, const std::filesystem::path& file,
           std::unique_ptr<TempFileGuard> guard);
  // Where `file` can be read now: its temporary while the set holding it is unpublished,
  // else itself (report.html embeds excerpts of variants written moments before).
  static std::filesystem::path readable(const std::filesystem::path& file);
  // Renames everything into place, removes the previous set's leftovers, writes the
  // manifest last. Throws InputError naming the file that could not be placed.
  void publish();

 private:
  struct Entry {
    std::filesystem::path tmp, file;
    std::unique_ptr<TempFileGuard> guard;
  };
  std::filesystem::path dir_;
  std::string manifest_;
  std::mutex mutex_;
  std::vector<Entry> entries_;
  bool published_ = false;
};

// Carries forward a publication that SIGKILL or a power cut interrupted (its journal,
// topdown-manifest*.json.journal, names the renames and removals left): the folder then
// holds the new set. Call it before removing stale temporaries: the journal's renames
// read them. Returns whether there was one.
bool complete_publication(const std::filesystem::path& dir);

// Checks `dir` against its manifests (topdown-manifest*.json: a render's, or each batch
// shard's): every file present with its size and hash, after completing an interrupted
// publication. Returns the problems (empty: the sets are complete and unchanged); throws
// InputError without any manifest.
std::vector<std::string> verify_outputs(const std::filesystem::path& dir);

}  // namespace td
