// Batch bookkeeping: job lists, shards that cover every session exactly once, and the
// job-array environment.
#include "batch/batch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "session/session.h"
#include "test_util.h"

namespace td {
namespace {

TEST(Shard, ParsesKOfNAndRejectsTheRest) {
  const Shard s = parse_shard("2/4");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  for (const char* bad : {"4/4", "1/0", "a/b", "1-4", "-1/3"}) {
    try {
      parse_shard(bad);
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--shard"), std::string::npos) << e.what();
    }
  }
}

TEST(Shard, EveryJobBelongsToExactlyOneShard) {
  std::vector<BatchJob> jobs;
  for (int i = 0; i < 11; ++i) jobs.push_back({"s" + std::to_string(100 + i), "x.toml"});
  std::multiset<std::string> seen;
  for (int k = 0; k < 3; ++k)
    for (const auto& j : shard_jobs(jobs, {k, 3})) seen.insert(j.name);
  EXPECT_EQ(seen.size(), jobs.size());
  for (const auto& j : jobs) EXPECT_EQ(seen.count(j.name), 1u) << j.name;
}

TEST(Shard, TakenFromSlurmAndKubernetesJobArrays) {
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("JOB_COMPLETION_INDEX");
  EXPECT_FALSE(shard_from_environment().has_value());
  setenv("SLURM_ARRAY_TASK_ID", "5", 1);  // --array=4-7: task 5 is shard 1 of 4
  setenv("SLURM_ARRAY_TASK_MIN", "4", 1);
  setenv("SLURM_ARRAY_TASK_MAX", "7", 1);
  auto s = shard_from_environment();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 4);
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("SLURM_ARRAY_TASK_MIN");
  unsetenv("SLURM_ARRAY_TASK_MAX");
  setenv("JOB_COMPLETION_INDEX", "2", 1);
  setenv("TOPDOWN_SHARD_COUNT", "3", 1);
  s = shard_from_environment();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 3);
  unsetenv("JOB_COMPLETION_INDEX");
  unsetenv("TOPDOWN_SHARD_COUNT");
}

TEST(Jobs, AListFileWithCommentsAndRelativePaths) {
  test::TempDir dir;
  test::write_text(dir / "list.txt", "# tonight's sessions\n\nb.toml\n  a.toml  \n/abs/c.toml\n");
  const auto jobs = list_jobs(dir / "list.txt");
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].name, "a");  // by name
  EXPECT_EQ(jobs[0].session, dir / "a.toml");
  EXPECT_EQ(jobs[2].session, "/abs/c.toml");
}

TEST(Jobs, AFolderAndItsErrors) {
  test::TempDir dir;
  EXPECT_THROW(list_jobs(dir / "none"), InputError);
  EXPECT_THROW(list_jobs(dir.path), InputError);  // empty
  test::write_text(dir / "one.toml", "");
  test::write_text(dir / "notes.txt", "");
  EXPECT_EQ(list_jobs(dir.path).size(), 1u);
  test::write_text(dir / "list.txt", "one.toml\nsub/one.toml\n");
  try {
    list_jobs(dir / "list.txt");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("two sessions are named \"one\""), std::string::npos);
  }
}

TEST(MemoryBudget, Sizes) {
  EXPECT_DOUBLE_EQ(parse_bytes("8G"), 8.0 * 1073741824.0);
  EXPECT_DOUBLE_EQ(parse_bytes("512M"), 512.0 * 1048576.0);
  EXPECT_DOUBLE_EQ(parse_bytes("1.5GiB"), 1.5 * 1073741824.0);
  EXPECT_THROW(parse_bytes("lots"), InputError);
  EXPECT_THROW(parse_bytes("100"), InputError);  // under 1M
}

TEST(Hash, ContentNotName) {
  test::TempDir dir;
  test::write_text(dir / "a", "same bytes");
  test::write_text(dir / "b", "same bytes");
  test::write_text(dir / "c", "same bytez");
  EXPECT_EQ(hash_file(dir / "a"), hash_file(dir / "b"));
  EXPECT_NE(hash_file(dir / "a"), hash_file(dir / "c"));
  EXPECT_EQ(hash_file(dir / "none"), "missing");
}

}  // namespace
}  // namespace td
