// Change-of-variables densities for deterministic samplers: the flow-map TV against an
// independent computation (the quantile flow map of det1d.py), log-determinants
// against finite differences of the flow map for every deterministic sampler, agreement of the
// two Jacobian paths and of Monte Carlo with quadrature.
#include <gtest/gtest.h>

#include <cmath>

#include "core/schedule.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/flow_density.hpp"
#include "samplers/registry.hpp"
#include "targets/registry.hpp"
#include "support/theory_targets.hpp"

namespace dmconv {
namespace {

// docs/theory.md §6.3 mixture 0.3 N(-2, 0.25) + 0.7 N(1.5, 0.5).
std::unique_ptr<Target> theory_mixture() {
  return test_support::theory_mixture_1d();
}

TimeGrid theory_grid(int steps) { return schedule_registry().make("theory", {{"c0", 2.0}, {"c1", 6.0}})->grid(steps); }

Estimate estimate_metric(const Estimator& estimator, const std::string& sampler_name, const Target& target,
                         const TimeGrid& grid, Eigen::Index particles = 1000) {
  const auto sampler = sampler_registry().make(sampler_name, {});
  const ExactScore score(target);
  RunOptions run;
  run.particles = particles;
  run.seed = 3;
  const EstimationProblem problem{*sampler, grid, target, score, run};
  return estimator.estimate(problem).at(0);
}

// Reference: `python3 det1d.py mix 2 6 64 256` (quantile flow map, 1e5 midpoints,
// exact p_{X_T} init, output Y_1), printed to 4 digits, hence 2e-3 relative tolerance:
//   T=64:  ode25=5.046e-01 ddim=4.234e-02 accode=1.020e-02
//   T=256: ode25=1.855e-01 ddim=1.309e-02 accode=1.451e-03
TEST(ChangeOfVariables, FlowMapTvMatchesIndependentQuantileComputation) {
  const auto target = theory_mixture();
  const ChangeOfVariablesQuadrature quadrature(2048, 8);
  struct Case {
    int steps;
    const char* sampler;
    double reference;
  } cases[] = {{64, "ode_euler", 5.046e-01}, {64, "ddim", 4.234e-02},   {64, "acc_ode_noise", 1.020e-02},
               {256, "ode_euler", 1.855e-01}, {256, "ddim", 1.309e-02}, {256, "acc_ode_noise", 1.451e-03}};
  for (const Case& c : cases) {
    const Estimate tv = estimate_metric(quadrature, c.sampler, *target, theory_grid(c.steps));
    EXPECT_EQ(tv.metric, "tv");
    EXPECT_NEAR(tv.value, c.reference, 2e-3 * c.reference) << c.sampler << " T=" << c.steps;
    EXPECT_LT(tv.floor, 1e-4 * tv.value) << "quadrature not converged: " << c.sampler;
  }
}

TEST(ChangeOfVariables, MonteCarloAgreesWithQuadratureWithinFiveStandardErrors) {
  const auto target = theory_mixture();
  const TimeGrid grid = theory_grid(64);
  for (const char* name : {"ddim", "acc_ode_score", "dpm_solver_pp_2m"}) {
    const Estimate exact = estimate_metric(ChangeOfVariablesQuadrature(1024, 8), name, *target, grid);
    const Estimate mc = estimate_metric(ChangeOfVariablesEstimator(), name, *target, grid, 20000);
    EXPECT_EQ(mc.kind, EstimateKind::kUnbiasedMonteCarlo);
    EXPECT_GT(mc.std_error, 0.0);
    EXPECT_NEAR(mc.value, exact.value, 5.0 * mc.std_error) << name;
  }
}

// log|det dY/dY_T| of every deterministic sampler against central differences of the flow map
// itself (run through the ordinary run loop), on the 2-D example mixture with full covariances
// (dense Jacobians) and a 3-D isotropic mixture (determinant-lemma path).
class FlowLogDet : public ::testing::TestWithParam<std::string> {};

TEST_P(FlowLogDet, MatchesFiniteDifferencesOfTheFlowMap) {
  const auto sampler = sampler_registry().make(GetParam(), {});
  if (!sampler->is_deterministic()) GTEST_SKIP() << "stochastic sampler";
  std::vector<std::unique_ptr<Target>> targets;
  targets.push_back(target_registry().make_example("gaussian_mixture"));
  targets.push_back(target_registry().make(
      "gaussian_mixture", {{"weights", std::vector<double>{0.2, 0.5, 0.3}},
                           {"means", ParamValue::List{std::vector<double>{1.0, 0.0, -1.0},
                                                      std::vector<double>{-1.0, 1.0, 0.5},
                                                      std::vector<double>{0.0, -1.5, 1.0}}},
                           {"variance", std::vector<double>{0.3, 0.6, 0.2}}}));
  const TimeGrid grid = theory_grid(24);
  for (const auto& target : targets) {
    const ExactScore score(*target);
    const Eigen::Index d = target->dim();
    const RandomStreams streams(11, 0);
    const Matrix y_T = target->sample(grid.level(grid.steps()), streams, 0, 5, StreamTag(StreamPurpose::kTest, 1));
    const FlowOutput flow = push_forward_with_log_det(*sampler, grid, score, y_T, 1);
    const double h = 1e-5;
    for (Eigen::Index j = 0; j < y_T.cols(); ++j) {
      Matrix jacobian(d, d);
      for (Eigen::Index i = 0; i < d; ++i) {
        Matrix plus = y_T.col(j), minus = y_T.col(j);
        plus(i, 0) += h;
        minus(i, 0) -= h;
        run_block(*sampler, grid, score, streams, 0, grid.steps(), 1, plus);
        run_block(*sampler, grid, score, streams, 0, grid.steps(), 1, minus);
        jacobian.col(i) = (plus - minus) / (2.0 * h);
      }
      const double finite_difference = std::log(std::fabs(jacobian.determinant()));
      EXPECT_NEAR(flow.log_abs_det(j), finite_difference, 1e-6) << GetParam() << " d=" << d << " particle " << j;
      Matrix primal = y_T.col(j);
      run_block(*sampler, grid, score, streams, 0, grid.steps(), 1, primal);
      EXPECT_EQ((flow.y.col(j) - primal).cwiseAbs().maxCoeff(), 0.0) << "the flow must be the sampler itself";
    }
  }
}

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const auto& entry : sampler_registry().entries()) names.push_back(entry.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(EverySampler, FlowLogDet, ::testing::ValuesIn(sampler_names()),
                         [](const auto& param_info) { return param_info.param; });

// The determinant-lemma path (isotropic mixture) and the generic tangent path agree.
TEST(ChangeOfVariables, DeterminantLemmaAndTangentPathsAgree) {
  const auto target = target_registry().make(
      "gaussian_mixture", {{"weights", std::vector<double>{0.6, 0.4}},
                           {"means", ParamValue::List{std::vector<double>{1.0, 0.0, -1.0, 2.0},
                                                      std::vector<double>{-1.0, 1.0, 0.5, 0.0}}},
                           {"variances", ParamValue::List{std::vector<double>{0.3, 0.5, 0.2, 0.4},
                                                          std::vector<double>{0.6, 0.1, 0.3, 0.2}}}});
  const TimeGrid grid = theory_grid(40);
  const ExactScore score(*target);
  const Matrix y_T = target->sample(grid.level(grid.steps()), RandomStreams(2, 0), 0, 50,
                                    StreamTag(StreamPurpose::kTest, 2));
  for (const char* name : {"ddim", "ode_euler"}) {
    const auto sampler = sampler_registry().make(name, {});
    const FlowOutput lemma = push_forward_with_log_det(*sampler, grid, score, y_T, 1);
    const FlowOutput tangent = push_forward_with_log_det(*sampler, grid, score, y_T, 1, 0, 256, FlowJacobianMethod::kTangent);
    EXPECT_LT((lemma.log_abs_det - tangent.log_abs_det).cwiseAbs().maxCoeff(), 1e-11) << name;
  }
}

TEST(ChangeOfVariables, RejectsStochasticSamplers) {
  const auto target = theory_mixture();
  const auto sampler = sampler_registry().make("ddpm", {});
  const ExactScore score(*target);
  const TimeGrid grid = theory_grid(32);
  const EstimationProblem problem{*sampler, grid, *target, score, RunOptions{}};
  const auto reason = ChangeOfVariablesEstimator().unsupported_reason(problem);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("stochastic"), std::string::npos);
}

}  // namespace
}  // namespace dmconv
