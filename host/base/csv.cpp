#include "base/csv.h"

#include <cmath>
#include <regex>
#include <sstream>

namespace td {
namespace {

bool plain_number(const std::string& s) {
  static const std::regex number("^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$");
  return std::regex_match(s, number);
}

}  // namespace

std::string csv_cell(const std::string& text) {
  std::string out = "\"";
  if (!text.empty() && std::string("=+-@\t\r").find(text[0]) != std::string::npos &&
      !plain_number(text))
    out += '\'';
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double value) {
  if (!std::isfinite(value)) return csv_cell("");
  std::ostringstream os;
  os << value;
  return csv_cell(os.str());
}

}  // namespace td
