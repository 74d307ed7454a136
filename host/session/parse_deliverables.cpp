// The session file's [metadata] and [[deliverable]] entries (docs/session-format.md).
#include <cctype>
#include <set>

#include "session/parser.h"

namespace td::session_parser {

namespace {

bool isrc_ok(const std::string& s) {
  // ISO 3901: country (2 letters), registrant (3 alphanumerics), year (2 digits),
  // designation (5 digits).
  if (s.size() != 12) return false;
  for (int i = 0; i < 12; ++i) {
    const unsigned char c = (unsigned char)s[i];
    if (i < 2 && !std::isupper(c)) return false;
    if (i >= 2 && i < 5 && !(std::isupper(c) || std::isdigit(c))) return false;
    if (i >= 5 && !std::isdigit(c)) return false;
  }
  return true;
}

bool date_ok(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit((unsigned char)s[i])) return false;
  const int month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

}  // namespace

void Parser::metadata(const toml::table& t, const std::string& where, Metadata& m) const {
  only_keys(t, where, {"title", "artist", "album", "isrc", "originator", "description", "date"});
  auto text = [&](const char* key, std::string& out, size_t most) {
    if (auto v = string(t, key, where)) {
      if (v->size() > most)
        fail(t.get(key), where + "." + key,
             std::to_string(v->size()) + " characters (allowed: at most " + std::to_string(most) +
                 ")");
      for (unsigned char c : *v)
        if (c < 0x20) fail(t.get(key), where + "." + key, "control characters are not allowed");
      out = *v;
    }
  };
  text("title", m.title, 250);
  text("artist", m.artist, 250);
  text("album", m.album, 250);
  text("isrc", m.isrc, 15);  // dashed forms get the ISRC message below
  text("originator", m.originator, 32);
  text("description", m.description, 256);
  text("date", m.date, 10);
  if (!m.isrc.empty() && !isrc_ok(m.isrc))
    fail(t.get("isrc"), where + ".isrc",
         "\"" + m.isrc +
             "\" is not an ISRC (allowed: 12 characters, CC XXX YY NNNNN: two "
             "capital letters, three capitals or digits, two digits, five digits; no dashes)");
  if (!m.date.empty() && !date_ok(m.date))
    fail(t.get("date"), where + ".date", "\"" + m.date + "\" is not a date (allowed: YYYY-MM-DD)");
}

void Parser::deliverables(const toml::table& root, Session& s) const {
  if (const toml::node* n = root.get("metadata"))
    metadata(table(*n, "[metadata]"), "[metadata]", s.metadata);
  const toml::node* n = root.get("deliverable");
  if (!n) return;
  const auto& a = array(*n, "[[deliverable]]");
  const ProcessorSpec& ds = deliverable_spec();
  std::set<std::string> names;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string w0 = "[[deliverable]] #" + std::to_string(i + 1);
    const auto& t = table(*a.get(i), w0);
    Deliverable d;
    d.line = line_of(*a.get(i));
    const auto name = string(t, "name", w0);
    if (!name || name->empty())
      fail(a.get(i), w0 + ".name", "missing: the file's base name (allowed: [A-Za-z0-9_.-])");
    for (unsigned char c : *name)
      if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.'))
        fail(t.get("name"), w0 + ".name",
             "\"" + *name + "\" is not allowed (letters, digits, '_', '-' and '.' only)");
    if ((*name)[0] == '.' || *name == "master" || *name == "report")
      fail(t.get("name"), w0 + ".name",
           "\"" + *name + "\" is reserved (the render's own files; and no leading '.')");
    if (!names.insert(*name).second)
      fail(t.get("name"), w0 + ".name", "\"" + *name + "\" is used by another deliverable");
    d.name = *name;
    const std::string w = "deliverable \"" + d.name + "\"";
    only_keys(t, w,
              {"name", "format", "sample_rate", "bit_depth", "target_lufs", "ceiling_dbtp",
               "bitrate_kbps", "quality", "metadata"});
    const KeySpec& format = spec_key(ds, "format");
    d.format = choice(t, "format", w, split(format.choices), format.default_text);
    const bool lossy = d.format == "mp3" || d.format == "opus";
    if (auto rate = number(t, spec_key(ds, "sample_rate"), w)) {
      if (!t.get("sample_rate")->is_integer())
        fail(t.get("sample_rate"), w + ".sample_rate", "must be a whole number of Hz");
      d.sample_rate = (int)*rate;
    }
    const int rate = d.sample_rate ? d.sample_rate : s.sample_rate;
    if (d.format == "opus" && rate != 48000 && rate != 24000 && rate != 16000 && rate != 12000 &&
        rate != 8000)
      fail(t.get("sample_rate") ? t.get("sample_rate") : a.get(i), w + ".sample_rate",
           std::to_string(rate) + " Hz cannot be Opus (allowed: 8000, 12000, 16000, 24000, 48000)");
    if (d.format == "mp3" && rate != 48000 && rate != 44100 && rate != 32000 && rate != 24000 &&
        rate != 22050 && rate != 16000 && rate != 12000 && rate != 11025 && rate != 8000)
      fail(t.get("sample_rate") ? t.get("sample_rate") : a.get(i), w + ".sample_rate",
           std::to_string(rate) + " Hz cannot be MP3 (allowed: 8000 .. 48000 in MPEG's rates)");
    if (t.get("bit_depth") && lossy)
      fail(t.get("bit_depth"), w + ".bit_depth",
           "not for " + d.format + " (its encoder sets the precision; allowed with wav, flac)");
    d.bit_depth = (int)number_or_default(t, ds, "bit_depth", w);
    if (d.format == "flac" && d.bit_depth == 32)
      fail(t.get("bit_depth"), w + ".bit_depth",
           "32-bit float is not possible in FLAC (allowed with flac: 16, 24)");
    d.target_lufs = number(t, spec_key(ds, "target_lufs"), w);
    if (!d.target_lufs) d.target_lufs = s.delivery.target_lufs;
    if (!d.target_lufs)
      fail(a.get(i), w + ".target_lufs",
           "missing, and [delivery] has none (allowed: -70 .. 0 LUFS; each deliverable is "
           "driven to its loudness)");
    d.ceiling_dbtp = number(t, spec_key(ds, "ceiling_dbtp"), w).value_or(s.delivery.ceiling_dbtp);
    if (auto kbps = number(t, spec_key(ds, "bitrate_kbps"), w)) {
      if (!lossy) fail(t.get("bitrate_kbps"), w + ".bitrate_kbps", "only for mp3 and opus");
      if (d.format == "mp3" && (*kbps < 32 || *kbps > 320))
        fail(t.get("bitrate_kbps"), w + ".bitrate_kbps",
             fmt_num(*kbps) + " is out of range for mp3 (allowed: 32 .. 320)");
      d.bitrate_kbps = (int)*kbps;
    }
    d.quality = number(t, spec_key(ds, "quality"), w);
    if (d.quality && !lossy) fail(t.get("quality"), w + ".quality", "only for mp3 and opus");
    if (d.quality && d.bitrate_kbps)
      fail(t.get("quality"), w + ".quality", "give a bit rate or a quality, not both");
    d.metadata = s.metadata;
    if (const toml::node* m = t.get("metadata"))
      metadata(table(*m, w + ".metadata"), w + ".metadata", d.metadata);
    s.deliverables.push_back(std::move(d));
  }
}

}  // namespace td::session_parser
