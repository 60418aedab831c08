// Job arrays without MPI (issue 17): `dmconv run CONFIG --shard i/n` runs slice i of n of the
// expanded sweep and writes a part file; `dmconv merge` (merge.hpp) joins the parts and judges the
// claims. Every run's numbers are a pure function of its address (counter-based streams keyed by
// seed, replicate and particle), so which process computes a run cannot change them; the slice
// only has to be a pure function of (config, i, n) so that every part and the merge agree on it.
//
// Shards are numbered from 1 (1 <= i <= n), like SLURM_ARRAY_TASK_ID under `--array=1-N`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"

namespace dmconv::experiment {

// Slice `index` of `count` (1 <= index <= count).
struct Shard {
  std::int64_t index = 1;
  std::int64_t count = 1;
};

// The most parts a sweep can be split into (a sweep has at most config::kMaxRuns runs).
inline constexpr std::int64_t kMaxShards = config::kMaxRuns;

// Parses the value of --shard, "i/n" in decimal. Throws InvalidArgument naming the option, the
// value and the rule it breaks (malformed, n < 1 or n > kMaxShards, i outside [1, n]).
Shard parse_shard(const std::string& text);

// The rough cost of a run used to balance the slices: diffusion steps x particles (what the
// samplers' work grows with). Runs of one sweep differ in cost by orders of magnitude (T from 16 to
// 1024, particles swept), so plain round-robin could leave one part with all the long runs.
double estimated_cost(const config::RunSpec& run);

// Run indices by decreasing estimated_cost, ties in run order: the order in which --shard deals
// runs to parts and MPI ranks are handed runs (the longest first, so no rank starts a long run last).
std::vector<std::size_t> runs_by_decreasing_cost(const std::vector<config::RunSpec>& runs);

// The shard (1..count) of every run, in run order: longest-processing-time-first over
// estimated_cost -- runs by decreasing cost (ties: lower run index first), each to the part with
// the least cost so far (ties: lower shard). A pure function of the runs and count; with equal
// costs it is round-robin in run order.
std::vector<std::int64_t> shard_of_runs(const std::vector<config::RunSpec>& runs, std::int64_t count);

}  // namespace dmconv::experiment
