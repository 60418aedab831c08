// Rao-Blackwellised TV / Hellinger (estimators/rao_blackwell.hpp) against exact values: DDPM on
// Gaussian targets (output law Gaussian, distances in closed form by gaussian_law) and on the
// docs/theory.md §6.3 mixture in d = 1 (grid law, exact to ~1e-9); jackknife SE coverage over replicates.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "core/schedule.hpp"
#include "estimators/gaussian_distances.hpp"
#include "estimators/gaussian_law.hpp"
#include "estimators/grid_law.hpp"
#include "estimators/rao_blackwell.hpp"
#include "samplers/registry.hpp"
#include "targets/registry.hpp"
#include "support/theory_targets.hpp"

namespace dmconv {
namespace {

struct StochasticCase {
  std::unique_ptr<Target> target;
  TimeGrid grid;
  std::unique_ptr<Sampler> sampler;
  ExactScore score;
  StochasticCase(std::unique_ptr<Target> t, const std::string& sampler_name, int steps)
      : target(std::move(t)),
        grid(schedule_registry().make("logsnr_uniform", {{"first_one_minus_abar", 1e-3}, {"last_abar", 1e-3}})->grid(steps)),
        sampler(sampler_registry().make(sampler_name, {})),
        score(*target) {}
  EstimationProblem problem(Eigen::Index n, std::uint64_t run = 0, int threads = 0) const {
    RunOptions options;
    options.particles = n;
    options.seed = 7;
    options.run = run;
    options.threads = threads;
    return EstimationProblem{*sampler, grid, *target, score, options};
  }
};

std::unique_ptr<Target> gaussian_2d() {
  return target_registry().make("gaussian", {{"mean", std::vector<double>{1.0, -0.5}},
                                             {"covariance", ParamValue::List{std::vector<double>{0.5, 0.2},
                                                                             std::vector<double>{0.2, 0.3}}}});
}

TEST(RaoBlackwell, RecoversTheClosedFormTvAndHellingerOfDdpmOnAGaussian) {
  for (const char* sampler : {"ddpm", "acc_sde_a"}) {
    const StochasticCase s(gaussian_2d(), sampler, 10);
    const EstimationProblem p = s.problem(8000);
    const GaussianLaw out = estimators::gaussian_output_law(p);
    const GaussianLaw tgt = estimators::gaussian_marginal(*s.target, s.grid.level(1));
    const double tv = gaussian_tv(tgt, out).value, hel = gaussian_hellinger(tgt, out).value;
    const auto e = estimators::RaoBlackwellTvEstimator().estimate(p);
    ASSERT_EQ(e.size(), 2u);
    std::printf("%s d=2 T=10 n=8000: TV exact %.5f rb %.5f se %.5f floor %.5f | H2 exact %.5f rb %.5f se %.5f floor %.5f\n",
                sampler, tv, e[0].value, e[0].std_error, e[0].floor, hel, e[1].value, e[1].std_error, e[1].floor);
    EXPECT_EQ(e[0].metric, "tv");
    EXPECT_EQ(e[1].metric, "hellinger");
    EXPECT_GT(tv, 10.0 * e[0].std_error);  // informative
    EXPECT_LE(std::fabs(e[0].value - tv), 4.0 * e[0].std_error + e[0].floor) << sampler;
    EXPECT_LE(std::fabs(e[1].value - hel), 4.0 * e[1].std_error + e[1].floor) << sampler;
  }
}

TEST(RaoBlackwell, AgreesWithTheGridLawOnTheMixtureInOneDimension) {
  const StochasticCase s(test_support::theory_mixture_1d(),
                "ddpm", 16);
  const EstimationProblem p = s.problem(10000);
  const auto grid = estimator_registry().make("grid_law", {})->estimate(p);
  double grid_tv = 0.0;
  for (const Estimate& g : grid)
    if (g.metric == "tv") grid_tv = g.value;
  const Estimate rb = estimators::RaoBlackwellTvEstimator().estimate(p)[0];
  std::printf("mixture d=1 ddpm T=16 n=10000: TV grid law %.6f rb %.6f se %.6f floor %.6f\n", grid_tv, rb.value,
              rb.std_error, rb.floor);
  EXPECT_GT(grid_tv, 10.0 * rb.std_error);
  EXPECT_LE(std::fabs(rb.value - grid_tv), 4.0 * rb.std_error + rb.floor);
}

TEST(RaoBlackwell, JackknifeIntervalsCoverTheExactTv) {
  const StochasticCase s(target_registry().make("gaussian", {{"mean", std::vector<double>{1.5}}, {"variance", 0.25}}), "ddpm", 8);
  const EstimationProblem p0 = s.problem(10);
  const double tv = gaussian_tv(estimators::gaussian_marginal(*s.target, s.grid.level(1)),
                                estimators::gaussian_output_law(p0))
                        .value;
  constexpr int kReplicates = 60;
  int covered = 0;
  double mean_se = 0.0, mean_floor = 0.0, mean_value = 0.0;
  for (int r = 0; r < kReplicates; ++r) {
    const Estimate e = estimators::RaoBlackwellTvEstimator().estimate(s.problem(2000, static_cast<std::uint64_t>(r)))[0];
    covered += std::fabs(e.value - tv) <= 1.96 * e.std_error + e.floor ? 1 : 0;
    mean_se += e.std_error / kReplicates;
    mean_floor += e.floor / kReplicates;
    mean_value += e.value / kReplicates;
  }
  std::printf("ddpm d=1 T=8 n=2000: TV exact %.5f mean rb %.5f mean se %.5f mean floor %.5f coverage %d/%d\n", tv,
              mean_value, mean_se, mean_floor, covered, kReplicates);
  EXPECT_GE(covered, 51);  // >= 85% of nominal-95% intervals (60 replicates)
  EXPECT_LE(std::fabs(mean_value - tv), 4.0 * mean_se / std::sqrt(kReplicates) + mean_floor);
}

TEST(RaoBlackwell, DeterministicForAnyThreadCount) {
  const StochasticCase s(gaussian_2d(), "ddpm", 6);
  const auto a = estimators::RaoBlackwellTvEstimator().estimate(s.problem(1500, 0, 1));
  const auto b = estimators::RaoBlackwellTvEstimator().estimate(s.problem(1500, 0, 2));
  EXPECT_EQ(a[0].value, b[0].value);
  EXPECT_EQ(a[1].std_error, b[1].std_error);
}

TEST(RaoBlackwell, RefusesDeterministicSamplersHighDimensionAndTooFewParticles) {
  const auto rb = estimator_registry().make("rao_blackwell", {});
  const StochasticCase ddim(gaussian_2d(), "ddim", 6);
  EXPECT_TRUE(rb->unsupported_reason(ddim.problem(100)).has_value());
  const StochasticCase ddpm(gaussian_2d(), "ddpm", 6);
  EXPECT_FALSE(rb->unsupported_reason(ddpm.problem(100)).has_value());
  EXPECT_TRUE(rb->unsupported_reason(ddpm.problem(20)).has_value());
  EXPECT_TRUE(estimator_registry().make("rao_blackwell", {{"max_dim", 1}})->unsupported_reason(ddpm.problem(100)).has_value());
  EXPECT_THROW(estimator_registry().make("rao_blackwell", {{"points", -1}}), InvalidArgument);
}

}  // namespace
}  // namespace dmconv
