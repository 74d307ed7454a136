// The one CSV writer of the reports (report.csv, batch.csv): every cell quoted, and a text
// cell that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR;
// OWASP's "CSV injection" rule) prefixed with ' so that it shows as text. Plain numbers
// (-14.2, 1e-05) are left as they are: a number is not a formula.
#pragma once
#include <string>

namespace td {

std::string csv_cell(const std::string& text);
std::string csv_number(double value);  // "" for NaN or infinity

}  // namespace td
