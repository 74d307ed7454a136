#include "session/session.h"

#include <algorithm>
#include <cctype>
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

// The session's text is checked before toml++ sees it. toml++ 3.3 reaches
// TOML_UNREACHABLE (undefined behaviour) when its whitespace tables meet some non-ASCII
// characters (U+00A1-U+0499, U+2CEE-U+30E7, U+FCD6-U+FEFE) where whitespace could be: on
// bare keys and values, after a line-ending backslash (found by fuzzing; the inputs are in
// tests/fuzz/corpus/session). So, in order:
//  1. valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without
//     control characters other than tab, LF and CR;
//  2. no non-ASCII character after a backslash and whitespace;
//  3. the text with every non-ASCII byte replaced by '?' (valid in strings and comments,
//     nowhere else in TOML) must parse: so non-ASCII characters are only in strings and
//     comments, where toml++ does not ask whether they are whitespace;
// and only then is the text itself parsed.
void check_session_text(const std::string& text, const std::filesystem::path& file) {
  int line = 1;
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = (unsigned char)text[i];
    auto fail = [&](const std::string& what) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", c);
      throw InputError(file.string() + ":" + std::to_string(line) + ": " + what + " (byte " + hex +
                       " at offset " + std::to_string(i) +
                       "; allowed: UTF-8 text without control characters other than tab, LF "
                       "and CR)");
    };
    if (c < 0x80) {
      if (c == '\n') ++line;
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
        fail("a control character");
      if (c == '\\') {
        size_t k = i + 1;
        while (k < text.size() && std::strchr(" \t\r\n", text[k]) && text[k] != '\0') ++k;
        if (k < text.size() && (unsigned char)text[k] >= 0x80) {
          const int at = line + (int)std::count(text.begin() + i, text.begin() + k, '\n');
          throw InputError(file.string() + ":" + std::to_string(at) +
                           ": a non-ASCII character right after a backslash and whitespace "
                           "(offset " +
                           std::to_string(k) +
                           "; allowed: an escape sequence, or ASCII text after a line-ending "
                           "backslash)");
        }
      }
      ++i;
      continue;
    }
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
  std::string ascii = text;
  bool any = false;
  for (char& ch : ascii)
    if ((unsigned char)ch >= 0x80) ch = '?', any = true;
  if (!any) return;
  try {
    (void)toml::parse(ascii, file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << file.string() << ":" << e.source().begin.line
       << ": TOML syntax error: " << e.description()
       << " (non-ASCII characters, shown here as '?', are allowed only in strings and comments)";
    throw InputError(os.str());
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

void set_target_value(const SweepTarget& t, double v, double& gain_db, double& pan,
                      double& fader_db, std::vector<Processor>& chain) {
  switch (t.what) {
    case SweepTarget::What::kGain:
      gain_db = v;
      return;
    case SweepTarget::What::kPan:
      pan = v;
      return;
    case SweepTarget::What::kFader:
      fader_db = v;
      return;
    case SweepTarget::What::kProcessor: {
      Processor& p = t.band >= 0 ? chain[t.processor].bands[t.band] : chain[t.processor];
      ProcessorValue& pv = p.values[t.key];
      pv.kind = ProcessorValue::Kind::kNumber;
      pv.number = v;
      return;
    }
  }
}

Session parse_session_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw InputError(file.string() +
                     ": a folder, not a session file (give its .toml; `topdown init` makes one "
                     "from a folder of stems)");
  if (!std::filesystem::is_regular_file(file, ec))
    throw InputError(file.string() + ": session file not found");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot read the session file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_session_text(buf.str(), file);
}

}  // namespace td
