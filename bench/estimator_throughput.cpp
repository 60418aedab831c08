// Throughput of the exact-error estimators (issue 3, item 5): trajectory-steps per second on the
// 2-D example mixture (full covariances) and the 16-D isotropic mixture of bench_targets.hpp,
// exact scores, theory schedule, T = 64, exact p_{X_T} initialisation.
//
// "particle_steps/s" counts every trajectory step an estimator takes, including its built-in
// refinement run:
//   change_of_variables             n particles x T (flow map + log-determinant per step)
//   change_of_variables_quadrature  ((P order)^d + (P/2 order)^d) nodes x T (fine + coarse rule)
//   grid_law                        (N^d + (N/2)^d) grid points x T (full + half resolution)
//   separable                       ((P order) + (P/2 order)) 1-D nodes x T (ddim) or (N + N/2) grid
//                                   points x T (ddpm) on the 16-D product of the docs/theory.md §6.3
//                                   1-D mixture, plus n = 20000 Monte Carlo draws of d log-ratios
//   gaussian_law                    one law x T (mean and covariance; on the 2-D / 16-D Gaussian
//                                   with the mixture's first-component covariance structure,
//                                   since it needs an affine score): reported as law_steps/s.
// `dmconv_bench --benchmark_filter=estimator/` runs only these.
#include <benchmark/benchmark.h>

#include <cmath>

#include "bench_targets.hpp"
#include "core/schedule.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/gaussian_law.hpp"
#include "estimators/grid_law.hpp"
#include "estimators/separable.hpp"
#include "samplers/registry.hpp"

namespace dmconv {
namespace {

constexpr int kSteps = 64;

TimeGrid theory_grid() { return schedule_registry().make("theory", {})->grid(kSteps); }

// Runs `estimator` on (sampler, target) and reports work_per_run x runs / s under `counter`.
void run_estimator(benchmark::State& state, const Estimator& estimator, const std::string& sampler_name,
                   const Target& target, Eigen::Index particles, double work_per_run, const char* counter) {
  const auto sampler = sampler_registry().make(sampler_name, {});
  const TimeGrid grid = theory_grid();
  const ExactScore score(target);
  RunOptions run;
  run.particles = particles;
  const EstimationProblem problem{*sampler, grid, target, score, run};
  if (const auto reason = estimator.unsupported_reason(problem)) {
    state.SkipWithError(reason->c_str());
    return;
  }
  for (auto _ : state) {
    const std::vector<Estimate> estimates = estimator.estimate(problem);
    benchmark::DoNotOptimize(estimates.data());
  }
  state.counters[counter] = benchmark::Counter(work_per_run, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ChangeOfVariables(benchmark::State& state, const std::string& sampler, int dimension) {
  const Eigen::Index n = dimension == 2 ? 1 << 14 : 1 << 12;
  run_estimator(state, ChangeOfVariablesEstimator(), sampler, *bench::mixture(dimension), n,
                static_cast<double>(n) * kSteps, "particle_steps/s");
}

void BM_Quadrature(benchmark::State& state, const std::string& sampler) {
  const int panels = 32, order = 8;
  const double fine = std::pow(panels * order, 2), coarse = std::pow(panels / 2 * order, 2);
  run_estimator(state, ChangeOfVariablesQuadrature(panels, order), sampler, *bench::mixture(2), 1,
                (fine + coarse) * kSteps, "particle_steps/s");
}

void BM_GridLaw(benchmark::State& state, const std::string& sampler) {
  const int points = 128;
  const double work = (std::pow(points, 2) + std::pow(points / 2, 2)) * kSteps;
  run_estimator(state, estimators::GridLawEstimator({points, 0.0, 12}), sampler, *bench::mixture(2), 1, work,
                "particle_steps/s");
}

void BM_Separable(benchmark::State& state, const std::string& sampler) {
  const auto target = target_registry().make(
      "product", {{"dim", 16}, {"weights", std::vector<double>{0.3, 0.7}}, {"means", std::vector<double>{-2.0, 1.5}},
                  {"variances", std::vector<double>{0.25, 0.5}}});
  estimators::SeparableOptions options;
  options.panels = 256;
  options.grid.points = 1024;
  const bool grid = sampler == "ddpm";
  const double work = (grid ? 1024.0 + 512.0 : (256.0 + 128.0) * 8.0) * kSteps;
  run_estimator(state, estimators::SeparableEstimator(options), sampler, *target, 20000, work, "particle_steps/s");
}

void BM_GaussianLaw(benchmark::State& state, const std::string& sampler, int dimension) {
  // A full covariance (AR(1) correlation 0.6) around a non-zero mean.
  Matrix covariance(dimension, dimension);
  for (int i = 0; i < dimension; ++i)
    for (int j = 0; j < dimension; ++j) covariance(i, j) = 0.5 * std::pow(0.6, std::abs(i - j));
  ParamValue::List rows;
  for (int i = 0; i < dimension; ++i)
    rows.emplace_back(std::vector<double>(covariance.col(i).data(), covariance.col(i).data() + dimension));  // symmetric
  const auto target = target_registry().make(
      "gaussian", {{"mean", std::vector<double>(static_cast<std::size_t>(dimension), 1.0)}, {"covariance", rows}});
  run_estimator(state, estimators::GaussianLawEstimator(), sampler, *target, 1000, kSteps, "law_steps/s");
}

const int registered = [] {
  for (const char* sampler : {"ddim", "acc_ode_noise", "dpm_solver_pp_2m"}) {
    for (int d : {2, 16}) {
      benchmark::RegisterBenchmark(
          (std::string("estimator/change_of_variables/") + sampler + "/d" + std::to_string(d)).c_str(),
          BM_ChangeOfVariables, sampler, d)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark((std::string("estimator/change_of_variables_quadrature/") + sampler + "/d2").c_str(),
                                 BM_Quadrature, sampler)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const char* sampler : {"ddpm", "acc_sde_a"}) {
    benchmark::RegisterBenchmark((std::string("estimator/grid_law/") + sampler + "/d2").c_str(), BM_GridLaw, sampler)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const char* sampler : {"ddim", "ddpm"}) {
    benchmark::RegisterBenchmark((std::string("estimator/separable/") + sampler + "/d16").c_str(), BM_Separable, sampler)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const char* sampler : {"ddpm", "ddim", "acc_ode_noise"}) {
    for (int d : {2, 16}) {
      benchmark::RegisterBenchmark(
          (std::string("estimator/gaussian_law/") + sampler + "/d" + std::to_string(d)).c_str(), BM_GaussianLaw,
          sampler, d)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  return 0;
}();

}  // namespace
}  // namespace dmconv
