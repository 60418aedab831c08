// The separable estimator (src/estimators/separable.hpp): d-dimensional distances of product
// targets from the 1-D law of one coordinate (docs/theory.md §6.5, claim 19).
//
// What is checked, and against what:
//   * d = 1: bitwise the 1-D estimators' values and floors (change_of_variables_quadrature for
//     deterministic samplers, grid_law for stochastic ones), so the 1-D inputs are theirs;
//   * d = 2 against direct 2-D computations on the 2-D product target, which never use the
//     product structure: change_of_variables_quadrature (ddim) and grid_law (ddpm);
//   * d = 8: KL is 8 x the 1-D estimators' KL, 1 - H^2 is the 8th power, and the Monte Carlo TV
//     agrees with change_of_variables' d-dimensional Monte Carlo through the sampler's own flow;
//   * the Monte Carlo TV against the exact pair sum at d = 2 (same discrete law);
//   * thread-count invariance (bitwise), unsupported problems, invalid options, the registry.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/schedule.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/grid_law.hpp"
#include "estimators/separable.hpp"
#include "samplers/registry.hpp"
#include "targets/product.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

using estimators::SeparableEstimator;
using estimators::SeparableOptions;

// d copies of the docs/theory.md §6.3 mixture 0.3 N(-2, 0.25) + 0.7 N(1.5, 0.5).
std::unique_ptr<Target> theory_product(int dim) {
  return target_registry().make("product", {{"dim", dim},
                                            {"weights", std::vector<double>{0.3, 0.7}},
                                            {"means", std::vector<double>{-2.0, 1.5}},
                                            {"variances", std::vector<double>{0.25, 0.5}}});
}

TimeGrid theory_grid(int steps) { return schedule_registry().make("theory", {{"c0", 2.0}, {"c1", 6.0}})->grid(steps); }

RunOptions single_thread_run(Eigen::Index particles = 1000) {
  RunOptions run;
  run.threads = 1;  // the suite runs tests side by side; the thread test uses 2 explicitly
  run.particles = particles;
  run.seed = 5;
  return run;
}

// Estimates by metric name.
struct Metrics {
  Estimate tv, kl_target_output, kl_output_target, hellinger;
  explicit Metrics(const std::vector<Estimate>& estimates) {
    for (const Estimate& e : estimates) {
      if (e.metric == "tv") tv = e;
      if (e.metric == "kl_target_output") kl_target_output = e;
      if (e.metric == "kl_output_target") kl_output_target = e;
      if (e.metric == "hellinger") hellinger = e;
    }
  }
};

std::vector<Estimate> run_estimator(const Estimator& estimator, const Sampler& sampler, const TimeGrid& grid,
                                    const Target& target, const RunOptions& run) {
  const ExactScore score(target);
  const EstimationProblem problem{sampler, grid, target, score, run};
  const auto reason = estimator.unsupported_reason(problem);
  EXPECT_FALSE(reason.has_value()) << estimator.name() << ": " << reason.value_or("");
  return estimator.estimate(problem);
}

Metrics separable(const Sampler& sampler, const TimeGrid& grid, const Target& target, const RunOptions& run,
                  const SeparableOptions& options = {}) {
  const std::vector<Estimate> out = run_estimator(SeparableEstimator(options), sampler, grid, target, run);
  EXPECT_EQ(out.size(), 4u);
  for (const Estimate& e : out) {
    EXPECT_EQ(e.method.rfind("separable(d=" + std::to_string(target.dim()), 0), 0u) << e.method;
    EXPECT_TRUE(std::isfinite(e.value) && std::isfinite(e.floor)) << e.metric << " " << e.method;
  }
  return Metrics(out);
}

double rel(double value, double reference) { return std::fabs(value - reference) / std::fabs(reference); }

// ---------------------------------------------------------------------------------------------
// d = 1: the 1-D estimators' numbers, bit for bit.

TEST(Separable, OneDimensionIsExactlyTheOneDimensionalEstimators) {
  const auto product = theory_product(1);
  const Target& factor = *product->product_factor();
  const TimeGrid grid = theory_grid(32);
  const RunOptions run = single_thread_run();
  struct Case {
    const char* sampler;
    std::unique_ptr<Estimator> reference;
    SeparableOptions options;
  };
  std::vector<Case> cases;
  cases.push_back({"ddim", std::make_unique<ChangeOfVariablesQuadrature>(256, 8), {256, 8, {}, 2}});
  cases.push_back({"acc_sde_a", std::make_unique<estimators::GridLawEstimator>(estimators::GridLawOptions{512, 0.0, 12}),
                   {0, 8, {512, 0.0, 12}, 2}});
  for (const Case& c : cases) {
    const auto sampler = sampler_registry().make(c.sampler, {});
    const Metrics sep = separable(*sampler, grid, *product, run, c.options);
    const Metrics ref(run_estimator(*c.reference, *sampler, grid, factor, run));
    for (auto [a, b] : {std::pair{sep.tv, ref.tv}, std::pair{sep.kl_target_output, ref.kl_target_output},
                        std::pair{sep.kl_output_target, ref.kl_output_target}, std::pair{sep.hellinger, ref.hellinger}}) {
      EXPECT_EQ(a.value, b.value) << c.sampler << " " << a.metric;
      EXPECT_EQ(a.floor, b.floor) << c.sampler << " " << a.metric;
      EXPECT_EQ(a.kind, EstimateKind::kExact);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// d = 2 against direct two-dimensional computations on the 2-D product target.

// Deterministic: ddim, T = 64, against the tensor Gauss-Legendre quadrature over Y_T in 2-D
// (change_of_variables_quadrature, which sees a generic 2-D target and flow). Its integrand has a
// narrow feature where the flow stretches the gap between the modes (u ~ -0.56, width ~0.05), so
// the 2-D rule converges erratically; order 20 with 24 panels per axis (4.2 s) is the affordable
// setting: measured differences 5e-4 (TV) to 3e-3 (KL) relative, within its own floor (48 panels,
// 16 s: all within 1e-4). Tolerance: 1e-3 relative or the combined floors, whichever is larger.
TEST(Separable, TwoDimensionsMatchesTwoDimensionalQuadratureForDdim) {
  const auto product = theory_product(2);
  const TimeGrid grid = theory_grid(64);
  const auto sampler = sampler_registry().make("ddim", {});
  const RunOptions run = single_thread_run();
  const Metrics sep = separable(*sampler, grid, *product, run);
  const Metrics direct(run_estimator(ChangeOfVariablesQuadrature(24, 20), *sampler, grid, *product, run));
  EXPECT_EQ(sep.tv.kind, EstimateKind::kExact);
  for (auto [a, b] : {std::pair{sep.tv, direct.tv}, std::pair{sep.kl_target_output, direct.kl_target_output},
                      std::pair{sep.kl_output_target, direct.kl_output_target},
                      std::pair{sep.hellinger, direct.hellinger}}) {
    EXPECT_NEAR(a.value, b.value, std::max(1e-3 * b.value, a.floor + b.floor))
        << a.metric << ": separable " << a.value << " (floor " << a.floor << "), 2-D quadrature " << b.value
        << " (floor " << b.floor << ")";
    EXPECT_LT(a.floor, 1e-6 * a.value) << a.metric;
  }
}

// The premise, checked where it is cheap: on the same nodes, the 2-D flow of the product target
// (2-D sampler steps, 2-D score and log-determinants) is the tensor product of the 1-D flow of
// the factor: Y(u_j, u_k) = (Y_1(u_j), Y_1(u_k)) and r(u_j, u_k) = r_1(u_j) + r_1(u_k).
// (docs/theory.md §7 claim 19: any deviation would mean coupled noise or a non-separable score.)
TEST(Separable, TwoDimensionalFlowIsTheTensorProductOfTheOneDimensionalFlow) {
  const auto product = theory_product(2);
  const Target& factor = *product->product_factor();
  const TimeGrid grid = theory_grid(32);
  const RunOptions run = single_thread_run();
  const ChangeOfVariablesQuadrature rule(6, 6);
  for (const char* name : {"ddim", "acc_ode_noise", "dpm_solver_pp_2m"}) {
    const auto sampler = sampler_registry().make(name, {});
    const ExactScore score_2d(*product), score_1d(factor);
    const QuadratureAtoms a2 = rule.atoms(EstimationProblem{*sampler, grid, *product, score_2d, run}, 6);
    const QuadratureAtoms a1 = rule.atoms(EstimationProblem{*sampler, grid, factor, score_1d, run}, 6);
    const Eigen::Index m = a1.weight.size();
    ASSERT_EQ(a2.weight.size(), m * m);
    double worst_y = 0.0, worst_r = 0.0;
    for (Eigen::Index k = 0; k < m * m; ++k) {
      const Eigen::Index j0 = k % m, j1 = k / m;
      worst_y = std::max({worst_y, std::fabs(a2.y(0, k) - a1.y(0, j0)), std::fabs(a2.y(1, k) - a1.y(0, j1))});
      worst_r = std::max(worst_r, std::fabs(a2.log_ratio(k) - (a1.log_ratio(j0) + a1.log_ratio(j1))));
    }
    EXPECT_LT(worst_y, 1e-13) << name;
    EXPECT_LT(worst_r, 1e-11) << name;
  }
}

// Stochastic: ddpm, T = 64, against grid_law on the 2-D product target (a 2-D grid, 2-D
// semi-Lagrangian steps and 2-D FFT convolutions).
TEST(Separable, TwoDimensionsMatchesTwoDimensionalGridLawForDdpm) {
  const auto product = theory_product(2);
  const TimeGrid grid = theory_grid(64);
  const auto sampler = sampler_registry().make("ddpm", {});
  const RunOptions run = single_thread_run();
  const Metrics sep = separable(*sampler, grid, *product, run);
  const Metrics direct(
      run_estimator(estimators::GridLawEstimator({128, 0.0, 12}), *sampler, grid, *product, run));
  for (auto [a, b] : {std::pair{sep.tv, direct.tv}, std::pair{sep.kl_target_output, direct.kl_target_output},
                      std::pair{sep.kl_output_target, direct.kl_output_target},
                      std::pair{sep.hellinger, direct.hellinger}}) {
    // Measured: 1e-5 relative (TV, KL(p_X||p_Y), H^2), 9e-5 (KL(p_Y||p_X), tail-sensitive); the
    // 2-D grid's own floors are ~1e-3 relative.
    EXPECT_LT(rel(a.value, b.value), 2e-4) << a.metric << ": separable " << a.value << " (floor " << a.floor
                                          << "), 2-D grid law " << b.value << " (floor " << b.floor << ")";
    EXPECT_NEAR(a.value, b.value, a.floor + b.floor) << a.metric;
  }
}

// ---------------------------------------------------------------------------------------------
// d = 8

TEST(Separable, EightDimensionsScalesTheOneDimensionalLawAndAgreesWithMonteCarloThroughTheFlow) {
  const auto product = theory_product(8);
  const TimeGrid grid = theory_grid(64);
  const auto sampler = sampler_registry().make("ddim", {});
  const RunOptions run = single_thread_run(20000);
  SeparableOptions options;
  options.panels = 1024;
  const Metrics sep = separable(*sampler, grid, *product, run, options);
  // Against the 1-D quadrature estimator on the factor itself.
  const Target& factor = *product->product_factor();
  const Metrics ref(run_estimator(ChangeOfVariablesQuadrature(1024, 8), *sampler, grid, factor, run));
  EXPECT_EQ(sep.kl_output_target.value, 8.0 * ref.kl_output_target.value);
  EXPECT_EQ(sep.kl_target_output.value, 8.0 * ref.kl_target_output.value);
  EXPECT_EQ(sep.kl_output_target.floor, 8.0 * ref.kl_output_target.floor);
  EXPECT_EQ(sep.kl_target_output.floor, 8.0 * ref.kl_target_output.floor);
  EXPECT_NEAR(1.0 - sep.hellinger.value, std::pow(1.0 - ref.hellinger.value, 8), 1e-15);
  EXPECT_LT(rel(sep.hellinger.floor, 8.0 * std::pow(1.0 - ref.hellinger.value, 7) * ref.hellinger.floor), 1e-12);

  // TV: Monte Carlo over the 1-D law against change_of_variables in d = 8 (exact densities along
  // 8-D trajectories of the sampler itself, Y_T ~ p_{X_T}); both unbiased.
  EXPECT_EQ(sep.tv.kind, EstimateKind::kUnbiasedMonteCarlo);
  EXPECT_GT(sep.tv.std_error, 0.0);
  const Metrics flow(run_estimator(ChangeOfVariablesEstimator(), *sampler, grid, *product, run));
  const double combined = std::hypot(sep.tv.std_error, flow.tv.std_error);
  EXPECT_NEAR(sep.tv.value, flow.tv.value, 4.0 * combined + sep.tv.floor)
      << "separable " << sep.tv.value << " +- " << sep.tv.std_error << ", flow MC " << flow.tv.value << " +- "
      << flow.tv.std_error;
  // The flow Monte Carlo's KL and Hellinger are unbiased too: 4 SE.
  for (auto [a, b] : {std::pair{sep.kl_target_output, flow.kl_target_output},
                      std::pair{sep.kl_output_target, flow.kl_output_target}, std::pair{sep.hellinger, flow.hellinger}})
    EXPECT_NEAR(a.value, b.value, 4.0 * b.std_error) << a.metric << ": flow MC " << b.value << " +- " << b.std_error;
  // The floor is the discretisation effect (coupled coarse/fine draws), far below the SE.
  EXPECT_LT(sep.tv.floor, 0.1 * sep.tv.std_error);
}

// The Monte Carlo TV against the exact pair sum on the same discrete law (d = 2), both kinds of
// 1-D law; the control variate must beat the plain (1 - e^S)_+ (per-draw sd 0.10 for ddim and
// 0.15 for ddpm here; with the control variate 0.055 and 0.057).
TEST(Separable, MonteCarloTvAgreesWithTheExactPairSum) {
  const auto product = theory_product(2);
  const Target& factor = *product->product_factor();
  const ExactScore score(factor);
  const TimeGrid grid = theory_grid(64);
  const SeparableEstimator estimator;
  for (const char* name : {"ddim", "ddpm"}) {
    const auto sampler = sampler_registry().make(name, {});
    const RunOptions run = single_thread_run();
    const estimators::FactorSolution s = estimator.solve_factor(EstimationProblem{*sampler, grid, factor, score, run});
    ASSERT_TRUE(s.ok && s.has_coarse) << s.message;
    const double exact = estimators::tv_of_square(s.fine);
    const Eigen::Index n = 200000;
    const estimators::SeparableTvMonteCarlo mc = estimators::tv_of_power_monte_carlo(s.fine, &s.coarse, 2, n, 9, 0, 0, 1);
    EXPECT_NEAR(mc.value, exact, 4.0 * mc.std_error) << name;
    EXPECT_LT(mc.std_error * std::sqrt(static_cast<double>(n)), 0.07) << name;
    EXPECT_NEAR(mc.coarse_value, estimators::tv_of_square(s.coarse), 4.0 * mc.std_error) << name;
    // TV is symmetric: swapping the two laws (masses swapped, r -> -r) leaves the pair sum unchanged.
    estimators::FactorAtoms swapped = s.fine;
    swapped.output_mass.swap(swapped.target_mass);
    swapped.log_ratio = -swapped.log_ratio;
    EXPECT_NEAR(estimators::tv_of_square(swapped), exact, 1e-12) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// Reproducibility and preconditions

TEST(Separable, ResultsDoNotDependOnTheThreadCount) {
  const auto product = theory_product(8);
  const TimeGrid grid = theory_grid(32);
  SeparableOptions options;
  options.panels = 256;
  options.grid.points = 256;
  for (const char* name : {"ddim", "acc_sde_a"}) {
    const auto sampler = sampler_registry().make(name, {});
    std::vector<Estimate> out[2];
    for (int threads : {1, 2}) {
      RunOptions run = single_thread_run(30000);
      run.threads = threads;
      out[threads - 1] = run_estimator(SeparableEstimator(options), *sampler, grid, *product, run);
    }
    ASSERT_EQ(out[0].size(), out[1].size());
    for (std::size_t i = 0; i < out[0].size(); ++i) {
      EXPECT_EQ(out[0][i].value, out[1][i].value) << name << " " << out[0][i].metric;
      EXPECT_EQ(out[0][i].std_error, out[1][i].std_error) << name << " " << out[0][i].metric;
      EXPECT_EQ(out[0][i].floor, out[1][i].floor) << name << " " << out[0][i].metric;
    }
  }
}

TEST(Separable, UnsupportedProblemsSayWhy) {
  const TimeGrid grid = theory_grid(32);
  const auto ddim = sampler_registry().make("ddim", {});
  const SeparableEstimator estimator;
  const RunOptions run = single_thread_run();
  auto reason = [&](const Target& target, const ScoreModel& score, const RunOptions& options) {
    return estimator.unsupported_reason(EstimationProblem{*ddim, grid, target, score, options});
  };
  // A non-product target (the 2-D example mixture, full covariances).
  const auto mixture = target_registry().make_example("gaussian_mixture");
  const ExactScore mixture_score(*mixture);
  ASSERT_TRUE(reason(*mixture, mixture_score, run).has_value());
  EXPECT_NE(reason(*mixture, mixture_score, run)->find("not a product target"), std::string::npos);
  // A product target with a score that is not its own exact score (here: the exact score of an
  // equal but different target object).
  const auto product = theory_product(4), other = theory_product(4);
  const ExactScore foreign(*other);
  ASSERT_TRUE(reason(*product, foreign, run).has_value());
  EXPECT_NE(reason(*product, foreign, run)->find("exact score"), std::string::npos);
  // Monte Carlo TV with too few particles.
  const ExactScore score(*product);
  RunOptions few = run;
  few.particles = 1;
  ASSERT_TRUE(reason(*product, score, few).has_value());
  EXPECT_NE(reason(*product, score, few)->find("particles"), std::string::npos);
  EXPECT_FALSE(reason(*product, score, run).has_value());
  // Invalid options are rejected at construction.
  EXPECT_THROW(SeparableEstimator(SeparableOptions{0, 8, {}, 3}), InvalidArgument);
  EXPECT_THROW(SeparableEstimator(SeparableOptions{0, 1, {}, 2}), InvalidArgument);
  EXPECT_THROW(SeparableEstimator(SeparableOptions{0, 8, {31, 0.0, 12}, 2}), InvalidArgument);
}

TEST(Separable, IsRegisteredWithValidatedParameters) {
  const auto estimator = estimator_registry().make("separable", {{"panels", 256}, {"points", 512}});
  EXPECT_EQ(estimator->name(), "separable");
  EXPECT_THROW(estimator_registry().make("separable", {{"particles", 10}}), InvalidArgument);
}

}  // namespace
}  // namespace dmconv
