// Calibration of the Monte Carlo standard errors (issue 3, item 4): over many independent
// replicates, the interval value +- 1.96 SE must cover the exact value 90-99% of the time.
// A standard error that is too small (e.g. the variance of the wrong integrand, or a missing
// 1/sqrt(n)) drives the coverage far below 90%; one that is too large (e.g. sd instead of
// sd / sqrt(n), or a double-counted variance) drives it to 100%.
//
// Exact references: change_of_variables_quadrature (1024 panels, floor < 1e-4 relative) for the
// change-of-variables Monte Carlo, and the 1-D closed form for the Gaussian TV Monte Carlo
// (only one coordinate differs, so TV_3 = TV_1).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "core/schedule.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/gaussian_distances.hpp"
#include "samplers/registry.hpp"
#include "targets/registry.hpp"
#include "support/theory_targets.hpp"

namespace dmconv {
namespace {

constexpr int kReplicates = 200;
constexpr double kZ95 = 1.959963984540054;  // Phi^{-1}(0.975)

struct Coverage {
  int covered = 0;
  int total = 0;
  double sum = 0.0, sum_squares = 0.0;  // of value - exact
  double fraction() const { return static_cast<double>(covered) / total; }
  // Pooled bias in units of its own standard error, (mean of value - exact) / (sd / sqrt(R)):
  // ~N(0, 1) for an unbiased estimator. (The mean of the individual z-scores is not: with
  // skewed non-negative integrands the SE is correlated with the value, which pulls it to
  // about -0.25 here without any bias.)
  double pooled_z() const {
    const double mean = sum / total;
    const double variance = (sum_squares - total * mean * mean) / (total - 1);
    return mean / std::sqrt(variance / total);
  }
};

void add(Coverage& c, double value, double std_error, double exact) {
  c.covered += std::fabs(value - exact) <= kZ95 * std_error ? 1 : 0;
  c.total += 1;
  c.sum += value - exact;
  c.sum_squares += (value - exact) * (value - exact);
}

TEST(StandardErrorCalibration, ChangeOfVariablesMonteCarloCoversTheQuadratureValue) {
  // docs/theory.md §6.3 mixture, DDIM on the theory grid at T = 32 (TV ~ 6e-2, so the integrands'
  // skew matters at n = 1000 -- which is what is being tested).
  const auto target = test_support::theory_mixture_1d();
  const TimeGrid grid = schedule_registry().make("theory", {{"c0", 2.0}, {"c1", 6.0}})->grid(32);
  const auto sampler = sampler_registry().make("ddim", {});
  const ExactScore score(*target);
  std::map<std::string, double> exact;
  {
    const EstimationProblem problem{*sampler, grid, *target, score, RunOptions{}};
    for (const Estimate& e : ChangeOfVariablesQuadrature(1024, 8).estimate(problem)) {
      exact[e.metric] = e.value;
      ASSERT_LT(e.floor, 1e-4 * e.value) << e.metric;
    }
  }
  ASSERT_EQ(exact.size(), 4u);
  std::map<std::string, Coverage> coverage;
  for (int replicate = 0; replicate < kReplicates; ++replicate) {
    RunOptions run;
    run.particles = 1000;
    run.seed = 99;
    run.run = static_cast<std::uint64_t>(replicate);
    const EstimationProblem problem{*sampler, grid, *target, score, run};
    for (const Estimate& e : ChangeOfVariablesEstimator().estimate(problem)) {
      ASSERT_EQ(e.kind, EstimateKind::kUnbiasedMonteCarlo);
      add(coverage[e.metric], e.value, e.std_error, exact.at(e.metric));
    }
  }
  for (const auto& [metric, c] : coverage) {
    std::printf("change_of_variables %-18s exact %.6e  95%% coverage %.3f  pooled bias z %+.3f\n", metric.c_str(),
                exact.at(metric), c.fraction(), c.pooled_z());
    EXPECT_GE(c.fraction(), 0.90) << metric << ": standard error too small";
    EXPECT_LE(c.fraction(), 0.99) << metric << ": standard error too large";
    EXPECT_LT(std::fabs(c.pooled_z()), 4.0) << metric << ": biased";
  }
}

TEST(StandardErrorCalibration, GaussianTvMonteCarloCoversTheClosedForm) {
  // Only the first coordinate differs: TV_3 = TV_1 (exact, 1-D closed form).
  const GaussianLaw p0{Eigen::Vector3d(0.2, 0.0, 0.0), Eigen::Vector3d(1.3, 2.0, 0.5).asDiagonal()};
  const GaussianLaw p1{Vector::Zero(3), Eigen::Vector3d(1.0, 2.0, 0.5).asDiagonal()};
  const double exact = gaussian_tv_1d(0.2, 0.3);
  Coverage c;
  for (int replicate = 0; replicate < 5 * kReplicates; ++replicate) {  // cheap: more replicates, sharper test
    TvOptions options;
    options.samples = 2000;
    options.seed = 77;
    options.run = static_cast<std::uint64_t>(replicate);
    const Estimate mc = gaussian_tv(p0, p1, options);
    ASSERT_EQ(mc.kind, EstimateKind::kUnbiasedMonteCarlo);
    add(c, mc.value, mc.std_error, exact);
  }
  std::printf("gaussian_tv (d = 3) exact %.6e  95%% coverage %.3f  pooled bias z %+.3f\n", exact, c.fraction(),
              c.pooled_z());
  EXPECT_GE(c.fraction(), 0.90);
  EXPECT_LE(c.fraction(), 0.99);
  EXPECT_LT(std::fabs(c.pooled_z()), 4.0);
}

}  // namespace
}  // namespace dmconv
