#include "session/session.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "processors/processor.h"
#include "session/parser.h"
#include "session/schema.h"

namespace td {

double Processor::number(const std::string& key, double fallback) const {
  auto it = values.find(key);
  return it != values.end() && it->second.kind == ProcessorValue::Kind::kNumber ? it->second.number
                                                                                : fallback;
}

std::string Processor::text(const std::string& key, const std::string& fallback) const {
  auto it = values.find(key);
  return it != values.end() && it->second.kind == ProcessorValue::Kind::kString ? it->second.text
                                                                                : fallback;
}

int Session::find(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name) return (int)i;
  return -1;
}

bool processor_implemented(const std::string& type) {
  const ProcessorSpec* spec = find_processor_spec(type);
  return spec && spec->implemented;
}

std::vector<std::vector<int>> node_dependencies(const Session& s) {
  std::vector<std::vector<int>> deps(s.nodes.size());
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    if (s.nodes[i].kind != NodeKind::kMaster) deps[s.find(s.nodes[i].output)].push_back((int)i);
    for (const auto& p : s.nodes[i].chain) {
      auto sc = p.values.find("sidechain");
      if (sc != p.values.end()) deps[i].push_back(s.find(sc->second.text));
    }
  }
  return deps;
}

void confine_session_paths(const Session& s, const PathPolicy& policy) {
  const std::filesystem::path dir = s.file.parent_path();
  for (const Node& n : s.nodes)
    if (n.kind == NodeKind::kTrack)
      confine_path(
          n.file, dir, policy,
          s.file.string() + ":" + std::to_string(n.line) + ": track \"" + n.name + "\" file");
  for (const Reference& r : s.references)
    confine_path(r.file, dir, policy,
                 s.file.string() + ":" + std::to_string(r.line) + ": [[reference]] file");
}

Session parse_session_text(const std::string& text, const std::filesystem::path& file) {
  session_parser::Parser p{file, file.filename().string().empty() ? file.string() : file.string()};
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file.string() << ":" << e.source().begin.line
       << ": TOML syntax error: " << e.description();
    throw InputError(os.str());
  }
  return p.parse(root);
}

Session parse_session_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw InputError(file.string() + ": session file not found");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot read the session file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_session_text(buf.str(), file);
}

}  // namespace td
