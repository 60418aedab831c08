// Conformance of the step descriptions (Sampler::linear_score_step, stochastic_score_step)
// with Sampler::step, over the whole sampler registry.
//
// Estimators propagate laws through these descriptions instead of calling step(), so a
// description that disagrees with the step would silently corrupt exact results. On a
// Gaussian target the step is affine, Y_{t-1} = A Y_t + b + sum_k N_k Z_k (docs/theory.md §6.1),
// and a description (a, c[, pre, post]) predicts
//   A = a I + c J,  b = c c0,                     (s(x) = J x + c0, docs/theory.md §8.1)
//   sum_k N_k N_k^T = pre (a I + c J)(a I + c J)^T + post I.
// (The noise covariance is compared rather than the N_k, since a description does not say
// which injection is which.) The probed maps come from step(); tolerance 1e-13 normwise
// relative (a few roundings of O(1) quantities; the two sides may group the arithmetic
// differently, e.g. (x + beta/2 s)/sqrt(alpha) against a x + c s).
#include <gtest/gtest.h>

#include "samplers/gaussian_affine_reference.hpp"
#include "samplers/registry.hpp"
#include "schedules/logsnr_uniform_schedule.hpp"
#include "schedules/theory_schedule.hpp"
#include "targets/gaussian.hpp"

namespace dmconv::test {
namespace {

std::vector<std::string> registered_samplers() {
  std::vector<std::string> names;
  for (const auto& entry : sampler_registry().entries()) names.push_back(entry.name);
  return names;
}

class SamplerStepDescription : public ::testing::TestWithParam<std::string> {};

TEST_P(SamplerStepDescription, DescriptionReproducesTheStep) {
  const auto sampler = sampler_registry().make_example(GetParam());
  const Vector mu{{1.0, -0.5, 2.0}};
  const Matrix sigma = (Matrix(3, 3) << 0.50, 0.20, -0.10, 0.20, 0.30, 0.05, -0.10, 0.05, 0.08).finished();
  const GaussianTarget target(GaussianComponent::full(mu, sigma, "test"));
  const ExactScore score(target);
  const std::vector<std::pair<std::string, TimeGrid>> grids{{"theory T=64", TheorySchedule(2.0, 6.0).grid(64)},
                                                            {"logsnr T=40", LogSnrUniformSchedule(1e-4, 1e-6).grid(40)}};
  int described = 0;
  for (const auto& [label, grid] : grids) {
    const GaussianClosedForms closed(grid, mu, sigma);
    for (int t : {grid.steps(), grid.steps() / 2, 2, 1}) {
      const StepContext context{grid, t, t <= 2, t == 1 ? grid.steps() : grid.steps() - 1};
      const auto linear = sampler->linear_score_step(context);
      const auto stochastic = sampler->stochastic_score_step(context);
      ASSERT_FALSE(linear && stochastic) << "a step has at most one description";
      if (!linear && !stochastic) continue;
      ++described;
      const std::string where = label + " t=" + std::to_string(t);
      const double a = linear ? linear->state_coefficient : stochastic->state_coefficient;
      const double c = linear ? linear->score_coefficient : stochastic->score_coefficient;
      const AffineScore s = closed.score(t);
      const RMatrix M = Real(a) * closed.identity() + Real(c) * s.J;
      const ProbedStep probed = probe_plain_step(*sampler, score, grid, t);
      EXPECT_LE(relative_error(probed.A, M), 1e-13) << where;
      EXPECT_LE(relative_error(probed.b, RMatrix(Real(c) * s.c)), 1e-13) << where;
      RMatrix covariance = RMatrix::Zero(3, 3);
      for (const Matrix& n : probed.N) covariance += to_real(n) * to_real(n).transpose();
      if (linear) {
        EXPECT_TRUE(sampler->is_deterministic()) << "a linear description is deterministic";
        EXPECT_TRUE(probed.N.empty()) << where;
      } else {
        EXPECT_FALSE(sampler->is_deterministic()) << "a stochastic description needs noise";
        EXPECT_GE(stochastic->pre_noise_variance, 0.0);
        EXPECT_GE(stochastic->post_noise_variance, 0.0);
        const RMatrix expected = Real(stochastic->pre_noise_variance) * M * M.transpose() +
                                 Real(stochastic->post_noise_variance) * closed.identity();
        EXPECT_LE(relative_error(to_double(covariance), expected), 1e-13) << where;
      }
    }
  }
  RecordProperty("described_steps", described);
}

INSTANTIATE_TEST_SUITE_P(Registry, SamplerStepDescription, ::testing::ValuesIn(registered_samplers()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
}  // namespace dmconv::test
