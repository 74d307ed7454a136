// Publishing a render's outputs (io/output_set.h): all or nothing, and a publication cut
// short by SIGKILL or a power cut (its journal left behind, some renames done, some not)
// is carried forward, so the folder holds the new set, never a mix of the two.
#include "io/output_set.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "base/temp_files.h"
#include "test_util.h"

namespace td {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Publishes {file: text} into dir as a render would.
void publish(const fs::path& dir, const std::map<std::string, std::string>& files) {
  OutputSet set(dir);
  for (const auto& [name, text] : files) {
    const fs::path tmp = temp_path_for(dir / name);
    write(tmp, text);
    set.add(tmp, dir / name, std::make_unique<TempFileGuard>(tmp));
  }
  set.publish();
}

TEST(OutputSet, AnInterruptedPublicationIsCarriedForward) {
  test::TempDir dir;
  publish(dir.path, {{"master.wav", "old master"},
                     {"report.json", "old report"},
                     {"variants/v0001.wav", "old variant"}});
  EXPECT_TRUE(verify_outputs(dir.path).empty());
  // The next set, interrupted: its journal written, the report renamed, the master's
  // temporary still waiting, the old variant not yet removed, the old manifest in place.
  const fs::path tmp_master = temp_path_for(dir / "master.wav");
  const fs::path tmp_report = temp_path_for(dir / "report.json");
  write(tmp_master, "new master!");
  write(dir / "report.json", "new report!");
  // The journal publish() writes first, for the set {master.wav, report.json}.
  auto entry = [&](const std::string& path, const std::string& text) {
    return nlohmann::json{
        {"path", path},
        {"bytes", text.size()},
        {"hash", hash_file(path == "master.wav" ? tmp_master : dir / "report.json")}};
  };
  const nlohmann::json manifest = {
      {"tool", "topdown"},
      {"files", {entry("master.wav", "new master!"), entry("report.json", "new report!")}}};
  const nlohmann::json journal = {
      {"manifest_name", kManifestName},
      {"manifest", manifest},
      {"renames",
       {{{"from", tmp_master.filename().string()}, {"to", "master.wav"}},
        {{"from", tmp_report.filename().string()}, {"to", "report.json"}}}},
      {"removals", {"variants/v0001.wav"}}};
  write(dir / (std::string(kManifestName) + ".journal"), journal.dump());
  // As found: neither set. Verifying carries the publication forward first.
  const std::vector<std::string> problems = verify_outputs(dir.path);
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(test::read_bytes(dir / "master.wav"), "new master!");
  EXPECT_FALSE(fs::exists(dir / "variants" / "v0001.wav"));
  EXPECT_FALSE(fs::exists(dir / (std::string(kManifestName) + ".journal")));
  EXPECT_FALSE(complete_publication(dir.path)) << "nothing left to carry";
}

}  // namespace
}  // namespace td
