// Running an experiment config: validation of every component before any work, the sweep with
// progress and checkpoints, claim fits with verdicts, and the HDF5 results file
// (issue 4; DESIGN.md §6-§7; schema in results/README.md).
//
//   plan = make_plan(config)            constructs every target, schedule grid, sampler and
//                                       estimator of the sweep once, checks that each sampler
//                                       has an estimator that supports it; throws ConfigError
//                                       (file:line, key, value, rule) -- nothing is written
//   outcome = run_experiment(plan, options)
//                                       runs every sweep point not already in the output file
//                                       (--resume), writes the file atomically after each run
//                                       (at most every `checkpoint_seconds`) and at the end
//   fits = fit_claims(config, rows)     one fit per claim and group (rate_fit.hpp), verdicts
//
// Reproducibility: a run's random streams are keyed by (experiment seed, replicate), so the
// numbers of a run depend only on its own axis values -- not on the thread count, the order of
// runs, other sweep axes, or whether the sweep was resumed.
#pragma once
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <limits>
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "results/results_file.hpp"

namespace dmconv::experiment {

inline constexpr std::int64_t kSchemaVersion = 1;

// One row of /runs: one (run, estimator, metric).
struct RunRow {
  std::int64_t run_index = 0;
  std::string run_key, target, sampler, schedule, score_error, estimator, metric, kind, status, message,
      initialisation;
  std::int64_t dim = 0, steps = 0, replicate = 0, seed = 0, particles = 0, comparison_level = 1;
  double value = std::numeric_limits<double>::quiet_NaN();
  double std_error = 0.0, floor = 0.0, nfe = 0.0, wall_seconds = 0.0;
  double eps_score = std::numeric_limits<double>::quiet_NaN();
  double eps_jacobi = std::numeric_limits<double>::quiet_NaN();
  double eps_score_se = std::numeric_limits<double>::quiet_NaN();
  double eps_jacobi_se = std::numeric_limits<double>::quiet_NaN();
  std::vector<ParamValue> swept;  // aligned with config.sweep
};

// One row of /fits: one (claim, group).
struct FitRow {
  std::string claim, group, sampler, versus, metric, axis, log_power_mode, bound, verdict, message, exclusions,
      local_slopes;
  std::string model = "power";  // "power" (slope in log x) or "exponential" (slope in x)
  double slope = std::numeric_limits<double>::quiet_NaN();
  double slope_low = std::numeric_limits<double>::quiet_NaN();
  double slope_high = std::numeric_limits<double>::quiet_NaN();
  double log_power = std::numeric_limits<double>::quiet_NaN();
  double intercept = std::numeric_limits<double>::quiet_NaN();
  double claimed_slope = 0.0, tolerance = 0.0;
  double baseline = std::numeric_limits<double>::quiet_NaN();  // the claim's baseline x (NaN: none)
  std::int64_t points_used = 0, points_excluded = 0;
};

// Which estimators apply to each run (indices into config.estimators), decided by
// Estimator::unsupported_reason at validation time.
struct Plan {
  config::ExperimentConfig config;
  std::vector<config::RunSpec> runs;
  std::vector<std::vector<std::size_t>> estimators_of_run;
};

// Throws config::ConfigError naming file:line, key, value and rule.
Plan make_plan(const config::ExperimentConfig& config);

struct ExecutionOptions {
  std::filesystem::path out;          // results file
  bool resume = false;                // keep the runs already in `out` (same config hash)
  int threads = 0;                    // OpenMP threads per run (0: default)
  std::string command_line;
  double checkpoint_seconds = 2.0;    // minimum time between checkpoint writes
  std::ostream* progress = nullptr;   // progress lines (nullptr: silent)
  bool progress_is_terminal = false;  // one updating line with ETA instead of a line per run
  // For tests of --resume: stop (as if killed) after this many newly finished runs.
  std::int64_t stop_after_runs = -1;
};

struct Outcome {
  std::vector<RunRow> rows;           // in run order
  std::vector<FitRow> fits;
  std::size_t runs_total = 0, runs_executed = 0, runs_resumed = 0;
  bool complete = false;
};

Outcome run_experiment(const Plan& plan, const ExecutionOptions& options);

std::vector<FitRow> fit_claims(const config::ExperimentConfig& config, const std::vector<RunRow>& rows);

// Results file <-> rows.
results::ResultsFile make_results_file(const config::ExperimentConfig& config, const std::vector<RunRow>& rows,
                                       const std::vector<FitRow>& fits, const ExecutionOptions& options,
                                       bool complete);
std::vector<RunRow> read_run_rows(const results::ResultsFile& file, const config::ExperimentConfig& config);
std::vector<FitRow> read_fit_rows(const results::ResultsFile& file);

// Text reports: error table (sampler x T per target/group/estimator/metric) and verdicts.
void print_error_table(std::ostream& out, const config::ExperimentConfig& config, const std::vector<RunRow>& rows);
void print_verdicts(std::ostream& out, const std::vector<FitRow>& fits);
bool any_violated(const std::vector<FitRow>& fits);

}  // namespace dmconv::experiment
