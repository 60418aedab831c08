// The draws behind a posterior experiment's estimates, and the exact grid laws they are compared
// with, as a results file (`dmconv samples`; layout in results/README.md, plots in
// plots/plot_posterior_density.py). The estimates of `dmconv run` reduce the samples to numbers;
// this output lets a user look at them: the exact posterior density next to each sampler's
// histogram (issue 15 item 6).
//
// The draws are posterior_output's (posterior/posterior_estimator.hpp) for replicate 0 of every
// (sweep point, posterior sampler, steps) -- the same function, seeds and streams the estimators
// use, so particle j here is particle j of the estimators' sample, bit for bit, for any thread
// count. Only the first min(max_particles, the run's particle count) particles are drawn (each
// column comes from its own particle's streams, so a prefix is the same as the full sample's).
// In d <= 2 the grid masses of pi (eta = 0) and of pi_eta for every sampler's stationary eta
// come from grid_posterior on the cells of the config's posterior_grid_tv estimator (its
// declared defaults when there is none), the cells its TV estimates use.
#pragma once
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "experiment/plan.hpp"
#include "posterior/grid_posterior.hpp"
#include "results/provenance.hpp"
#include "results/results_file.hpp"

namespace dmconv::experiment {

struct SamplesOptions {
  std::optional<int> steps;                 // only the runs of this T (else every T of the sweep)
  std::int64_t max_particles = 20000;       // particles written per (point, sampler, steps), at most
  int threads = 0;                          // OpenMP threads of posterior_output (0: default)
  std::string command_line;
  std::ostream* progress = nullptr;         // a line per sampler run drawn (nullptr: silent)
};

// InvalidArgument unless `config` is a posterior experiment. Callable before the plan, whose
// diffusion components a non-posterior config would otherwise build (and could fail on) first.
void require_posterior_config(const config::ExperimentConfig& config);

// Every input error before any work, as InvalidArgument naming the option, the value and the rule:
// a config that is not a posterior experiment (require_posterior_config), max_particles < 1, steps not a value of the sweep.
void check_samples_options(const Plan& plan, const SamplesOptions& options);

// The grid of the config's first posterior_grid_tv [[estimator]], or that estimator's defaults.
posterior::GridOptions samples_grid_options(const config::ExperimentConfig& config);

// The tables points, sampler_runs, samples, grid (results/README.md) with provenance attributes.
// Precondition: check_samples_options(plan, options) passed.
results::ResultsFile posterior_samples_file(const Plan& plan, const SamplesOptions& options);

}  // namespace dmconv::experiment
