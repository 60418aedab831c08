// Plan-time resolution checks (Estimator::check_resolution): every exact estimator's resolution
// rule (docs/theory.md §6.7) on the problem of a run, before anything is sampled. Kept out of
// plan.cpp, which only calls check_resolution once per run.
#pragma once
#include "experiment/plan.hpp"

namespace dmconv::experiment {

// Runs check_resolution of every estimator chosen for `run` on its problem (replicates of one
// (sweep point, sampler, T) share it: only replicate 0 is checked). Throws config::ConfigError at
// the estimator's key (file:line, key = value: rule) naming the sampler and sweep point.
void check_resolution(const Plan& plan, const config::RunSpec& run);

}  // namespace dmconv::experiment
