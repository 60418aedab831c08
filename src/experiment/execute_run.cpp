// One run of the execute stage (execute.hpp): the estimators of the run on the components its
// sweep point shares (plan.hpp), one /runs row per estimate.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "experiment/execute.hpp"
#include "score_errors/realised_error.hpp"

namespace dmconv::experiment {
namespace {

struct RealisedErrors {
  double eps_score = 0.0, eps_score_se = 0.0, eps_jacobi = 0.0, eps_jacobi_se = 0.0;
};

// Realised score errors of docs/theory.md §3 on this grid (exactly 0 for the exact score; NaN when
// measure_samples = 0 skips the measurement).
RealisedErrors realised_errors(const Plan& plan, std::size_t index, int threads) {
  const config::ExperimentConfig& config = plan.config;
  const config::RunSpec& run = plan.runs[index];
  RealisedErrors out;
  if (run.score_error.kind == "none") return out;
  const SweepPoint& point = plan.point(index);
  // Posterior runs of 1 step have no diffusion grid to measure on.
  if (config.measure_samples < 2 || point.grids.count(run.steps) == 0) {
    out.eps_score = out.eps_score_se = out.eps_jacobi = out.eps_jacobi_se = NAN;
    return out;
  }
  const score_errors::RealisedError realised =
      score_errors::measure_score_error(*point.target, *point.score, *point.grids.at(run.steps), config.measure_samples,
                                        config.seed, static_cast<std::uint64_t>(run.replicate), threads);
  point.score->reset_count();
  out.eps_score = realised.eps_score;
  out.eps_score_se = realised.eps_score_se;
  out.eps_jacobi = realised.eps_jacobi;
  out.eps_jacobi_se = realised.eps_jacobi_se;
  return out;
}

// The columns every row of (run, estimator) shares.
RunRow base_row(const Plan& plan, std::size_t index, std::size_t estimator, const RealisedErrors& realised) {
  const config::ExperimentConfig& config = plan.config;
  const config::RunSpec& run = plan.runs[index];
  const SweepPoint& point = plan.point(index);
  RunRow base;
  base.run_index = static_cast<std::int64_t>(run.index);
  base.run_key = run.key;
  base.target = run.target.kind;
  base.sampler = run.sampler;
  base.schedule = run.schedule.kind;
  base.score_error = run.score_error.kind;
  base.estimator = config.estimators[estimator].component.kind;
  base.initialisation = run.initialisation;
  base.dim = point.target->dim();
  base.steps = run.steps;
  base.replicate = run.replicate;
  base.seed = static_cast<std::int64_t>(config.seed);
  base.particles = static_cast<std::int64_t>(run.particles);
  base.comparison_level = config.comparison_level;
  if (config.posterior()) {
    const posterior::PosteriorSampler& sampler = *point.posterior_samplers.at(run.sampler);
    base.nfe = sampler.score_evaluations(run.steps);
    base.likelihood = run.likelihood.kind;
    base.steps_meaning = sampler.steps_meaning();
  } else {
    const TimeGrid& grid = *point.grids.at(run.steps);
    base.nfe = declared_nfe(*point.samplers.at(run.sampler), grid, grid.steps(), config.comparison_level);
  }
  for (const auto& [path, value] : run.swept) base.swept.push_back(value);
  base.eps_score = realised.eps_score;
  base.eps_score_se = realised.eps_score_se;
  base.eps_jacobi = realised.eps_jacobi;
  base.eps_jacobi_se = realised.eps_jacobi_se;
  return base;
}

// The floor IS the estimator on exact samples of the comparison law (sample-based estimators)
// or its bias estimate: recorded as its own row so that tables and plots show the level below
// which no sampler can be resolved.
RunRow oracle_row(const RunRow& row, const Estimate& estimate) {
  RunRow oracle = row;
  oracle.origin = RowOrigin::kOracle;
  oracle.sampler = "oracle";
  oracle.value = estimate.floor;
  oracle.std_error = 0.0;
  oracle.nfe = 0.0;
  oracle.status = std::isfinite(estimate.floor) ? EstimateStatus::kOk : EstimateStatus::kNonFinite;
  oracle.message = "oracle floor of " + estimate.method;
  return oracle;
}

void append_estimates(std::vector<RunRow>& rows, const RunRow& base, const config::EstimatorSpec& spec,
                      const std::vector<Estimate>& estimates, bool oracle_rows) {
  for (const Estimate& raw : estimates) {
    if (!spec.metrics.empty() && std::find(spec.metrics.begin(), spec.metrics.end(), raw.metric) == spec.metrics.end())
      continue;
    // Every estimate passes the one physical range check (core/estimator.hpp): an impossible
    // number becomes a failed row with the reason, never an ok one.
    Estimate estimate = raw;
    check_physical_range(estimate);
    const bool out_of_range = raw.status == EstimateStatus::kOk && estimate.status != EstimateStatus::kOk;
    RunRow row = base;
    row.metric = estimate.metric;
    row.kind = estimate.kind;
    row.value = estimate.value;
    row.std_error = estimate.std_error;
    row.floor = estimate.floor;
    row.message = out_of_range ? estimate.message : estimate.method;
    row.status = estimate.status;
    if (row.status == EstimateStatus::kOk && !std::isfinite(estimate.value)) row.status = EstimateStatus::kNonFinite;
    rows.push_back(row);
    if (oracle_rows && estimate.kind == EstimateKind::kBiasedWithFloor) rows.push_back(oracle_row(row, estimate));
  }
}

// The whole estimator failed: one row per requested metric (or one "all" row).
void append_failure(std::vector<RunRow>& rows, const RunRow& base, const config::EstimatorSpec& spec,
                    const std::string& failure) {
  const std::vector<std::string> metrics = spec.metrics.empty() ? std::vector<std::string>{"all"} : spec.metrics;
  for (const std::string& metric : metrics) {
    RunRow row = base;
    row.metric = metric;
    row.origin = RowOrigin::kEstimatorFailed;
    row.status = EstimateStatus::kFailed;
    row.message = failure;
    rows.push_back(row);
  }
}

}  // namespace

bool particles_can_be_split(const Plan& plan, std::size_t index) {
  const std::vector<std::size_t>& chosen = plan.estimators_of_run[index];
  return !plan.config.posterior() && !chosen.empty() &&
         std::all_of(chosen.begin(), chosen.end(),
                     [&](std::size_t e) { return plan.estimators[e]->cost_splits_over_ranks(); });
}

std::vector<RunRow> execute_run(const Plan& plan, std::size_t index, int threads, const ParticleSplit* split) {
  const config::ExperimentConfig& config = plan.config;
  const config::RunSpec& run = plan.runs[index];
  const SweepPoint& point = plan.point(index);
  // One of the two problems, by the experiment's kind (posterior: [likelihood] present).
  std::optional<EstimationProblem> problem;
  std::optional<posterior::PosteriorProblem> posterior_problem;
  std::optional<posterior::PosteriorEstimationProblem> posterior_estimation;
  posterior::PosteriorOutputCache posterior_output_cache;  // one draw for all the run's estimators
  if (config.posterior()) {
    posterior_problem.emplace(point.posterior_problem());
    posterior_estimation.emplace(posterior_estimation_problem(plan, index, *posterior_problem, threads));
    posterior_estimation->output_cache = &posterior_output_cache;
  } else {
    problem.emplace(EstimationProblem{*point.samplers.at(run.sampler), *point.grids.at(run.steps), *point.target,
                                      *point.score, run_options(config, run, threads)});
    problem->run.split = split;
  }
  const RealisedErrors realised = realised_errors(plan, index, threads);
  std::vector<RunRow> rows;
  for (std::size_t e : plan.estimators_of_run[index]) {
    RunRow base = base_row(plan, index, e, realised);
    const auto start = std::chrono::steady_clock::now();
    std::vector<Estimate> estimates;
    std::string failure;
    try {
      estimates = config.posterior() ? plan.posterior_estimators[e]->estimate(*posterior_estimation)
                                     : plan.estimators[e]->estimate(*problem);
    } catch (const std::exception& error) {
      failure = error.what();
    }
    base.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!failure.empty()) {
      append_failure(rows, base, config.estimators[e], failure);
    } else {
      append_estimates(rows, base, config.estimators[e], estimates, config.oracle_rows);
    }
  }
  return rows;
}

}  // namespace dmconv::experiment
