// The plan stage: the sweep expanded into runs, and every component built and validated before
// any work (docs/design.md §6). Components are built ONCE per distinct sweep point -- target,
// schedule and its time grids, score model, samplers -- and once per config for estimators, and
// held as shared immutable objects that every run (and every estimator of a run) uses; nothing
// is sampled here. Errors are config::ConfigError naming file:line, key, value and rule.
//
// Stages: config (config/) -> plan (this) -> execute (execute.hpp) -> claims (claims.hpp)
//         -> report (report.hpp); rows.hpp is the /runs and /fits schema between them.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "core/estimator.hpp"
#include "core/sampler.hpp"
#include "core/schedule.hpp"
#include "core/score_model.hpp"
#include "core/target.hpp"
#include "core/time_grid.hpp"
#include "posterior/likelihood.hpp"
#include "posterior/posterior_estimator.hpp"
#include "posterior/posterior_sampler.hpp"

namespace dmconv::experiment {

// One combination of [sweep] values and its components. The score model refers to the target,
// which the point keeps alive.
struct SweepPoint {
  std::string key;  // "schedule.c1=6;" -- the run-key prefix of its runs ("" without [sweep])
  std::shared_ptr<const Target> target;
  std::shared_ptr<const Schedule> schedule;
  std::map<int, std::shared_ptr<const TimeGrid>> grids;             // by T
  std::shared_ptr<const ScoreModel> score;                          // exact or perturbed
  std::map<std::string, std::shared_ptr<const Sampler>> samplers;  // by name (diffusion experiments)
  // Posterior experiments (docs/design.md §9.1): the likelihood, the observation y (given, or
  // simulated from a ground truth x* ~ prior drawn from the experiment seed) and the samplers.
  std::shared_ptr<const Likelihood> likelihood;
  std::shared_ptr<const Vector> observation;
  std::map<std::string, std::shared_ptr<const posterior::PosteriorSampler>> posterior_samplers;

  // The posterior problem of this point (references into the point).
  posterior::PosteriorProblem posterior_problem() const { return {*target, *score, *likelihood, *observation}; }
};

struct Plan {
  config::ExperimentConfig config;
  std::vector<config::RunSpec> runs;
  std::vector<SweepPoint> points;
  std::vector<std::size_t> point_of_run;  // index into points
  // One per [[estimator]], shared by every run.
  std::vector<std::shared_ptr<const Estimator>> estimators;  // diffusion experiments
  std::vector<std::shared_ptr<const posterior::PosteriorEstimator>> posterior_estimators;  // posterior experiments
  // The estimators that apply to each run (indices into config.estimators), decided by
  // Estimator::unsupported_reason for each (sweep point, sampler).
  std::vector<std::vector<std::size_t>> estimators_of_run;
  // The first run with the same inputs (run itself when it is the first): runs that differ only
  // in swept parameters of other samplers ("sampling.params.NAME.KEY", NAME not the run's
  // sampler) compute the same rows bit for bit (streams are keyed by seed and replicate, not by
  // sweep position), so the execute stage computes them once and copies the rows.
  std::vector<std::size_t> same_inputs_as;

  const SweepPoint& point(std::size_t run) const { return points[point_of_run[run]]; }
};

// Throws config::ConfigError naming file:line, key, value and rule.
Plan make_plan(const config::ExperimentConfig& config);

// The estimation problem of posterior run `run` (problem: the point's posterior_problem()).
posterior::PosteriorEstimationProblem posterior_estimation_problem(const Plan& plan, std::size_t run,
                                                                   const posterior::PosteriorProblem& problem,
                                                                   int threads);

// The options of the sampler run for `run` (seed, replicate stream, particles, initialisation,
// comparison level, threads).
RunOptions run_options(const config::ExperimentConfig& config, const config::RunSpec& run, int threads);

}  // namespace dmconv::experiment
