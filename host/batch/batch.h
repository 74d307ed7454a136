// `topdown batch` and `topdown merge`: many sessions rendered into one output folder,
// resumable (a completion record written last, with hashes of the session file and its
// stems), failure-isolated, and split deterministically into shards for job arrays.
#pragma once
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/hash.h"  // hash_file
#include "base/paths.h"

namespace td {

struct Shard {
  int index = 0;  // 0 .. count - 1
  int count = 1;
};

// "K/N" (K in 0 .. N-1). Throws InputError naming the flag and the allowed form.
Shard parse_shard(const std::string& text);
// The shard from the environment of a job array: SLURM_ARRAY_TASK_ID with
// SLURM_ARRAY_TASK_COUNT (or SLURM_ARRAY_TASK_MIN/MAX), or Kubernetes'
// JOB_COMPLETION_INDEX with TOPDOWN_SHARD_COUNT. nullopt when none is set.
std::optional<Shard> shard_from_environment();

struct BatchJob {
  std::string name;  // the session file's stem through safe_name: OUT/<name>/
  std::filesystem::path session;
};

// JOBS is a folder (every *.toml in it, by name) or a text file listing session files
// (one per line, relative to the list's folder; blank lines and # comments skipped).
// Throws InputError for a missing JOBS, an empty list or two sessions with one name.
std::vector<BatchJob> list_jobs(const std::filesystem::path& jobs);

// The jobs of one shard: job i (in name order) belongs to shard i % count.
std::vector<BatchJob> shard_jobs(const std::vector<BatchJob>& jobs, const Shard& shard);

struct BatchOptions {
  std::filesystem::path out_dir;
  std::string backend = "auto";
  Shard shard;
  bool sharded = false;  // write batch-shard-K-of-N.json instead of batch.json
  bool force = false;    // re-render sessions that are already complete
  PathPolicy paths;      // where the sessions' stems and references may be
  // Sessions rendered together in one launch must fit this (bytes; estimated). 0: a
  // quarter of the machine's memory.
  double memory_budget_bytes = 0;
  std::function<void(const std::string& session, const std::string& status)> on_session;
};

struct BatchSummary {
  int ok = 0, failed = 0, skipped = 0;
  nlohmann::json report;  // what batch.json holds
};

// Renders this shard's work: job i when i % N == K, and of every session with at least
// 4 * N variants the variants v with v % N == K (written as report-shard-K-of-N.json in
// the session's folder, joined by merge_shards). Sessions of one sample rate go together
// in shared launches
// (render_sessions) within the memory budget. Never throws for a bad session: its error is
// recorded and the batch goes on. Throws InputError only for an unusable output folder.
BatchSummary run_batch(const std::vector<BatchJob>& jobs, const BatchOptions& options);

// Joins OUT/batch-shard-K-of-N.json files into OUT/batch.json and batch.csv. `missing`
// receives the shard indices with no file. Throws InputError when there are no shard files
// or they disagree on N.
nlohmann::json merge_shards(const std::filesystem::path& out_dir, std::vector<int>& missing);

// "8G", "512M", "1.5G" or bytes. Throws InputError.
double parse_bytes(const std::string& text);

// One row per session for spreadsheets.
std::string batch_csv(const nlohmann::json& batch);

}  // namespace td
