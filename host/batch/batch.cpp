#include "batch/batch.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "base/csv.h"
#include "base/temp_files.h"
#include "io/audio_file.h"
#include "io/output_set.h"
#include "kernels/dither.h"  // mix64
#include "render/render.h"
#include "report/report.h"
#include "report/report_html.h"
#include "session/session.h"

namespace td {
namespace {

const char* kRecord = ".topdown-complete.json";

std::optional<long> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end) return std::nullopt;
  return n;
}

nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return nullptr;  // a torn or foreign file counts as no record
  }
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const std::regex form("^([0-9]+)/([0-9]+)$");
  std::smatch m;
  if (!std::regex_match(text, m, form))
    throw InputError("--shard " + text + ": not K/N (allowed: K/N with 0 <= K < N, e.g. 0/4)");
  Shard s{std::stoi(m[1]), std::stoi(m[2])};
  if (s.count < 1 || s.index >= s.count)
    throw InputError("--shard " + text + ": K must be in 0 .. N-1 and N at least 1");
  return s;
}

std::optional<Shard> shard_from_environment() {
  if (auto id = env_number("SLURM_ARRAY_TASK_ID")) {
    std::optional<long> count = env_number("SLURM_ARRAY_TASK_COUNT");
    const auto lo = env_number("SLURM_ARRAY_TASK_MIN"), hi = env_number("SLURM_ARRAY_TASK_MAX");
    long first = lo.value_or(0);
    if (!count && lo && hi) count = *hi - *lo + 1;
    if (count && *count > 0 && *id - first >= 0 && *id - first < *count)
      return Shard{(int)(*id - first), (int)*count};
  }
  if (auto index = env_number("JOB_COMPLETION_INDEX"))
    if (auto count = env_number("TOPDOWN_SHARD_COUNT"))
      if (*count > 0 && *index >= 0 && *index < *count) return Shard{(int)*index, (int)*count};
  return std::nullopt;
}

std::vector<BatchJob> list_jobs(const std::filesystem::path& jobs) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(jobs, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(jobs, ec))
      if (e.is_regular_file() && e.path().extension() == ".toml") files.push_back(e.path());
  } else if (std::filesystem::is_regular_file(jobs, ec)) {
    std::ifstream in(jobs);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const size_t a = line.find_first_not_of(" \t\r"), b = line.find_last_not_of(" \t\r");
      if (a == std::string::npos || line[a] == '#') continue;
      std::filesystem::path p = line.substr(a, b - a + 1);
      if (p.is_relative()) p = jobs.parent_path() / p;
      files.push_back(p);
    }
  } else {
    throw InputError(
        jobs.string() +
        ": not found (allowed: a folder of session files or a text file listing them)");
  }
  std::vector<BatchJob> out;
  for (const auto& f : files) out.push_back({safe_name(f.stem().string()), f});
  std::sort(out.begin(), out.end(),
            [](const BatchJob& x, const BatchJob& y) { return x.name < y.name; });
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i].name == out[i - 1].name)
      throw InputError(
          jobs.string() + ": two sessions are named \"" + out[i].name + "\" (" +
          out[i - 1].session.string() + ", " + out[i].session.string() +
          "); each renders into OUT/<name>/ (the file's name with characters other than letters, "
          "digits, '.', '_' and '-' and a leading '.' made '_'), so names must differ");
  if (out.empty()) throw InputError(jobs.string() + ": no session files (*.toml) to render");
  return out;
}

std::vector<BatchJob> shard_jobs(const std::vector<BatchJob>& jobs, const Shard& shard) {
  std::vector<BatchJob> out;
  for (size_t i = 0; i < jobs.size(); ++i)
    if ((int)(i % shard.count) == shard.index) out.push_back(jobs[i]);
  return out;
}

namespace {

// What the completion record must match: the tool version and every input's content.
nlohmann::json input_hashes(const Session& s, const std::filesystem::path& session_file) {
  nlohmann::json j;
  j["tool"] = kVersion;
  j["session"] = hash_file(session_file);
  nlohmann::json stems = nlohmann::json::object();
  for (const auto& n : s.nodes)
    if (n.kind == NodeKind::kTrack) stems[n.name] = hash_file(n.file);
  j["stems"] = stems;
  return j;
}

// A session of the batch on its way: parsed, hashed, and either done (skipped / failed) or
// waiting for its launch.
struct Pending {
  std::optional<Session> session;
  nlohmann::json inputs;
  nlohmann::json row;
  std::string status;  // "" while waiting
  std::chrono::steady_clock::time_point t0;
};

nlohmann::json failed_row(nlohmann::json row, const std::string& error) {
  row.update({{"status", "failed"},
              {"error", error},
              {"integrated_lufs", nullptr},
              {"true_peak_dbtp", nullptr},
              {"variants", 0}});
  return row;
}

double elapsed(std::chrono::steady_clock::time_point t0) {
  return std::round(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() *
                    1000) /
         1000;
}

std::filesystem::path summary_file(const BatchOptions& opt) {
  if (!opt.sharded) return opt.out_dir / "batch.json";
  return opt.out_dir / ("batch-shard-" + std::to_string(opt.shard.index) + "-of-" +
                        std::to_string(opt.shard.count) + ".json");
}

}  // namespace

std::string batch_csv(const nlohmann::json& batch) {
  std::ostringstream os;
  bool first = true;
  for (const char* h :
       {"name", "status", "integrated_lufs", "true_peak_dbtp", "variants", "wall_s", "error"}) {
    os << (first ? "" : ",") << csv_cell(h);
    first = false;
  }
  os << "\n";
  auto cell = [](const nlohmann::json& v) -> std::string {
    if (v.is_null()) return csv_cell("");
    if (v.is_string()) return csv_cell(v.get<std::string>());
    if (v.is_number()) return csv_number(v.get<double>());
    return csv_cell(v.dump());
  };
  for (const auto& r : batch["sessions"])
    os << cell(r["name"]) << "," << cell(r["status"]) << "," << cell(r["integrated_lufs"]) << ","
       << cell(r["true_peak_dbtp"]) << "," << cell(r["variants"]) << "," << cell(r["wall_s"]) << ","
       << cell(r["error"]) << "\n";
  return os.str();
}

double parse_bytes(const std::string& text) {
  const std::regex form("^([0-9]+(\\.[0-9]+)?)\\s*([kKmMgGtT]?)(i?[bB])?$");
  std::smatch m;
  if (!std::regex_match(text, m, form))
    throw InputError("--memory-budget " + text + ": not a size (allowed: e.g. 512M, 8G, 1.5G)");
  const std::string unit = m[3];
  const double scale = unit.empty()                                        ? 1.0
                       : std::string("kK").find(unit) != std::string::npos ? 1024.0
                       : std::string("mM").find(unit) != std::string::npos ? 1048576.0
                       : std::string("gG").find(unit) != std::string::npos ? 1073741824.0
                                                                           : 1099511627776.0;
  const double v = std::stod(m[1]) * scale;
  if (v < 1048576.0) throw InputError("--memory-budget " + text + ": at least 1M");
  return v;
}

BatchSummary run_batch(const std::vector<BatchJob>& jobs, const BatchOptions& opt) {
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec)
    throw InputError(opt.out_dir.string() + ": cannot create the output folder (" + ec.message() +
                     ")");
  BatchSummary s;
  s.report = {
      {"tool", {{"name", "topdown"}, {"version", kVersion}}},
      {"shard", opt.sharded ? nlohmann::json{{"index", opt.shard.index}, {"count", opt.shard.count}}
                            : nlohmann::json(nullptr)}};
  std::vector<Pending> pending(jobs.size());
  // batch.json lists the sessions in job order; rewritten whenever one is settled, so an
  // interrupted batch still says what it did.
  auto publish = [&](size_t i, const std::string& status) {
    pending[i].status = status;
    pending[i].row["status"] = status;
    (status == "ok" ? s.ok : status == "failed" ? s.failed : s.skipped)++;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& p : pending)
      if (!p.status.empty()) rows.push_back(p.row);
    s.report["sessions"] = rows;
    s.report["totals"] = {{"ok", s.ok}, {"failed", s.failed}, {"skipped", s.skipped}};
    write_text_atomic(summary_file(opt), s.report.dump(2) + "\n");
    if (opt.on_session) opt.on_session(jobs[i].name, status);
  };

  std::vector<SessionJob> work;
  std::vector<size_t> work_index;
  std::vector<std::string> report_name(jobs.size(), "report.json");
  std::vector<std::string> record_name(jobs.size(), kRecord);
  std::vector<std::vector<int>> subset(jobs.size());
  std::vector<std::unique_ptr<OutputSet>> sets(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    Pending& p = pending[i];
    p.t0 = std::chrono::steady_clock::now();
    p.row = {{"name", jobs[i].name}, {"session", jobs[i].session.string()}};
    const std::filesystem::path dir = opt.out_dir / jobs[i].name;
    // Whose work is this session? Job i belongs to shard i % N; a session with many
    // variants (at least 4 per shard) is split instead: every shard renders the variants
    // v with v % N == K.
    const bool by_index = !opt.sharded || (int)(i % opt.shard.count) == opt.shard.index;
    try {
      p.session = parse_session_file(jobs[i].session);
      confine_session_paths(*p.session, opt.paths);
    } catch (const std::exception& e) {
      if (!by_index) continue;  // its own shard reports it
      p.row = failed_row(p.row, e.what());
      p.row["wall_s"] = elapsed(p.t0);
      publish(i, "failed");
      continue;
    }
    const int variants = (int)expand_variants(p.session->variants).size();
    const bool split = opt.sharded && variants >= 4 * opt.shard.count;
    if (!split && !by_index) continue;
    if (split) {
      const std::string tag =
          std::to_string(opt.shard.index) + "-of-" + std::to_string(opt.shard.count);
      for (int v = opt.shard.index; v < variants; v += opt.shard.count) subset[i].push_back(v);
      report_name[i] = "report-shard-" + tag + ".json";
      record_name[i] = ".topdown-complete-shard-" + tag + ".json";
      p.row["variant_shard"] = {{"index", opt.shard.index}, {"count", opt.shard.count}};
    }
    try {
      p.inputs = input_hashes(*p.session, jobs[i].session);
      if (split) p.inputs["variant_shard"] = p.row["variant_shard"];
      const nlohmann::json record = read_json(dir / record_name[i]);
      if (!opt.force && record.is_object() &&
          record.value("inputs", nlohmann::json()) == p.inputs) {
        p.row.update(record["summary"]);
        p.row["wall_s"] = 0.0;
        publish(i, "skipped");
        continue;
      }
      std::filesystem::create_directories(dir);
      // No litter from a killed earlier attempt (only that of processes that are gone: a
      // shard rendering other variants of this session into the same folder may be
      // writing right now).
      complete_publication(dir);
      remove_stale_temporaries(dir);
      remove_stale_temporaries(dir / "variants");
      // Everything the session writes is published as one set once complete, the
      // completion record with it (docs/security.md): until then the previous complete
      // set, record included, stays as it was. A variant shard publishes its own set.
      const std::string manifest = split ? "topdown-manifest-shard-" +
                                               std::to_string(opt.shard.index) + "-of-" +
                                               std::to_string(opt.shard.count) + ".json"
                                         : std::string(kManifestName);
      sets[i] = std::make_unique<OutputSet>(dir, manifest);
      SessionJob sj{&*p.session, stems_from_files(*p.session), {}};
      sj.options.out_dir = dir;
      sj.options.only_variants = subset[i];
      work.push_back(std::move(sj));
      work_index.push_back(i);
    } catch (const std::exception& e) {
      p.row = failed_row(p.row, e.what());
      p.row["wall_s"] = elapsed(p.t0);
      publish(i, "failed");
    }
  }

  double budget = opt.memory_budget_bytes;
  if (budget <= 0) {
    const double bytes = physical_memory_bytes();
    budget = bytes > 0 ? bytes / 4 : 4.0 * (1 << 30);
  }
  render_sessions(work, opt.backend, budget, 0, [&](size_t w, const SessionOutcome& outcome) {
    const size_t i = work_index[w];
    Pending& p = pending[i];
    const std::filesystem::path dir = opt.out_dir / jobs[i].name;
    std::string error = outcome.error;
    if (error.empty()) {
      try {
        write_text_atomic(dir / report_name[i],
                          make_report(*p.session, outcome.result).dump(2) + "\n");
        // A shard's page shows its own variants; `merge` re-ranks the shards' reports.
        const std::string page =
            report_name[i].substr(0, report_name[i].size() - std::string(".json").size()) + ".html";
        write_text_atomic(dir / page, report_html(*p.session, outcome.result));
        if (report_name[i] == "report.json")
          write_text_atomic(dir / "report.csv", report_csv(outcome.result));
        const VariantResult& first = outcome.result.variants.front();
        const nlohmann::json summary = {{"integrated_lufs", number_or_null(first.delivered_lufs)},
                                        {"true_peak_dbtp", number_or_null(first.true_peak_dbtp)},
                                        {"variants", (int)outcome.result.variants.size()},
                                        {"error", nullptr}};
        // The completion record is written last: its presence means everything before it
        // is complete, and its hashes say for which inputs.
        write_text_atomic(
            dir / record_name[i],
            nlohmann::json{{"inputs", p.inputs}, {"summary", summary}}.dump(2) + "\n");
        sets[i]->publish();
        p.row.update(summary);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    sets[i].reset();  // unpublished (an error): its temporaries go, the previous set stays
    if (!error.empty()) p.row = failed_row(p.row, error);
    p.row["wall_s"] = elapsed(p.t0);
    publish(i, error.empty() ? "ok" : "failed");
  });
  if (!s.report.contains("sessions")) {
    // Nothing was this shard's (more shards than sessions): its summary still says so, or
    // merge would count the shard as missing.
    s.report["sessions"] = nlohmann::json::array();
    s.report["totals"] = {{"ok", 0}, {"failed", 0}, {"skipped", 0}};
    write_text_atomic(summary_file(opt), s.report.dump(2) + "\n");
  }
  if (!opt.sharded) write_text_atomic(opt.out_dir / "batch.csv", batch_csv(s.report));
  return s;
}

nlohmann::json merge_shards(const std::filesystem::path& out_dir, std::vector<int>& missing) {
  const std::regex name("^batch-shard-([0-9]+)-of-([0-9]+)\\.json$");
  std::map<int, nlohmann::json> shards;
  int count = -1;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(out_dir, ec)) {
    std::smatch m;
    const std::string f = e.path().filename().string();
    if (!std::regex_match(f, m, name)) continue;
    const int k = std::stoi(m[1]), n = std::stoi(m[2]);
    if (count >= 0 && n != count)
      throw InputError(out_dir.string() + ": shard files of different splits (" +
                       std::to_string(count) + " and " + std::to_string(n) +
                       " shards); remove the stale ones");
    count = n;
    nlohmann::json j = read_json(e.path());
    if (!j.is_object()) throw InputError(e.path().string() + ": unreadable shard summary");
    shards[k] = j;
  }
  if (count < 0) throw InputError(out_dir.string() + ": no batch-shard-K-of-N.json files to merge");
  std::vector<nlohmann::json> rows;
  for (int k = 0; k < count; ++k) {
    if (!shards.count(k)) {
      missing.push_back(k);
      continue;
    }
    for (const auto& r : shards[k]["sessions"]) rows.push_back(r);
  }
  // A session split by variants has a row from every shard: one row, and one report.
  std::map<std::string, std::vector<nlohmann::json>> by_name;
  for (const auto& r : rows) {
    // The names batch wrote went through safe_name; any other came from an edited file
    // and could name a folder outside OUT.
    const std::string name = r.value("name", std::string());
    if (name != safe_name(name))
      throw InputError(out_dir.string() + ": a shard file names a session \"" + name +
                       "\", which batch never writes (letters, digits, '.', '_' and '-' only, "
                       "not starting with '.')");
    by_name[name].push_back(r);
  }
  std::vector<nlohmann::json> sessions;
  for (auto& [name, parts] : by_name) {
    if (parts.size() == 1 && !parts[0].contains("variant_shard")) {
      sessions.push_back(parts[0]);
      continue;
    }
    std::sort(parts.begin(), parts.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return a["variant_shard"]["index"].get<int>() < b["variant_shard"]["index"].get<int>();
    });
    nlohmann::json row = parts[0];  // shard 0 holds v0001, the summary's variant
    row.erase("variant_shard");
    int variants = 0;
    double wall = 0.0;
    bool any_failed = false, any_ok = false;
    for (const auto& p : parts) {
      variants += p.value("variants", 0);
      wall += p.value("wall_s", 0.0);
      any_failed |= p["status"] == "failed";
      any_ok |= p["status"] == "ok";
      if (p["status"] == "failed" && row["error"].is_null()) row["error"] = p["error"];
    }
    if (parts.size() < (size_t)count && !any_failed) {
      any_failed = true;
      row["error"] =
          "variants of " + std::to_string(count - (int)parts.size()) + " shard(s) missing";
    }
    row["status"] = any_failed ? "failed" : any_ok ? "ok" : "skipped";
    row["variants"] = variants;
    row["wall_s"] = std::round(wall * 1000) / 1000;
    if (any_failed) row["integrated_lufs"] = row["true_peak_dbtp"] = nullptr;
    sessions.push_back(row);
    // Its report: shard 0's, with the variants and bus renders of every shard.
    const std::filesystem::path dir = out_dir / name;
    nlohmann::json merged;
    std::set<std::string> buses_seen;
    std::vector<nlohmann::json> variants_all;
    for (int k = 0; k < count; ++k) {
      const nlohmann::json part = read_json(
          dir / ("report-shard-" + std::to_string(k) + "-of-" + std::to_string(count) + ".json"));
      if (!part.is_object()) continue;
      if (merged.is_null()) merged = part;
      for (const auto& v : part.value("variants", nlohmann::json::array()))
        variants_all.push_back(v);
      if (k == 0) {
        for (const auto& b : merged["buses"])
          buses_seen.insert(b["node"].dump() + b["params"].dump());
        continue;
      }
      for (const auto& b : part.value("buses", nlohmann::json::array()))
        if (buses_seen.insert(b["node"].dump() + b["params"].dump()).second)
          merged["buses"].push_back(b);
    }
    if (merged.is_null()) continue;
    // Ranked across the shards: by score (ties by id, as a single render ranks them) when
    // the variants were compared with references, by id otherwise.
    std::sort(variants_all.begin(), variants_all.end(),
              [](const nlohmann::json& a, const nlohmann::json& b) {
                const bool scored = a.contains("score") && b.contains("score") &&
                                    a["score"].is_number() && b["score"].is_number();
                if (scored && a["score"].get<double>() != b["score"].get<double>())
                  return a["score"].get<double>() < b["score"].get<double>();
                return a["id"].get<std::string>() < b["id"].get<std::string>();
              });
    for (size_t v = 0; v < variants_all.size(); ++v)
      if (variants_all[v].contains("rank")) variants_all[v]["rank"] = (int)v + 1;
    merged["variants"] = variants_all;
    merged["plan"]["variants"] = (int)variants_all.size();
    merged["plan"]["merged_from_shards"] = count;
    write_text_atomic(dir / "report.json", merged.dump(2) + "\n");
  }
  int ok = 0, failed = 0, skipped = 0;
  for (const auto& r : sessions) {
    const std::string st = r["status"];
    (st == "ok" ? ok : st == "failed" ? failed : skipped)++;
  }
  nlohmann::json merged = {{"tool", {{"name", "topdown"}, {"version", kVersion}}},
                           {"shard", nullptr},
                           {"merged_from", count},
                           {"missing_shards", missing},
                           {"sessions", sessions},
                           {"totals", {{"ok", ok}, {"failed", failed}, {"skipped", skipped}}}};
  write_text_atomic(out_dir / "batch.json", merged.dump(2) + "\n");
  write_text_atomic(out_dir / "batch.csv", batch_csv(merged));
  return merged;
}

}  // namespace td
