// The [[deliverable]] files of a written master (docs/session-format.md): each driven to its
// own loudness under its own ceiling by its own limiter pass over the kept master,
// resampled (soxr, very high quality), dithered or encoded, and verified on the decoded
// file, since resampling and lossy encoding raise the true peak.
#pragma once
#include <filesystem>

#include "render/limit_pass.h"
#include "render/render.h"
#include "session/session.h"

namespace td {

// The tags a file of this session carries, with the bext loudness fields from `r` when
// given.
FileTags file_tags(const Metadata& m, const Readings* r);

// One deliverable of the kept master: `limiter` is the master's delivery limiter processor
// (or nullptr: a limiter at its defaults); `drive_db` a first guess of its drive at the
// render rate (the [delivery] master's, moved by the difference of the targets);
// dither_seed [delivery]'s, so that one seed decides every file of a session.
DeliverableResult deliver_deliverable(const KeptPair& kept, const Deliverable& d,
                                      const Processor* limiter, int render_rate, double drive_db,
                                      uint64_t dither_seed, const std::filesystem::path& file,
                                      const MeterOptions& mo);

}  // namespace td
