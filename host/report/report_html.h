// report.html: one self-contained page (no network, no external scripts; it works opened
// from disk) for choosing among the variants: the sortable ranking, plots of the selected
// variant against the references (inline SVG drawn by the page's own script), and A/B
// players of level-matched excerpts embedded in the page, with the translation check's
// playback systems as switchable filters. docs/references.md describes the page.
#pragma once
#include <string>

#include "render/render.h"
#include "report/player_excerpt.h"
#include "session/session.h"

namespace td {

struct HtmlOptions {
  int max_variant_players = 8;         // the best written variants get players (page size)
  double excerpt_s = kExcerptSeconds;  // the loudest stretch of this length is embedded
};

std::string report_html(const Session& session, const RenderResult& result,
                        const HtmlOptions& options = {});

}  // namespace td
