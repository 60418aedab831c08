// `dmconv merge PART... --out FILE` (issue 17): joins the part files of `dmconv run --shard i/n`
// (shard.hpp) into the results file one process would have written, then fits and judges the
// claims on the union. Parts are checked before anything is written, so a refused merge leaves no
// file: same config hash, tool version and git SHA (also those of this binary: the merged file
// names it as the tool, and its /fits are computed here), same shard count, shard indices 1..n each
// exactly once, every part complete, every row's run in the slice of the part that holds it (the
// slicing is a pure function of the config and n), no run in two parts. Missing parts are named
// with the runs they should hold. A complete part certifies that every run of its slice ran (a
// run whose estimators produced no row has no /runs row, in a part as in one process).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/rows.hpp"

namespace dmconv::experiment {

// The checked union of the parts, ready for conclude_sweep (execute.hpp).
struct MergeInput {
  config::ExperimentConfig config;          // re-read from the parts' config_text; text and hash as stored
  std::vector<std::vector<RunRow>> by_run;  // the rows of each run of the sweep, in run order
  std::int64_t shard_count = 0;
  std::int64_t threads = 0;  // the parts' common `threads` attribute; 0 (default) when they differ
  std::int64_t ranks = 1;    // the most MPI ranks any part ran on (`ranks` attribute)
  std::size_t runs_with_rows = 0;
};

// Reads and checks the parts (see the header). Throws InvalidArgument naming the part(s), the
// value(s) and the rule on the first problem found.
MergeInput read_parts(const std::vector<std::filesystem::path>& parts);

}  // namespace dmconv::experiment
