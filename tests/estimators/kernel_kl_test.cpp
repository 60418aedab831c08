// The sum of one-step kernel KLs (src/estimators/kernel_kl.hpp), checked against:
//   * docs/theory.md §6.1: on N(0, I_d) data DDPM's kernel KL is (alpha - 1 - ln alpha) / 2 per
//     coordinate and step, written here from the formula (not from the estimator's code);
//   * the closed form against the quadrature method on the same Gaussian law written as a
//     two-component mixture of identical components (DDPM, accelerated (A) and (B));
//   * one step on the docs/theory.md §6.3 mixture against nested adaptive Gauss-Kronrod integration
//     (Boost.Math) of p_t(x) KL(p(. | x) || q_t(. | x)), with q_t's pre-noise integral done directly
//     -- an independent computation of every part of the quadrature method;
//   * data processing: with exact initialisation the sum bounds KL(p_{X_1} || p_{Y_1}) (gaussian_law,
//     grid_law);
//   * the floor bounds the error against a finer rule; thread-count independence; unsupported
//     problems say why.
#include <gtest/gtest.h>

#include <boost/math/quadrature/gauss.hpp>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "core/schedule.hpp"
#include "estimators/gaussian_law.hpp"
#include "estimators/grid_law.hpp"
#include "estimators/kernel_kl.hpp"
#include "samplers/registry.hpp"
#include "support/theory_targets.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

using estimators::KernelKlEstimator;
using estimators::KernelKlOptions;

TimeGrid theory_grid(int steps) { return schedule_registry().make("theory", {{"c0", 2.0}, {"c1", 6.0}})->grid(steps); }

RunOptions run_with_threads(int threads) {
  RunOptions run;
  run.threads = threads;
  return run;
}

Estimate kernel_kl(const Sampler& sampler, const TimeGrid& grid, const Target& target, KernelKlOptions options = {},
                   int threads = 1) {
  const ExactScore score(target);
  const EstimationProblem problem{sampler, grid, target, score, run_with_threads(threads)};
  const KernelKlEstimator estimator(options);
  const auto reason = estimator.unsupported_reason(problem);
  EXPECT_FALSE(reason.has_value()) << *reason;
  const std::vector<Estimate> out = estimator.estimate(problem);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out.at(0).metric, "kernel_kl_sum");
  EXPECT_EQ(out.at(0).status, EstimateStatus::kOk);
  return out.at(0);
}

std::unique_ptr<Target> gaussian(std::vector<double> mean, double variance) {
  return target_registry().make("gaussian", {{"mean", mean}, {"variance", variance}});
}

// The same law N(mean, variance) as a mixture of two identical components (forces quadrature).
std::unique_ptr<Target> gaussian_as_mixture(double mean, double variance) {
  return target_registry().make("gaussian_mixture",
                                {{"weights", std::vector<double>{0.4, 0.6}},
                                 {"means", ParamValue::List{std::vector<double>{mean}, std::vector<double>{mean}}},
                                 {"variance", std::vector<double>{variance, variance}}});
}

TEST(KernelKl, StandardNormalDataDdpmIsHalfAlphaMinusOneMinusLogAlphaPerCoordinate) {
  const auto sampler = sampler_registry().make("ddpm", {});
  for (const int steps : {24, 64, 256}) {
    const TimeGrid grid = theory_grid(steps);
    double per_coordinate = 0.0;
    for (int t = 2; t <= steps; ++t) {
      const double beta = grid.beta(t);
      per_coordinate += 0.5 * (-beta - std::log1p(-beta));  // (alpha - 1 - ln alpha) / 2
    }
    for (const int dim : {1, 3}) {
      const auto target = gaussian(std::vector<double>(static_cast<std::size_t>(dim), 0.0), 1.0);
      const Estimate closed = kernel_kl(*sampler, grid, *target);
      EXPECT_NEAR(closed.value, dim * per_coordinate, 1e-11 * dim * per_coordinate) << "T = " << steps << " d = " << dim;
      EXPECT_NE(closed.method.find("closed form"), std::string::npos);
    }
    const Estimate quadrature = kernel_kl(*sampler, grid, *gaussian_as_mixture(0.0, 1.0));
    EXPECT_NEAR(quadrature.value, per_coordinate, 1e-9 * per_coordinate) << "T = " << steps;
    EXPECT_NE(quadrature.method.find("quadrature"), std::string::npos);
  }
}

TEST(KernelKl, ClosedFormAndQuadratureAgreeOnAGaussianForEveryKernelForm) {
  const TimeGrid grid = theory_grid(48);
  const auto closed_target = gaussian({1.5}, 0.25);
  const auto mixture_target = gaussian_as_mixture(1.5, 0.25);
  for (const std::string name : {"ddpm", "ddpm_noise_outside", "acc_sde_a", "acc_sde_b"}) {
    const auto sampler = sampler_registry().make(name, {});
    const Estimate closed = kernel_kl(*sampler, grid, *closed_target);
    const Estimate quadrature = kernel_kl(*sampler, grid, *mixture_target);
    EXPECT_GT(closed.value, 0.0) << name;
    EXPECT_NEAR(quadrature.value, closed.value, 1e-8 * closed.value) << name;
  }
}

// Composite Gauss-Legendre (Boost.Math, 20 nodes per panel) of f over [lo, hi] in `panels` panels.
template <class F>
double composite_gauss(F f, double lo, double hi, int panels) {
  const double width = (hi - lo) / panels;
  double sum = 0.0;
  for (int i = 0; i < panels; ++i)
    sum += boost::math::quadrature::gauss<double, 20>::integrate(f, lo + i * width, lo + (i + 1) * width);
  return sum;
}

// p_t(x) KL(p(. | x) || q_t(. | x)) for one step, integrated by nested composite Gauss-Legendre rules,
// with the true kernel from Bayes' rule and q_t's pre-noise integral done directly.
double nested_quadrature_step(const Target& target, const TimeGrid& grid, int t, const StochasticScoreStep& step) {
  const NoiseLevel& level = grid.level(t);
  const NoiseLevel& previous = grid.level(t - 1);
  const double alpha = grid.alpha(t), beta = grid.beta(t);
  const auto normal = [](double z, double mean, double variance) {
    return std::exp(-0.5 * (z - mean) * (z - mean) / variance) / std::sqrt(2.0 * std::numbers::pi * variance);
  };
  const auto density = [&](const NoiseLevel& at, double x) {
    Matrix point(1, 1);
    point(0, 0) = x;
    Vector out(1);
    target.log_density(at, point, out);
    return std::exp(out(0));
  };
  const auto score = [&](double y) {
    Matrix point(1, 1), out(1, 1);
    point(0, 0) = y;
    target.score(level, point, out);
    return out(0, 0);
  };
  const double a = step.state_coefficient, c = step.score_coefficient;
  const double v_pre = step.pre_noise_variance, v_post = step.post_noise_variance;
  // True kernel by Bayes: p(z | x) = p_{t-1}(z) N(x; sqrt(alpha) z, beta) / p_t(x).
  const auto true_kernel = [&](double z, double x) {
    return density(previous, z) * normal(x, std::sqrt(alpha) * z, beta) / density(level, x);
  };
  const auto sampler_kernel = [&](double z, double x) {
    if (v_pre == 0.0) return normal(z, a * x + c * score(x), v_post);
    const auto integrand = [&](double y) { return normal(y, x, v_pre) * normal(z, a * y + c * score(y), v_post); };
    const double width = 10.0 * std::sqrt(v_pre);
    return composite_gauss(integrand, x - width, x + width, 6);
  };
  const auto kl_given = [&](double x) {
    // Tweedie: E[X_{t-1} | X_t = x] = (x + beta s_t(x)) / sqrt(alpha); sd <= sqrt(beta / alpha) and <= ~1 here.
    const double centre = (x + beta * score(x)) / std::sqrt(alpha);
    const double width = 12.0 * std::sqrt(std::fmin(beta / alpha, 1.0));
    const auto integrand = [&](double z) {
      const double p = true_kernel(z, x);
      return p > 0.0 ? p * std::log(p / sampler_kernel(z, x)) : 0.0;
    };
    return composite_gauss(integrand, centre - width, centre + width, 12);
  };
  return composite_gauss([&](double x) { return density(level, x) * kl_given(x); }, -9.0, 9.0, 12);
}

TEST(KernelKl, OneMixtureStepMatchesNestedAdaptiveQuadrature) {
  const auto target = test_support::theory_mixture_1d();
  const TimeGrid grid = theory_grid(20);  // large steps: beta up to c1 log T / T = 0.9
  const ExactScore score(*target);
  for (const std::string name : {"ddpm", "acc_sde_a"}) {
    const auto sampler = sampler_registry().make(name, {});
    const EstimationProblem problem{*sampler, grid, *target, score, run_with_threads(1)};
    const std::vector<double> terms = KernelKlEstimator().step_terms(problem, 24);
    const std::vector<double> half = KernelKlEstimator().step_terms(problem, 12);
    for (const int t : {4, 12, 20}) {
      const StochasticScoreStep step = *sampler->stochastic_score_step(StepContext{grid, t, t == 2, grid.steps() - 1});
      const double reference = nested_quadrature_step(*target, grid, t, step);
      const auto i = static_cast<std::size_t>(t - 2);
      EXPECT_GT(reference, 0.0);
      // Within the estimator's own error measure (the half-rule difference, its floor per step). At
      // moderate beta the kernel is bimodal over a band of x and Gauss-Hermite converges slowly
      // (t = 4: ~1e-2 relative at 24 points); at large beta it is converged to ~1e-15.
      EXPECT_NEAR(terms[i], reference, std::fabs(terms[i] - half[i]) + 1e-9 * reference) << name << " t = " << t;
      if (t >= 12) {
        EXPECT_NEAR(terms[i], reference, 1e-8 * reference) << name << " t = " << t;
      }
    }
  }
}

TEST(KernelKl, BoundsTheOutputKlWithExactInitialisation) {
  const TimeGrid grid = theory_grid(32);
  const auto gaussian_target = gaussian({1.5}, 0.25);
  const auto mixture = test_support::theory_mixture_1d();
  const estimators::GaussianLawEstimator gaussian_law;
  const estimators::GridLawEstimator grid_law;
  // KL(p_{X_1} || p_{Y_1}) by an exact output-law estimator, against the kernel-KL sum.
  const auto check = [&](const Sampler& sampler, const Target& target, const Estimator& output_law) {
    const ExactScore score(target);
    double kl_target_output = -1.0;
    for (const Estimate& e : output_law.estimate(EstimationProblem{sampler, grid, target, score, run_with_threads(1)}))
      if (e.metric == "kl_target_output") kl_target_output = e.value;
    EXPECT_GT(kl_target_output, 0.0);
    EXPECT_GE(kernel_kl(sampler, grid, target).value, kl_target_output) << sampler.name() << " " << output_law.name();
  };
  for (const std::string name : {"ddpm", "acc_sde_a", "acc_sde_b"}) {
    const auto sampler = sampler_registry().make(name, {});
    check(*sampler, *gaussian_target, gaussian_law);
    check(*sampler, *mixture, grid_law);
  }
}

TEST(KernelKl, FloorBoundsTheErrorAgainstAFinerRuleAndThreadsDoNotChangeBits) {
  const TimeGrid grid = theory_grid(24);
  const auto mixture = test_support::theory_mixture_1d();
  for (const std::string name : {"ddpm", "acc_sde_a"}) {
    const auto sampler = sampler_registry().make(name, {});
    const Estimate coarse = kernel_kl(*sampler, grid, *mixture, KernelKlOptions{8, 2});
    const Estimate fine = kernel_kl(*sampler, grid, *mixture, KernelKlOptions{40, 2});
    EXPECT_GT(coarse.floor, 0.0);
    EXPECT_LE(std::fabs(coarse.value - fine.value), coarse.floor) << name;
    const Estimate two_threads = kernel_kl(*sampler, grid, *mixture, KernelKlOptions{8, 2}, 2);
    EXPECT_EQ(std::memcmp(&two_threads.value, &coarse.value, sizeof(double)), 0) << name;
    EXPECT_EQ(std::memcmp(&two_threads.floor, &coarse.floor, sizeof(double)), 0) << name;
  }
}

TEST(KernelKl, UnsupportedProblemsSayWhy) {
  const TimeGrid grid = theory_grid(32);
  const auto mixture = test_support::theory_mixture_1d();
  const ExactScore mixture_score(*mixture);
  const KernelKlEstimator estimator;
  const auto reason = [&](const Sampler& sampler, const Target& target, const ScoreModel& score) {
    return estimator.unsupported_reason(EstimationProblem{sampler, grid, target, score, run_with_threads(1)});
  };
  const auto ddim = sampler_registry().make("ddim", {});
  ASSERT_TRUE(reason(*ddim, *mixture, mixture_score).has_value());
  EXPECT_NE(reason(*ddim, *mixture, mixture_score)->find("no one-step kernel"), std::string::npos);
  const auto acc_c = sampler_registry().make("acc_sde_c", {});  // no noise at its step t = 1 (to Y_0)
  RunOptions to_zero = run_with_threads(1);
  to_zero.stop_index = 0;
  const auto reason_c = estimator.unsupported_reason(EstimationProblem{*acc_c, grid, *mixture, mixture_score, to_zero});
  ASSERT_TRUE(reason_c.has_value());
  EXPECT_NE(reason_c->find("point mass"), std::string::npos);
  EXPECT_FALSE(reason(*acc_c, *mixture, mixture_score).has_value());
  const auto uniform = target_registry().make("uniform_box", {{"dim", 1}, {"half_width", 1.0}});
  const ExactScore uniform_score(*uniform);
  const auto ddpm = sampler_registry().make("ddpm", {});
  ASSERT_TRUE(reason(*ddpm, *uniform, uniform_score).has_value());
  EXPECT_NE(reason(*ddpm, *uniform, uniform_score)->find("Gaussian-mixture target"), std::string::npos);
  const auto mixture_3d = target_registry().make(
      "gaussian_mixture", {{"weights", std::vector<double>{0.5, 0.5}},
                           {"means", ParamValue::List{std::vector<double>{1, 0, 0}, std::vector<double>{-1, 0, 0}}},
                           {"variance", std::vector<double>{0.5, 0.5}}});
  const ExactScore score_3d(*mixture_3d);
  ASSERT_TRUE(reason(*ddpm, *mixture_3d, score_3d).has_value());
  EXPECT_NE(reason(*ddpm, *mixture_3d, score_3d)->find("max_dim"), std::string::npos);
  EXPECT_FALSE(reason(*ddpm, *mixture, mixture_score).has_value());
}

}  // namespace
}  // namespace dmconv
