#include "init/classify.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "kernels/spectrum.h"

namespace td {

const char* const kInitBuses[] = {"drums", "bass", "guitars", "keys", "vocals", "fx", "other"};

namespace {

struct Keyword {
  const char* word;
  const char* bus;
  int weight;  // 2: an instrument; 1: a qualifier that usually means it
};

// Short words match whole words only; words of 5 letters or more also match inside a
// word (German compounds: "Gesangsspur", "Leadgitarre").
const Keyword kKeywords[] = {
    // drums
    {"kick", "drums", 2},
    {"kck", "drums", 2},
    {"bd", "drums", 2},
    {"bassdrum", "drums", 3},
    {"snare", "drums", 2},
    {"sn", "drums", 2},
    {"sd", "drums", 2},
    {"hat", "drums", 2},
    {"hats", "drums", 2},
    {"hh", "drums", 2},
    {"hihat", "drums", 2},
    {"tom", "drums", 2},
    {"toms", "drums", 2},
    {"floor", "drums", 1},
    {"oh", "drums", 2},
    {"overhead", "drums", 2},
    {"overheads", "drums", 2},
    {"room", "drums", 2},
    {"rooms", "drums", 2},
    {"perc", "drums", 2},
    {"percussion", "drums", 2},
    {"shaker", "drums", 2},
    {"tamb", "drums", 2},
    {"tambourine", "drums", 2},
    {"clap", "drums", 2},
    {"claps", "drums", 2},
    {"cymbal", "drums", 2},
    {"crash", "drums", 2},
    {"ride", "drums", 2},
    {"drum", "drums", 2},
    {"drums", "drums", 2},
    {"schlagzeug", "drums", 2},
    {"becken", "drums", 2},
    {"trommel", "drums", 2},
    {"loop", "drums", 1},
    // bass
    {"bass", "bass", 2},
    {"bs", "bass", 2},
    {"sub", "bass", 2},
    {"subbass", "bass", 2},
    {"bassgitarre", "bass", 3},
    {"ebass", "bass", 2},
    {"synthbass", "bass", 3},
    {"di", "bass", 1},
    // guitars
    {"gtr", "guitars", 2},
    {"gtrs", "guitars", 2},
    {"guitar", "guitars", 2},
    {"guitars", "guitars", 2},
    {"gitarre", "guitars", 2},
    {"gitarren", "guitars", 2},
    {"git", "guitars", 2},
    {"acoustic", "guitars", 1},
    {"akustik", "guitars", 1},
    {"ag", "guitars", 2},
    {"eg", "guitars", 2},
    {"dist", "guitars", 1},
    {"crunch", "guitars", 1},
    // keys
    {"keys", "keys", 2},
    {"key", "keys", 2},
    {"piano", "keys", 2},
    {"pno", "keys", 2},
    {"organ", "keys", 2},
    {"orgel", "keys", 2},
    {"synth", "keys", 2},
    {"syn", "keys", 2},
    {"pad", "keys", 2},
    {"pads", "keys", 2},
    {"rhodes", "keys", 2},
    {"wurli", "keys", 2},
    {"epiano", "keys", 2},
    {"keyboard", "keys", 2},
    {"klavier", "keys", 2},
    {"fluegel", "keys", 2},
    {"strings", "keys", 2},
    {"streicher", "keys", 2},
    {"arp", "keys", 2},
    {"lead", "vocals", 1},
    // vocals
    {"vox", "vocals", 2},
    {"vocal", "vocals", 2},
    {"vocals", "vocals", 2},
    {"voc", "vocals", 2},
    {"voice", "vocals", 2},
    {"ld", "vocals", 1},
    {"bgv", "vocals", 2},
    {"bgvs", "vocals", 2},
    {"backing", "vocals", 1},
    {"bvox", "vocals", 2},
    {"choir", "vocals", 2},
    {"chor", "vocals", 2},
    {"gesang", "vocals", 2},
    {"stimme", "vocals", 2},
    {"harmony", "vocals", 1},
    {"harm", "vocals", 1},
    {"adlib", "vocals", 2},
    {"adlibs", "vocals", 2},
    {"dbl", "vocals", 1},
    {"double", "vocals", 1},
    {"sing", "vocals", 2},
    {"saenger", "vocals", 2},
    // fx
    {"fx", "fx", 2},
    {"sfx", "fx", 2},
    {"effect", "fx", 2},
    {"effects", "fx", 2},
    {"riser", "fx", 2},
    {"sweep", "fx", 2},
    {"impact", "fx", 2},
    {"atmo", "fx", 2},
    {"ambience", "fx", 2},
    {"noise", "fx", 1},
    {"verb", "fx", 1},
    {"delay", "fx", 1},
};

bool is_side_word(const std::string& w) {
  return w == "l" || w == "r" || w == "left" || w == "right" || w == "links" || w == "rechts";
}

}  // namespace

std::vector<std::string> name_words(const std::string& stem) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(cur);
    cur.clear();
  };
  for (size_t i = 0; i < stem.size(); ++i) {
    const unsigned char c = (unsigned char)stem[i];
    if (std::isalpha(c)) {
      // camelCase: a capital after a lowercase letter starts a word.
      if (std::isupper(c) && !cur.empty() && std::islower((unsigned char)stem[i - 1])) flush();
      cur += (char)std::tolower(c);
    } else if (c >= 0x80) {
      // UTF-8 umlauts as their ASCII spellings (ä -> ae, ö -> oe, ü -> ue, ß -> ss).
      if (c == 0xC3 && i + 1 < stem.size()) {
        const unsigned char d = (unsigned char)stem[++i];
        cur += d == 0xA4 || d == 0x84   ? "ae"
               : d == 0xB6 || d == 0x96 ? "oe"
               : d == 0xBC || d == 0x9C ? "ue"
               : d == 0x9F              ? "ss"
                                        : "";
      }
    } else {
      flush();  // separators and digits
    }
  }
  flush();
  return words;
}

std::string bus_from_name(const std::string& stem) {
  int score[kInitBusCount] = {0};
  for (const std::string& w : name_words(stem)) {
    if (is_side_word(w)) continue;
    for (const Keyword& k : kKeywords) {
      const std::string kw = k.word;
      const bool hit =
          w == kw || (kw.size() >= 5 && w.size() > kw.size() && w.find(kw) != std::string::npos);
      if (!hit) continue;
      for (int b = 0; b < kInitBusCount; ++b)
        if (kw.size() && std::string(kInitBuses[b]) == k.bus) score[b] += k.weight;
    }
  }
  int best = -1;
  for (int b = 0; b < kInitBusCount; ++b)
    if (score[b] > 0 && (best < 0 || score[b] > score[best])) best = b;
  return best < 0 ? "" : kInitBuses[best];
}

AudioTraits audio_traits(const std::vector<std::vector<float>>& audio, int sample_rate) {
  AudioTraits t;
  double sum = 0, peak = 0;
  long long count = 0;
  for (const auto& ch : audio)
    for (float v : ch) {
      sum += (double)v * v;
      peak = std::max(peak, (double)std::fabs(v));
      ++count;
    }
  const double rms = std::sqrt(sum / std::max<long long>(1, count));
  t.crest_db = rms > 0 ? 20 * std::log10(peak / rms) : 0;
  // The long-term spectrum of the meters (spectrum.h), every channel, 4096-point frames.
  const int n = 4096;
  LongTermSpectrum spectrum = make_spectrum(n, (int)audio.size());
  for (size_t c = 0; c < audio.size(); ++c)
    spectrum_add_channel(spectrum, (int)c, audio[c].data(), (long long)audio[c].size());
  spectrum_finish(spectrum);
  const std::vector<double> power = spectrum_bins(spectrum);
  double num = 0, den = 0;
  for (int k = 1; k <= n / 2; ++k) {
    num += power[k] * k * (double)sample_rate / n;
    den += power[k];
  }
  t.centroid_hz = den > 0 ? num / den : 0;
  return t;
}

std::string bus_from_audio(const AudioTraits& t) {
  if (t.crest_db >= 14.0) return "drums";
  if (t.centroid_hz > 0 && t.centroid_hz < 4000.0) return "keys";
  return "other";
}

int stereo_side(const std::string& stem, std::string* base) {
  // The last word decides: a lone L/R letter or left/right (links/rechts) after a
  // separator ("GtrL" is not a pair).
  static const char* kSuffixes[][2] = {
      {"_left", "_right"},   {"-left", "-right"},   {" left", " right"},   {".left", ".right"},
      {"_links", "_rechts"}, {"-links", "-rechts"}, {" links", " rechts"}, {"_l", "_r"},
      {".l", ".r"},          {"-l", "-r"},          {" l", " r"}};
  // Clients number their files ("07 OH L", "08 OH R"): the numbering is not part of the
  // name the two sides share.
  size_t start = 0;
  while (start < stem.size() && std::isdigit((unsigned char)stem[start])) ++start;
  if (start > 0)
    while (start < stem.size() &&
           (stem[start] == ' ' || stem[start] == '_' || stem[start] == '-' || stem[start] == '.'))
      ++start;
  if (start == stem.size()) start = 0;
  const std::string name = stem.substr(start);
  std::string lower = name;
  for (char& c : lower) c = (char)std::tolower((unsigned char)c);
  for (const auto& pair : kSuffixes)
    for (int side = 0; side < 2; ++side) {
      const std::string suf = pair[side];
      if (lower.size() > suf.size() &&
          lower.compare(lower.size() - suf.size(), suf.size(), suf) == 0) {
        if (base) *base = name.substr(0, name.size() - suf.size());
        return side;
      }
    }
  return -1;
}

}  // namespace td
