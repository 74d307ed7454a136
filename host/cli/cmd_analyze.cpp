#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "analysis/analyze.h"
#include "analysis/compare.h"
#include "cli/commands.h"
#include "io/output_set.h"
#include "report/report.h"

namespace po = boost::program_options;

namespace td {
namespace {

std::string fmt(double v, const char* unit, int precision = 1) {
  char b[64];
  if (std::isfinite(v))
    std::snprintf(b, sizeof b, "%.*f %s", precision, v, unit);
  else
    std::snprintf(b, sizeof b, "-inf %s", unit);
  return b;
}

void print_text(const FileAnalysis& a) {
  const Readings& r = a.readings;
  std::printf("%s  (%d Hz, %d ch, %.2f s)\n", a.file.string().c_str(), a.sample_rate, a.channels,
              (double)a.frames / std::max(1, a.sample_rate));
  std::printf("  integrated loudness  %s\n", fmt(r.integrated_lufs, "LUFS").c_str());
  std::printf("  loudness range       %s\n", fmt(r.lra_lu, "LU").c_str());
  std::printf("  momentary max        %s\n", fmt(r.momentary_max_lufs, "LUFS").c_str());
  std::printf("  short-term max       %s\n", fmt(r.short_term_max_lufs, "LUFS").c_str());
  std::printf("  true peak            %s\n", fmt(r.true_peak_dbtp, "dBTP").c_str());
  std::printf("  sample peak          %s\n", fmt(r.sample_peak_dbfs, "dBFS").c_str());
  std::printf("  RMS                  %s\n", fmt(r.rms_dbfs, "dBFS").c_str());
  std::printf("  crest factor         %s\n", fmt(r.crest_db, "dB").c_str());
  std::printf("  PLR                  %s\n", fmt(r.plr_db, "dB").c_str());
  if (r.correlation)
    std::printf("  correlation          %+.2f\n", *r.correlation);
  else
    std::printf("  correlation          n/a\n");
  std::printf("  VU max               %s\n", fmt(r.vu_max, "VU").c_str());
  std::printf("  1/3-octave spectrum (dB re full scale):\n   ");
  int col = 0;
  for (const auto& b : a.spectra.total) {
    std::printf(" %6g Hz %6s", b.hz, std::isfinite(b.db) ? fmt(b.db, "").c_str() : "-inf");
    if (++col % 4 == 0) std::printf("\n   ");
  }
  std::printf("\n");
  for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
}

}  // namespace

int run_analyze(const std::vector<std::string>& args) {
  po::options_description opts(
      "Usage: topdown analyze FILE [FILE...] [--reference REF]... [--json] [--series]\n"
      "       topdown analyze --verify OUT_DIR\n\n"
      "Measures audio files: integrated loudness, loudness range, momentary and short-term\n"
      "maxima (ITU-R BS.1770-4, EBU R128, EBU Tech 3341/3342), true peak, sample peak, RMS,\n"
      "crest factor, PLR, stereo correlation, VU and the 1/3-octave long-term spectrum\n"
      "(docs/meters.md). With --reference, each file is also compared with the\n"
      "reference(s), loudness-matched, and scored (docs/references.md). --verify checks a\n"
      "render's output folder against its manifest (every file there, unchanged; exit 1 if\n"
      "not).\n\nOptions");
  opts.add_options()("help,h", "show this help")(
      "json", "one JSON object per file (an array for several files) on stdout")(
      "series", "with --json: momentary_series and short_term_series, every 10 ms")(
      "vu-reference-dbfs", po::value<double>()->default_value(-18.0),
      "sine peak level that reads 0 VU, -40 .. 0")(
      "backend", po::value<std::string>()->default_value("auto"), "cpu | cuda | auto")(
      "reference", po::value<std::vector<std::string>>()->composing(),
      "a reference track to compare each FILE with (repeatable)")(
      "verify", po::value<std::string>(),
      "check OUT_DIR against its topdown-manifest.json instead of measuring");
  po::variables_map vm;
  if (!parse_command(args, opts, "files", -1, vm)) return 0;
  if (vm.count("verify")) {
    const std::filesystem::path dir = vm["verify"].as<std::string>();
    const std::vector<std::string> problems = verify_outputs(dir);
    for (const auto& p : problems) std::cerr << "topdown: " << dir.string() << ": " << p << "\n";
    if (!problems.empty()) return 1;
    std::printf("%s: complete, every file as published\n", dir.string().c_str());
    return 0;
  }
  if (!vm.count("files")) throw InputError("analyze: no FILE given (see topdown analyze --help)");
  const std::string backend = vm["backend"].as<std::string>();
  check_backend(backend, "analyze");
  MeterOptions mo;
  mo.vu_reference_dbfs = vm["vu-reference-dbfs"].as<double>();
  if (!(mo.vu_reference_dbfs >= -40 && mo.vu_reference_dbfs <= 0))
    throw InputError("analyze: --vu-reference-dbfs (allowed: -40 .. 0)");
  const bool json = vm.count("json") > 0;
  mo.series = json && vm.count("series") > 0;
  const auto& files = vm["files"].as<std::vector<std::string>>();
  std::vector<std::pair<std::string, Measured>> references;
  if (vm.count("reference")) {
    MeterOptions ro = mo;
    ro.series = true;  // the short-term distribution is compared
    for (const auto& r : vm["reference"].as<std::vector<std::string>>()) {
      const FileAnalysis a = analyze_file(r, backend, ro);
      references.emplace_back(r, Measured{a.readings, a.spectra});
    }
    mo.series = true;
  }
  nlohmann::json array = nlohmann::json::array();
  for (const auto& f : files) {
    const FileAnalysis a = analyze_file(f, backend, mo);
    std::vector<Comparison> comparisons;
    for (const auto& [name, m] : references) {
      Comparison c = compare(Measured{a.readings, a.spectra}, m, ScoreWeights{});
      c.reference = name;
      comparisons.push_back(c);
    }
    if (json) {
      nlohmann::json j = {
          {"file", f},
          {"sample_rate", a.sample_rate},
          {"channels", a.channels},
          {"duration_s", number_or_null((double)a.frames / std::max(1, a.sample_rate))}};
      j.update(readings_json(a.readings, a.spectra.total, json && vm.count("series") > 0));
      if (!comparisons.empty()) {
        nlohmann::json refs = nlohmann::json::array();
        for (const auto& c : comparisons) refs.push_back(comparison_json(c));
        j["references"] = refs;
        j["score"] = number_or_null(blended_score(comparisons));
      }
      array.push_back(j);
    } else {
      print_text(a);
      for (const auto& c : comparisons)
        std::printf(
            "  against %s (gained %+.2f dB to match): spectral RMS %.2f dB, PLR %+.2f dB, "
            "LRA %+.2f LU, width RMS %.3f, translation RMS %.2f dB, score %.3f\n",
            c.reference.c_str(), c.level_match_db, c.spectral_rms_db, c.plr_difference_db,
            c.lra_difference_lu, c.width_rms_difference, c.translation_rms_db, c.score);
    }
  }
  if (json) std::cout << (files.size() == 1 ? array[0] : array).dump(2) << "\n";
  return 0;
}

}  // namespace td
