#include "session/session.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
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

namespace {

// The session's text is checked before toml++ sees it: valid UTF-8 (no overlong forms,
// surrogates or code points past U+10FFFF), no control characters but tab, LF and CR, and
// non-ASCII characters only inside strings and comments (where TOML allows them at all).
// toml++ 3.3 reaches undefined behaviour (TOML_UNREACHABLE in its whitespace tables) on a
// non-ASCII character outside them (found by fuzzing: "64 c2 bb 1c 1c", "ef b5 bf"); it
// is never handed one. A small lexer tracks comments and the four kinds of string.
void check_session_text(const std::string& text, const std::filesystem::path& file) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMultiBasic, kMultiLiteral } in = In::kCode;
  int line = 1;
  auto starts = [&](size_t i, const char* s) { return text.compare(i, std::strlen(s), s) == 0; };
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = (unsigned char)text[i];
    auto fail = [&](const std::string& what) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      throw InputError(file.string() + ":" + std::to_string(line) + ": " + what + " (byte " + hex +
                       " at offset " + std::to_string(i) +
                       "; allowed: UTF-8 text without control characters other than tab, LF "
                       "and CR, and non-ASCII characters only in strings and comments)");
    };
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
        fail("a control character");
      size_t step = 1;
      switch (in) {
        case In::kCode:
          if (c == '#') in = In::kComment;
          if (c == '"') in = starts(i, "\"\"\"") ? (step = 3, In::kMultiBasic) : In::kBasic;
          if (c == '\'') in = starts(i, "\'\'\'") ? (step = 3, In::kMultiLiteral) : In::kLiteral;
          break;
        case In::kComment:
          if (c == '\n') in = In::kCode;
          break;
        case In::kBasic:
          if (c == '\\') step = 2;  // an escape: the next byte is not a quote
          if (c == '"' || c == '\n') in = In::kCode;
          break;
        case In::kLiteral:
          if (c == '\'' || c == '\n') in = In::kCode;
          break;
        case In::kMultiBasic:
        case In::kMultiLiteral: {
          const char q = in == In::kMultiBasic ? '"' : '\'';
          if (in == In::kMultiBasic && c == '\\') step = 2;
          if (c == q && i + 2 < text.size() && text[i + 1] == q && text[i + 2] == q) {
            step = 3;  // the closing quotes: up to two more belong to the content
            while (step < 5 && i + step < text.size() && text[i + step] == q) ++step;
            in = In::kCode;
          }
          break;
        }
      }
      for (size_t k = 0; k < step && i + k < text.size(); ++k)
        if (text[i + k] == '\n') ++line;
      i += step;
      continue;
    }
    if (in == In::kCode) fail("a non-ASCII character outside a string or comment");
    int n = 0;
    unsigned cp = 0;
    if (c >= 0xc2 && c <= 0xdf)
      n = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
      n = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
      n = 3, cp = c & 0x07;
    else
      fail("not UTF-8");
    for (int k = 1; k <= n; ++k) {
      if (i + k >= text.size()) fail("not UTF-8 (cut short)");
      const unsigned char d = (unsigned char)text[i + k];
      if ((d & 0xc0) != 0x80) fail("not UTF-8");
      cp = cp << 6 | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      fail("not UTF-8 (overlong, surrogate or out of range)");
    if (cp >= 0x80 && cp < 0xa0) fail("a control character");
    i += n + 1;
  }
}

}  // namespace

Session parse_session_text(const std::string& text, const std::filesystem::path& file) {
  check_session_text(text, file);
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
