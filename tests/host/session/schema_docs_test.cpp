// docs/session-format.md is the schema's documentation: every key's row in its tables
// shows the schema's unit, allowed values and default (host/session/schema.h and the
// processor modules), and every key the parser accepts is documented. A key added, a range
// or a default changed in one place and not the other fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "processors/processor.h"
#include "session/schema.h"
#include "test_util.h"

namespace td {
namespace {

// One markdown table: its header's columns and each row's cells by column name.
struct Table {
  std::vector<std::map<std::string, std::string>> rows;
};

std::string trim(std::string s) {
  const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line.substr(1));
  std::string c;
  while (std::getline(ss, c, '|')) out.push_back(trim(c));
  return out;
}

// The tables of the section that starts at `heading` (up to the next heading of any level).
std::vector<Table> tables_of(const std::string& doc, const std::string& heading,
                             std::string* section_text = nullptr) {
  const size_t at = doc.find("\n" + heading + "\n");
  EXPECT_NE(at, std::string::npos) << "docs/session-format.md has no section " << heading;
  if (at == std::string::npos) return {};
  size_t end = doc.find("\n#", at + 1);
  const std::string section = doc.substr(at, end == std::string::npos ? end : end - at);
  if (section_text) *section_text = section;
  std::vector<Table> out;
  std::stringstream ss(section);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(ss, line)) {
    if (line.rfind("|", 0) != 0) {
      header.clear();
      continue;
    }
    std::vector<std::string> c = cells(line);
    if (header.empty()) {
      header = c;
      out.emplace_back();
      continue;
    }
    if (!c.empty() && c[0].rfind("---", 0) == 0) continue;
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < c.size(); ++i) row[header[i]] = c[i];
    out.back().rows.push_back(row);
  }
  return out;
}

// `key` -> key
std::string key_of(const std::string& cell) {
  return cell.size() > 2 && cell.front() == '`' && cell.back() == '`'
             ? cell.substr(1, cell.size() - 2)
             : cell;
}

// Checks every row of `tables` whose key `specs` list; returns the keys seen.
std::vector<std::string> check_rows(const std::vector<Table>& tables,
                                    const std::vector<const ProcessorSpec*>& specs,
                                    const std::string& where, bool all_rows_known) {
  std::vector<std::string> seen;
  for (const Table& t : tables)
    for (const auto& row : t.rows) {
      auto k = row.find("key");
      if (k == row.end()) continue;
      const std::string key = key_of(k->second);
      const KeySpec* spec = nullptr;
      for (const ProcessorSpec* s : specs)
        if (!spec) spec = find_key(*s, key);
      if (!spec) {
        EXPECT_FALSE(all_rows_known)
            << where << ": the docs list `" << key << "`, which the schema does not";
        continue;
      }
      seen.push_back(key);
      const std::string at = where + "." + key;
      if (row.count("unit")) EXPECT_EQ(row.at("unit"), spec->unit) << at << " unit";
      if (row.count("allowed"))
        EXPECT_EQ(row.at("allowed"), docs_allowed(*spec)) << at << " allowed";
      if (row.count("default"))
        EXPECT_EQ(row.at("default"), docs_default(*spec)) << at << " default";
      EXPECT_TRUE(row.count("unit") && row.count("allowed") && row.count("default"))
          << at << ": its table needs unit, allowed and default columns";
    }
  return seen;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class SessionFormatDoc : public ::testing::Test {
 protected:
  std::string doc = test::read_bytes(std::string(TOPDOWN_SOURCE_DIR) + "/docs/session-format.md");
};

TEST_F(SessionFormatDoc, SessionAndDeliveryTablesAreTheSchema) {
  ASSERT_FALSE(doc.empty());
  for (const ProcessorSpec* spec :
       {&session_spec(), &delivery_spec(), &deliverable_spec(), &metadata_spec()}) {
    const std::string heading = std::string("## `") + spec->type + "`";
    const auto seen = check_rows(tables_of(doc, heading), {spec}, spec->type, true);
    for (const KeySpec& k : spec->keys)
      EXPECT_TRUE(contains(seen, k.key)) << spec->type << "." << k.key << " is not documented";
  }
}

TEST_F(SessionFormatDoc, NodeTableIsTheSchema) {
  const auto seen = check_rows(tables_of(doc, "## Nodes: `[[track]]`, `[[bus]]` and `[master]`"),
                               {&node_spec()}, "node", false);
  for (const KeySpec& k : node_spec().keys)
    EXPECT_TRUE(contains(seen, k.key)) << "node." << k.key << " is not documented";
}

TEST_F(SessionFormatDoc, EveryProcessorTableIsItsModulesSchema) {
  for (const ProcessorModule* m : processor_modules()) {
    const ProcessorSpec& spec = m->spec();
    // A '-' in the type: internal (the parser refuses it in a file; console.h's channels).
    if (std::string(spec.type).find('-') != std::string::npos) continue;
    const ProcessorSpec* band = m->band_spec ? m->band_spec() : nullptr;
    std::string section;
    const auto tables = tables_of(doc, std::string("### `") + spec.type + "`", &section);
    std::vector<const ProcessorSpec*> specs = {&spec};
    if (band) specs.push_back(band);
    const auto seen = check_rows(tables, specs, spec.type, true);
    // Keys not in a table are named in the section's text (an EQ's `mode`); a band that
    // takes every compressor key is documented by the compressor's table, which checks the
    // same schema entries (compressor_keys()).
    const bool takes_compressor_keys = section.find("every compressor key") != std::string::npos;
    for (const ProcessorSpec* s : specs)
      for (const KeySpec& k : s->keys) {
        const bool in_text = section.find(std::string("`") + k.key + "`") != std::string::npos;
        const bool compressor_key = s == band && takes_compressor_keys &&
                                    find_key(*find_processor_spec("compressor"), k.key);
        EXPECT_TRUE(contains(seen, k.key) || in_text || compressor_key)
            << s->type << "." << k.key << " is not documented in its section";
      }
  }
}

}  // namespace
}  // namespace td
