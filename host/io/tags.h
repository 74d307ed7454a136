// Tags beyond what libsndfile writes (tags.cpp says which), added to a finished file.
#pragma once
#include <filesystem>
#include <string>

#include "io/audio_file.h"

namespace td {

// format: flac | mp3 | opus (others: nothing to add). Throws InputError when the file
// cannot be rewritten.
void add_tags(const std::filesystem::path& file, const std::string& format, const FileTags& t);

}  // namespace td
