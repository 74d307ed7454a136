// The tags libsndfile cannot write, added to a finished delivered file with TagLib: FLAC
// and Ogg Opus Vorbis comments (ISRC; FLAC's REPLAYGAIN_TRACK_GAIN and _PEAK, ReplayGain
// 2.0: gain to -18 LUFS, peak as a linear ratio, here the true peak), MP3 ID3v2 frames
// (title, artist, album, comment, TSRC for the ISRC, TXXX REPLAYGAIN_*). For WAV, FLAC and
// Opus, title, artist, album and comment come from libsndfile (LIST INFO, Vorbis comments).
#include "io/tags.h"

#include <taglib/flacfile.h>
#include <taglib/id3v2tag.h>
#include <taglib/mpegfile.h>
#include <taglib/opusfile.h>
#include <taglib/textidentificationframe.h>
#include <taglib/xiphcomment.h>

#include <cmath>
#include <cstdio>

#include "base/input_error.h"

namespace td {
namespace {

std::string replaygain_gain(const FileTags& t) {
  char b[32];
  std::snprintf(b, sizeof b, "%+.2f dB", -18.0 - t.lufs);
  return b;
}

std::string replaygain_peak(const FileTags& t) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6f", std::pow(10.0, t.true_peak_dbtp / 20.0));
  return b;
}

void xiph(TagLib::Ogg::XiphComment* c, const FileTags& t, bool replaygain) {
  if (!t.isrc.empty()) c->addField("ISRC", TagLib::String(t.isrc, TagLib::String::UTF8), true);
  if (replaygain && t.loudness) {
    c->addField("REPLAYGAIN_TRACK_GAIN", replaygain_gain(t), true);
    c->addField("REPLAYGAIN_TRACK_PEAK", replaygain_peak(t), true);
  }
}

void id3_text(TagLib::ID3v2::Tag* tag, const char* id, const std::string& text) {
  tag->removeFrames(id);
  auto* f = new TagLib::ID3v2::TextIdentificationFrame(id, TagLib::String::UTF8);
  f->setText(TagLib::String(text, TagLib::String::UTF8));
  tag->addFrame(f);  // the tag owns it
}

void id3_user(TagLib::ID3v2::Tag* tag, const std::string& description, const std::string& text) {
  auto* f = new TagLib::ID3v2::UserTextIdentificationFrame(TagLib::String::UTF8);
  f->setDescription(description);
  f->setText(text);
  tag->addFrame(f);
}

}  // namespace

void add_tags(const std::filesystem::path& file, const std::string& format, const FileTags& t) {
  if (format != "flac" && format != "mp3" && format != "opus") return;
  bool saved = false;
  if (format == "flac") {
    TagLib::FLAC::File f(file.c_str(), false);
    if (f.isValid()) {
      xiph(f.xiphComment(true), t, true);
      saved = f.save();
    }
  } else if (format == "opus") {
    TagLib::Ogg::Opus::File f(file.c_str(), false);
    if (f.isValid()) {
      xiph(f.tag(), t, false);  // Opus players read R128 gains, not ReplayGain
      saved = f.save();
    }
  } else {
    TagLib::MPEG::File f(file.c_str(), false);
    if (f.isValid()) {
      // LAME's tag from libsndfile is read as ID3v1 only; the ID3v2 tag gets all of it.
      TagLib::ID3v2::Tag* tag = f.ID3v2Tag(true);
      auto utf8 = [](const std::string& x) { return TagLib::String(x, TagLib::String::UTF8); };
      if (!t.title.empty()) tag->setTitle(utf8(t.title));
      if (!t.artist.empty()) tag->setArtist(utf8(t.artist));
      if (!t.album.empty()) tag->setAlbum(utf8(t.album));
      if (!t.comment.empty()) tag->setComment(utf8(t.comment));
      if (!t.isrc.empty()) id3_text(tag, "TSRC", t.isrc);
      if (t.loudness) {
        id3_user(tag, "REPLAYGAIN_TRACK_GAIN", replaygain_gain(t));
        id3_user(tag, "REPLAYGAIN_TRACK_PEAK", replaygain_peak(t));
      }
      saved = f.save(TagLib::MPEG::File::AllTags, TagLib::File::StripNone, TagLib::ID3v2::v4,
                     TagLib::File::DoNotDuplicate);
    }
  }
  if (!saved) throw InputError(file.string() + ": could not write its tags");
}

}  // namespace td
