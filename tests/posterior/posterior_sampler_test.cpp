// Tests of the posterior samplers (posterior/posterior_sampler.hpp) and of their estimators on the
// scalar Gaussian-linear problem of docs/theory.md §5.7, whose every law is known by hand:
//
//   prior N(m0, v), y = a x + N(0, s^2):  pi_eta = N(m_eta, v_eta) with
//     v_eta = 1 / (1/v + a^2 / (s^2 + a^2 eta^2)),  m_eta = v_eta (m0/v + a y / (s^2 + a^2 eta^2))
//   exact-Gibbs chain x_{k+1} = rho x_k + b + N(0, q):  rho = 1/((1 + eta^2/v)(1 + a^2 eta^2/s^2))
//
// The expected values below are these hand formulas, not the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/score_model.hpp"
#include "posterior/likelihood.hpp"
#include "posterior/posterior_estimator.hpp"
#include "posterior/posterior_sampler.hpp"
#include "posterior/samplers/dpnp.hpp"
#include "targets/registry.hpp"

namespace dmconv::posterior {
namespace {

constexpr double kM0 = 1.0, kV = 1.0, kA = 1.0, kS = 0.5, kY = 2.0;

double rho(double eta) { return 1.0 / ((1.0 + eta * eta / kV) * (1.0 + kA * kA * eta * eta / (kS * kS))); }
double stationary_variance(double eta) { return 1.0 / (1.0 / kV + kA * kA / (kS * kS + kA * kA * eta * eta)); }
double stationary_mean(double eta) {
  return stationary_variance(eta) * (kM0 / kV + kA * kY / (kS * kS + kA * kA * eta * eta));
}

struct ScalarProblem {
  std::unique_ptr<Target> prior =
      target_registry().make("gaussian", {{"mean", std::vector<double>{kM0}}, {"variance", kV}});
  ExactScore score{*prior};
  std::unique_ptr<Likelihood> likelihood = likelihood_registry().make(
      "linear_gaussian", ParamTable{{"dim", ParamValue(std::int64_t{1})},
                                    {"observations", ParamValue(std::int64_t{1})},
                                    {"matrix", ParamValue(std::string("identity"))},
                                    {"sigma_y", ParamValue(kS)}});
  Vector y = Vector::Constant(1, kY);
  PosteriorProblem problem() const { return {*prior, score, *likelihood, y}; }
};

std::unique_ptr<PosteriorSampler> gibbs(double eta) {
  return posterior_sampler_registry().make("dpnp_gibbs", ParamTable{{"eta_max", ParamValue(eta)}});
}

TEST(PosteriorSamplers, EveryRegisteredExampleBuildsAndRejectsUnknownKeys) {
  for (const auto& entry : posterior_sampler_registry().entries()) {
    SCOPED_TRACE(entry.name);
    EXPECT_EQ(posterior_sampler_registry().make_example(entry.name)->name(), entry.name);
    EXPECT_THROW(posterior_sampler_registry().make(entry.name, ParamTable{{"no_such_key", ParamValue(1.0)}}),
                 ParameterError);
  }
}

TEST(PosteriorSamplers, AnnealingScheduleIsConstantThenGeometric) {
  const auto sampler = posterior_sampler_registry().make(
      "dpnp_ddim", ParamTable{{"eta_max", ParamValue(0.4)}, {"eta_min", ParamValue(0.1)}, {"k_start", ParamValue(std::int64_t{2})}});
  const auto& dpnp = dynamic_cast<const DpnpSampler&>(*sampler);
  const std::vector<double> eta = dpnp.etas(5);  // 0.4, 0.4, then 3 values 0.4 -> 0.1 geometric
  ASSERT_EQ(eta.size(), 5u);
  EXPECT_DOUBLE_EQ(eta[0], 0.4);
  EXPECT_DOUBLE_EQ(eta[1], 0.4);
  EXPECT_NEAR(eta[2], 0.4, 1e-15);
  EXPECT_NEAR(eta[3], 0.2, 1e-15);  // sqrt(0.4 * 0.1)
  EXPECT_NEAR(eta[4], 0.1, 1e-15);
  EXPECT_FALSE(dpnp.stationary_eta().has_value());
  EXPECT_EQ(gibbs(0.3)->stationary_eta().value(), 0.3);
}

// The exact-Gibbs output law contracts to pi_eta at the rate rho(eta) of docs/theory.md §5.7 and has
// pi_eta as its fixed point.
TEST(PosteriorSamplers, GibbsLawContractsAtRhoToTheStationaryLaw) {
  const ScalarProblem p;
  for (const double eta : {0.25, 0.5, 1.0}) {
    SCOPED_TRACE(eta);
    const auto sampler = gibbs(eta);
    const double m = stationary_mean(eta);
    double previous = std::fabs(sampler->output_law(p.problem(), 1)->mean(0) - m);
    for (int k = 2; k <= 6; ++k) {
      const double error = std::fabs(sampler->output_law(p.problem(), k)->mean(0) - m);
      EXPECT_NEAR(error / previous, rho(eta), 1e-9 * rho(eta));
      previous = error;
    }
    const GaussianLaw limit = *sampler->output_law(p.problem(), 200);
    EXPECT_NEAR(limit.mean(0), m, 1e-12);
    EXPECT_NEAR(limit.covariance(0, 0), stationary_variance(eta), 1e-12);
  }
}

// Sampling agrees with the law: the exact-Gibbs draws after K = 3 iterations have the mean and
// variance of output_law within 5 standard errors.
TEST(PosteriorSamplers, GibbsDrawsFollowTheirExactLaw) {
  const ScalarProblem p;
  const auto sampler = gibbs(0.5);
  const PosteriorProblem problem = p.problem();
  const PosteriorEstimationProblem estimation{*sampler, problem, 3, nullptr, 7, 0, 200000, 2};
  bool finite = false;
  const Matrix x = posterior_output(estimation, finite);
  ASSERT_TRUE(finite);
  const GaussianLaw law = *sampler->output_law(problem, 3);
  const double n = static_cast<double>(x.cols());
  const double mean = x.mean(), variance = (x.array() - mean).square().sum() / (n - 1);
  const double v = law.covariance(0, 0);
  EXPECT_NEAR(mean, law.mean(0), 5.0 * std::sqrt(v / n));
  EXPECT_NEAR(variance, v, 5.0 * v * std::sqrt(2.0 / n));
}

// Every column is a pure function of its particle's streams: 1 and 2 threads, and a run of 3
// particles against the first 3 of 1000, agree bit for bit (DPnP with diffusion inner samplers).
TEST(PosteriorSamplers, OutputIsBitwiseIndependentOfThreadsAndBatch) {
  const ScalarProblem p;
  const auto sampler = posterior_sampler_registry().make(
      "dpnp_ddim", ParamTable{{"eta_max", ParamValue(0.5)}, {"dds_levels", ParamValue(std::int64_t{8})},
                              {"pcs_iterations", ParamValue(std::int64_t{10})}});
  const PosteriorProblem problem = p.problem();
  bool finite = false;
  const Matrix one = posterior_output({*sampler, problem, 2, nullptr, 3, 1, 1000, 1}, finite);
  const Matrix two = posterior_output({*sampler, problem, 2, nullptr, 3, 1, 1000, 2}, finite);
  const Matrix few = posterior_output({*sampler, problem, 2, nullptr, 3, 1, 3, 1}, finite);
  EXPECT_EQ((one - two).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((one.leftCols(3) - few).cwiseAbs().maxCoeff(), 0.0);
}

// A run's estimators share one draw: posterior_output fills the cache, serves a later call for the
// same particle count from it (a sentinel planted there comes back), and draws afresh for another count.
TEST(PosteriorSamplers, OutputCacheIsFilledReusedAndKeyedByParticles) {
  const ScalarProblem p;
  const auto sampler = gibbs(0.5);
  const PosteriorProblem problem = p.problem();
  PosteriorEstimationProblem estimation{*sampler, problem, 2, nullptr, 5, 0, 100, 1};
  bool finite = false;
  const Matrix uncached = posterior_output(estimation, finite);
  PosteriorOutputCache cache;
  estimation.output_cache = &cache;
  const Matrix first = posterior_output(estimation, finite);
  EXPECT_EQ((first - uncached).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(cache.particles, 100);
  cache.output = Matrix::Constant(1, 100, 42.0);
  EXPECT_EQ(posterior_output(estimation, finite)(0, 7), 42.0);
  estimation.particles = 50;
  const Matrix fewer = posterior_output(estimation, finite);
  EXPECT_EQ((fewer - uncached.leftCols(50)).cwiseAbs().maxCoeff(), 0.0);
}

// With exact scores, many DDS levels and a Metropolis-corrected PCS, DPnP's inner samplers are
// nearly exact, so its law after K iterations is close to the exact-Gibbs law (the chain's error
// separated from the inner samplers'): mean within 5 SE plus a small inner bias.
TEST(PosteriorSamplers, DiffusionDpnpApproachesTheExactGibbsChain) {
  const ScalarProblem p;
  const PosteriorProblem problem = p.problem();
  const auto dpnp = posterior_sampler_registry().make(
      "dpnp_ddim", ParamTable{{"eta_max", ParamValue(0.5)}, {"dds_levels", ParamValue(std::int64_t{200})},
                              {"pcs_iterations", ParamValue(std::int64_t{100})},
                              {"pcs_correction", ParamValue(std::string("metropolis"))},
                              {"pcs_step_scale", ParamValue(0.5)}});
  bool finite = false;
  const Matrix x = posterior_output({*dpnp, problem, 4, nullptr, 11, 0, 40000, 2}, finite);
  ASSERT_TRUE(finite);
  const GaussianLaw law = *gibbs(0.5)->output_law(problem, 4);
  const double n = static_cast<double>(x.cols());
  const double mean = x.mean(), variance = (x.array() - mean).square().sum() / (n - 1);
  const double v = law.covariance(0, 0);
  EXPECT_NEAR(mean, law.mean(0), 5.0 * std::sqrt(v / n) + 0.01);
  EXPECT_NEAR(variance, v, 5.0 * v * std::sqrt(2.0 / n) + 0.01);
}

// With the Gaussian prior's exact (affine) score and the unadjusted constant-step PCS every inner
// map is affine, so DPnP's output law is Gaussian and known (output_law): the draws of both orders
// have its mean and variance within 5 SE. The Metropolis and residual-step variants have no such law.
TEST(PosteriorSamplers, DiffusionDpnpExactLawIsTheLawOfItsDrawsInBothOrders) {
  const ScalarProblem p;
  const PosteriorProblem problem = p.problem();
  for (const char* name : {"dpnp_ddim", "dpnp_ddpm"}) {
    SCOPED_TRACE(name);
    const ParamTable params{{"eta_max", ParamValue(0.5)}, {"dds_levels", ParamValue(std::int64_t{6})},
                            {"pcs_iterations", ParamValue(std::int64_t{5})}, {"pcs_step_scale", ParamValue(0.8)}};
    const auto dpnp = posterior_sampler_registry().make(name, params);
    const std::optional<GaussianLaw> law = dpnp->output_law(problem, 3);
    ASSERT_TRUE(law.has_value());
    bool finite = false;
    const Matrix x = posterior_output({*dpnp, problem, 3, nullptr, 12, 0, 200000, 2}, finite);
    ASSERT_TRUE(finite);
    const double n = static_cast<double>(x.cols());
    const double mean = x.mean(), variance = (x.array() - mean).square().sum() / (n - 1);
    const double v = law->covariance(0, 0);
    EXPECT_NEAR(mean, law->mean(0), 5.0 * std::sqrt(v / n));
    EXPECT_NEAR(variance, v, 5.0 * v * std::sqrt(2.0 / n));
    // Few levels and iterations: the law is visibly not pi_eta (the test is not trivially passed by it).
    EXPECT_GT(std::fabs(law->covariance(0, 0) - stationary_variance(0.5)), 0.02);

    ParamTable metropolis = params;
    metropolis.set("pcs_correction", ParamValue(std::string("metropolis")));
    EXPECT_FALSE(posterior_sampler_registry().make(name, metropolis)->output_law(problem, 3).has_value());
    ParamTable residual = params;
    residual.set("pcs_step_rule", ParamValue(std::string("residual")));
    EXPECT_FALSE(posterior_sampler_registry().make(name, residual)->output_law(problem, 3).has_value());
  }
}

// The unadjusted chain's stationary law approaches pi_eta (hand formula) as the PCS step shrinks,
// its variance bias about halving with the step (order gamma), with DDS nearly exact (400 levels).
TEST(PosteriorSamplers, DiffusionDpnpStationaryBiasIsFirstOrderInThePcsStep) {
  const ScalarProblem p;
  const PosteriorProblem problem = p.problem();
  const double eta = 0.5;
  std::vector<double> bias;
  for (const double step : {0.2, 0.1, 0.05}) {
    const auto dpnp = posterior_sampler_registry().make(
        "dpnp_ddim", ParamTable{{"eta_max", ParamValue(eta)}, {"dds_levels", ParamValue(std::int64_t{400})},
                                {"pcs_iterations", ParamValue(std::int64_t{400})}, {"pcs_step_scale", ParamValue(step)}});
    const GaussianLaw law = *dpnp->output_law(problem, 40);
    bias.push_back(law.covariance(0, 0) - stationary_variance(eta));
    EXPECT_NEAR(law.mean(0), stationary_mean(eta), 0.02) << step;
  }
  EXPECT_GT(bias[0], 0.0);
  EXPECT_NEAR(bias[0] / bias[1], 2.0, 0.3);
  EXPECT_NEAR(bias[1] / bias[2], 2.0, 0.3);
}

// posterior_gaussian reports distances to pi_eta and pi; the distance of pi_eta itself to pi_eta is
// 0 and W2 to pi equals the hand formula sqrt((dm)^2 + (dsd)^2).
TEST(PosteriorEstimators, GaussianEstimatorMatchesHandFormulas) {
  const ScalarProblem p;
  const PosteriorProblem problem = p.problem();
  const auto stationary = posterior_sampler_registry().make("exact_stationary", ParamTable{{"eta", ParamValue(0.3)}});
  const auto estimator = posterior_estimator_registry().make_example("posterior_gaussian");
  const PosteriorEstimationProblem estimation{*stationary, problem, 1, nullptr, 1, 0, 10, 1};
  ASSERT_FALSE(estimator->unsupported_reason(estimation).has_value());
  const double dm = stationary_mean(0.3) - stationary_mean(0.0);
  const double dsd = std::sqrt(stationary_variance(0.3)) - std::sqrt(stationary_variance(0.0));
  int seen = 0;
  for (const Estimate& e : estimator->estimate(estimation)) {
    SCOPED_TRACE(e.metric);
    if (e.metric == "w2_to_pi_eta" || e.metric == "tv_to_pi_eta") {
      EXPECT_NEAR(e.value, 0.0, 1e-12);
      ++seen;
    }
    if (e.metric == "w2_to_pi") {
      EXPECT_NEAR(e.value, std::hypot(dm, dsd), 1e-12);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 3);
}

}  // namespace
}  // namespace dmconv::posterior

namespace dmconv::posterior {
namespace {

// The exact DDS law (dds_output_law, used by posterior_gaussian for claim 18) is the law of the
// DDS samplers' draws (means and variances within 5 SE), and tends to the denoising posterior
// N((v z + eta^2 m0)/(v + eta^2), v eta^2/(v + eta^2)) as the levels J grow, at first order.
TEST(PosteriorSamplers, DdsExactLawIsTheLawOfItsDrawsAndConvergesToTheDenoisingPosterior) {
  const auto prior = target_registry().make("gaussian", {{"mean", std::vector<double>{0.7}}, {"variance", 0.5}});
  const ExactScore score(*prior);
  const double eta = 0.4, z = 1.3;
  const auto likelihood = likelihood_registry().make(
      "linear_gaussian", ParamTable{{"dim", ParamValue(std::int64_t{1})}, {"matrix", ParamValue(std::string("identity"))},
                                    {"sigma_y", ParamValue(eta)}});
  const Vector y = Vector::Constant(1, z);
  const PosteriorProblem problem{*prior, score, *likelihood, y};
  const double post_mean = (0.5 * z + eta * eta * 0.7) / (0.5 + eta * eta);
  const double post_var = 0.5 * eta * eta / (0.5 + eta * eta);
  for (const std::string name : {"dds_ddpm", "dds_ddim"}) {
    SCOPED_TRACE(name);
    const auto sampler = posterior_sampler_registry().make_example(name);
    const GaussianLaw law = *sampler->output_law(problem, 8);
    bool finite = false;
    const Matrix x = posterior_output({*sampler, problem, 8, nullptr, 5, 0, 200000, 2}, finite);
    const double n = static_cast<double>(x.cols()), mean = x.mean();
    const double variance = (x.array() - mean).square().sum() / (n - 1), v = law.covariance(0, 0);
    EXPECT_NEAR(mean, law.mean(0), 5.0 * std::sqrt(v / n));
    EXPECT_NEAR(variance, v, 5.0 * v * std::sqrt(2.0 / n));
    const auto error = [&](int levels) {
      const GaussianLaw l = *sampler->output_law(problem, levels);
      return std::hypot(l.mean(0) - post_mean, std::sqrt(l.covariance(0, 0)) - std::sqrt(post_var));
    };
    EXPECT_LT(error(4096), 1e-3);
    const double ratio = error(1024) / error(2048);  // first order: -> 2 (DDIM: (log J)/J, slightly less)
    EXPECT_GT(ratio, 1.8);
    EXPECT_LT(ratio, 2.2);
  }
}

}  // namespace
}  // namespace dmconv::posterior

namespace dmconv::posterior {
namespace {

// posterior_grid_tv's floor includes the Gauss-Hermite error of pi_eta's smoothed likelihood when
// it has no closed form: a coarse rule on a peaked likelihood (phase retrieval at eta = 1) raises
// the floor, a closed-form likelihood (linear-Gaussian) leaves it independent of the rule.
TEST(PosteriorEstimators, GridTvFloorIncludesTheSmoothingQuadratureError) {
  const auto prior = target_registry().make(
      "gaussian_mixture", {{"weights", std::vector<double>{0.3, 0.7}},
                           {"means", ParamValue::List{std::vector<double>{-1.0}, std::vector<double>{1.2}}},
                           {"variance", std::vector<double>{0.09, 0.16}}});
  const ExactScore score(*prior);
  const auto sampler = posterior_sampler_registry().make(
      "dpnp_ddim", ParamTable{{"eta_max", ParamValue(1.0)}, {"dds_levels", ParamValue(std::int64_t{4})},
                              {"pcs_iterations", ParamValue(std::int64_t{2})}});
  const auto floor_of = [&](const Likelihood& likelihood, const Vector& y, std::int64_t hermite) {
    const PosteriorProblem problem{*prior, score, likelihood, y};
    const auto estimator = posterior_estimator_registry().make(
        "posterior_grid_tv", ParamTable{{"points", ParamValue(std::int64_t{128})}, {"hermite_points", ParamValue(hermite)}});
    for (const Estimate& e : estimator->estimate({*sampler, problem, 1, nullptr, 1, 0, 2000, 1}))
      if (e.metric == "tv_to_pi_eta") return e.floor;
    return -1.0;
  };
  const auto phase = likelihood_registry().make(
      "phase_retrieval", ParamTable{{"dim", ParamValue(std::int64_t{1})}, {"observations", ParamValue(std::int64_t{3})},
                                    {"sigma_y", ParamValue(0.3)}});
  const Vector y3 = (Vector(3) << 1.1, 0.4, 1.6).finished();
  EXPECT_GT(floor_of(*phase, y3, 4), floor_of(*phase, y3, 128) + 0.05);
  const auto linear = likelihood_registry().make(
      "linear_gaussian", ParamTable{{"dim", ParamValue(std::int64_t{1})}, {"matrix", ParamValue(std::string("identity"))},
                                    {"sigma_y", ParamValue(0.3)}});
  const Vector y1 = Vector::Constant(1, 0.5);
  EXPECT_EQ(floor_of(*linear, y1, 4), floor_of(*linear, y1, 128));
}

}  // namespace
}  // namespace dmconv::posterior
