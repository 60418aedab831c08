// song_pc (Song et al., ICLR 2021: PC sampling, VP Langevin corrector of Algorithm 5).
//
// With the fixed corrector step (corrector_step = eps0) every predictor and corrector step on
// a Gaussian target N(m, v I) with the exact score s_a(x) = -(x - sqrt(a) m)/V_a,
// V_a = a v + 1 - a, is affine in Y plus Gaussian noise; the output law is the long-double
// recursion below (docs/theory.md §4.1 and §4.2b formulas), checked within 5 SE. The SNR step rule
// makes the step non-affine (eps depends on |z| and |s|); it is checked value by value
// against a hand computation of Algorithm 5.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "samplers/isotropic_gaussian_moments.hpp"
#include "core/run_sampler.hpp"
#include "samplers/registry.hpp"
#include "core/schedule.hpp"
#include "estimators/gaussian_law.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

using test_support::expect_moments;
using Law = test_support::IsotropicGaussianLaw;
using Real = test_support::Real;

const std::vector<double> kMean{1.5, -0.5};
constexpr double kVariance = 0.3;

std::unique_ptr<Target> gaussian() { return target_registry().make("gaussian", {{"mean", kMean}, {"variance", kVariance}}); }
Real V(const TimeGrid& grid, int t) { return Real(grid.abar(t)) * kVariance + Real(grid.one_minus_abar(t)); }

TimeGrid song_grid(int steps) {
  return schedule_registry().make("logsnr_uniform", {{"first_one_minus_abar", 1e-3}, {"last_abar", 1e-2}})->grid(steps);
}

// y -> P y + Q s_t(y) + N(0, q)
void score_step(const TimeGrid& grid, int t, Real P, Real Q, Real q, Law& law) {
  const Real v = V(grid, t), root = std::sqrt(Real(grid.abar(t)));
  for (std::size_t i = 0; i < law.mean.size(); ++i) law.mean[i] = (P - Q / v) * law.mean[i] + Q * root * kMean[i] / v;
  law.variance = (P - Q / v) * (P - Q / v) * law.variance + q;
}

Law song_reference(const TimeGrid& grid, const std::string& predictor, int M, Real eps, int stop) {
  const int T = grid.steps();
  Law law{{}, V(grid, T)};  // exact marginal initialisation
  for (double m : kMean) law.mean.push_back(std::sqrt(Real(grid.abar(T))) * m);
  for (int t = T; t > stop; --t) {
    const Real beta = grid.beta(t), alpha = 1 - beta;
    if (predictor == "ddim") {
      const Real oma = grid.one_minus_abar(t), oma1 = grid.one_minus_abar(t - 1);
      score_step(grid, t, 1 / std::sqrt(alpha), std::sqrt(oma) * (std::sqrt(oma) / std::sqrt(alpha) - std::sqrt(oma1)), 0, law);
    } else if (predictor == "reverse_diffusion") {
      score_step(grid, t, 2 - std::sqrt(alpha), beta, t > 1 ? beta : 0, law);
    } else {
      const Real q = predictor == "ddpm" ? beta / alpha : (t > 1 ? beta : 0);
      score_step(grid, t, 1 / std::sqrt(alpha), beta / std::sqrt(alpha), q, law);
    }
    for (int j = 0; j < M; ++j) score_step(grid, t - 1, 1, eps, 2 * eps, law);
  }
  return law;
}

RunOptions run_options(Eigen::Index particles, int threads = 2, Eigen::Index block = 512) {
  RunOptions o;
  o.seed = 23;
  o.particles = particles;
  o.threads = threads;
  o.block_size = block;
  return o;
}


TEST(SongPc, FixedStepMonteCarloMomentsMatchTheExactGaussianRecursion) {
  const auto target = gaussian();
  const ExactScore score(*target);
  const TimeGrid grid = song_grid(12);
  for (const std::string predictor : {"ddpm", "ddpm_noise_outside", "ddim", "reverse_diffusion"}) {
    const auto sampler = sampler_registry().make(
        "song_pc", {{"predictor", predictor}, {"corrector_steps", 2}, {"corrector_step", 0.05}});
    const RunResult result = run_sampler(*sampler, grid, score, *target, run_options(100000));
    ASSERT_EQ(result.status, RunStatus::kOk);
    const Law law = song_reference(grid, predictor, 2, 0.05L, 1);
    expect_moments(result.samples, law, predictor);
    // The corrector matters at this resolution: without it the law is visibly different.
    const Law plain = song_reference(grid, predictor, 0, 0, 1);
    EXPECT_GT(std::fabs(static_cast<double>(plain.variance - law.variance)), 0.02) << predictor;
    EXPECT_EQ(result.nfe_per_particle, 3.0 * 11.0) << predictor;
  }
}

// Algorithm 5 by hand, per particle: eps_j = 2 alpha_t (r |z_j| / |g_j|)^2 with g = s_{t-1}(Y).
TEST(SongPc, SnrStepRuleIsAlgorithm5PerParticle) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = song_grid(12);
  const Eigen::Index d = 2, n = 7;
  const RandomStreams streams(9, 0);
  const double r = 0.3;
  const auto sampler =
      sampler_registry().make("song_pc", {{"predictor", "ddpm"}, {"corrector_steps", 2}, {"snr", r}});
  for (int t : {12, 5, 1}) {
    Matrix x(d, n);
    streams.fill_normals(0, StreamTag(StreamPurpose::kTest, 1), x);
    std::vector<Matrix> noise(3, Matrix(d, n));
    for (std::size_t k = 0; k < 3; ++k) streams.fill_normals(0, StreamTag(StreamPurpose::kTest, 2, k), noise[k]);
    Matrix y = x;
    SamplerState state;
    sampler->step(StepContext{grid, t, t == 1, 12}, score, noise, y, state);
    // Hand computation.
    const double beta = grid.beta(t), alpha = 1 - beta;
    Matrix s(d, n), expected(d, n);
    score.evaluate(grid.level(t), x, s);
    expected = (x + beta * s + std::sqrt(beta) * noise[0]) / std::sqrt(alpha);
    std::vector<double> first_eps;
    for (int j = 1; j <= 2; ++j) {
      Matrix g(d, n);
      score.evaluate(grid.level(t - 1), expected, g);
      for (Eigen::Index i = 0; i < n; ++i) {
        const double ratio = r * noise[static_cast<std::size_t>(j)].col(i).norm() / g.col(i).norm();
        const double eps = 2 * alpha * ratio * ratio;
        if (j == 1) first_eps.push_back(eps);
        // |sqrt(2 eps) z| / |eps g| = 1 / (r sqrt(alpha)): the signal-to-noise rule.
        EXPECT_NEAR(std::sqrt(2 * eps) * noise[static_cast<std::size_t>(j)].col(i).norm() / (eps * g.col(i).norm()),
                    1 / (r * std::sqrt(alpha)), 1e-12);
        expected.col(i) += eps * g.col(i) + std::sqrt(2 * eps) * noise[static_cast<std::size_t>(j)].col(i);
      }
    }
    EXPECT_LT((y - expected).cwiseAbs().maxCoeff(), 1e-12 * (1 + expected.cwiseAbs().maxCoeff())) << "t=" << t;
    // Per-particle step sizes really differ (no batch averaging).
    EXPECT_GT(*std::max_element(first_eps.begin(), first_eps.end()) /
                  *std::min_element(first_eps.begin(), first_eps.end()),
              1.5)
        << "t=" << t;
  }
}

// corrector_steps = 0: bitwise the predictor alone (same streams, same NFE).
TEST(SongPc, NoCorrectorIsThePredictorBitwise) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = song_grid(16);
  for (const std::string predictor : {"ddpm", "ddpm_noise_outside", "ddim", "reverse_diffusion"}) {
    const auto pc = sampler_registry().make("song_pc", {{"predictor", predictor}, {"corrector_steps", 0}});
    const auto plain = sampler_registry().make(predictor, {});
    EXPECT_EQ(pc->noise_injections(), plain->noise_injections()) << predictor;
    for (int stop : {1, 0}) {
      RunOptions o = run_options(300);
      o.stop_index = stop;
      const RunResult a = run_sampler(*pc, grid, score, *target, o);
      const RunResult b = run_sampler(*plain, grid, score, *target, o);
      EXPECT_TRUE(a.samples == b.samples) << predictor << " stop " << stop;
      EXPECT_EQ(a.nfe_per_particle, b.nfe_per_particle) << predictor;
    }
  }
}

TEST(SongPc, SkipFinalCorrector) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = song_grid(16);
  const auto skip = sampler_registry().make(
      "song_pc", {{"predictor", "ddpm"}, {"corrector_steps", 2}, {"skip_final_corrector", 1}});
  const auto keep = sampler_registry().make("song_pc", {{"predictor", "ddpm"}, {"corrector_steps", 2}});
  const auto ddpm = sampler_registry().make("ddpm", {});
  const StepContext last{grid, 2, true, 15}, middle{grid, 3, false, 15};
  EXPECT_EQ(skip->noise_injections_at(last), 1);
  EXPECT_EQ(skip->score_evaluations_at(last), 1);
  EXPECT_EQ(skip->noise_injections_at(middle), 3);
  EXPECT_EQ(keep->noise_injections_at(last), 3);
  Matrix x(2, 20);
  RandomStreams(1, 0).fill_normals(0, StreamTag(StreamPurpose::kTest, 3), x);
  const std::vector<Matrix> noise{x.reverse(), x.cwiseAbs(), x * 0.5};
  auto step = [&](const Sampler& sampler, const StepContext& context) {
    Matrix y = x;
    SamplerState state;
    sampler.step(context, score, noise, y, state);
    return y;
  };
  EXPECT_TRUE(step(*skip, last) == step(*ddpm, last));
  EXPECT_FALSE(step(*keep, last) == step(*ddpm, last));
  EXPECT_TRUE(step(*skip, middle) == step(*keep, middle));
  const RunResult run = run_sampler(*skip, grid, score, *target, run_options(100));
  EXPECT_EQ(run.nfe_per_particle, 3.0 * 14.0 + 1.0);
}

TEST(SongPc, OutputIsBitwiseIndependentOfThreadsAndBlockSize) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = song_grid(10);
  const auto sampler = sampler_registry().make("song_pc", {{"predictor", "ddpm_noise_outside"}, {"corrector_steps", 3}});
  const RunResult reference = run_sampler(*sampler, grid, score, *target, run_options(300, 1, 512));
  for (int threads : {1, 2})
    for (Eigen::Index block : {1, 7, 512}) {
      const RunResult r = run_sampler(*sampler, grid, score, *target, run_options(300, threads, block));
      EXPECT_TRUE(r.samples == reference.samples) << threads << " " << block;
    }
}

// The SNR rule is not affine: exact Gaussian law propagation must refuse it (it would probe
// with zero noise and return garbage); the fixed step is affine and matches the recursion.
TEST(SongPc, GaussianLawOnlyForAffineSteps) {
  const auto target = gaussian();
  const ExactScore score(*target);
  const TimeGrid grid = song_grid(12);
  const auto snr = sampler_registry().make("song_pc", {{"predictor", "ddpm"}, {"corrector_steps", 2}});
  EXPECT_FALSE(snr->is_affine_for_affine_score());
  const EstimationProblem problem{*snr, grid, *target, score, RunOptions{}};
  const auto reason = estimators::GaussianLawEstimator().unsupported_reason(problem);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("not affine"), std::string::npos) << *reason;
  const auto fixed = sampler_registry().make(
      "song_pc", {{"predictor", "ddpm"}, {"corrector_steps", 2}, {"corrector_step", 0.05}});
  EXPECT_TRUE(fixed->is_affine_for_affine_score());
  const Law law = song_reference(grid, "ddpm", 2, 0.05L, 1);
  Vector m(2);
  for (Eigen::Index i = 0; i < 2; ++i) m(i) = std::sqrt(grid.abar(12)) * kMean[static_cast<std::size_t>(i)];
  const GaussianLaw out = estimators::propagate_gaussian_law(
      *fixed, grid, score, GaussianLaw{m, static_cast<double>(V(grid, 12)) * Matrix::Identity(2, 2)}, 12, 1);
  for (Eigen::Index i = 0; i < 2; ++i) {
    EXPECT_NEAR(out.mean(i), static_cast<double>(law.mean[static_cast<std::size_t>(i)]), 1e-12);
    EXPECT_NEAR(out.covariance(i, i), static_cast<double>(law.variance), 1e-12);
  }
}

TEST(SongPc, ParameterErrorsNameKeyValueAndRule) {
  const auto message = [](const ParamTable& p) {
    try {
      sampler_registry().make("song_pc", p);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto expect_has = [](const std::string& text, std::initializer_list<const char*> parts) {
    for (const char* part : parts) EXPECT_NE(text.find(part), std::string::npos) << text << " lacks " << part;
  };
  expect_has(message({{"predictor", "euler"}}), {"song_pc", "predictor = \"euler\"", "ddpm", "ddim"});
  expect_has(message({{"corrector_steps", -1}}), {"corrector_steps = -1", "[0, 65535]"});
  expect_has(message({{"corrector_steps", 1.5}}), {"corrector_steps = 1.5", "integer"});
  expect_has(message({{"snr", 0.0}}), {"snr = 0", "> 0"});
  expect_has(message({{"corrector_step", -0.1}}), {"corrector_step = -0.1", ">= 0"});
  expect_has(message({{"skip_final_corrector", 2}}), {"skip_final_corrector = 2", "[0, 1]"});
  expect_has(message({{"steps", 2}}), {"unknown key", "corrector_steps", "snr", "predictor"});
  EXPECT_EQ(message({}), "no error");
}

}  // namespace
}  // namespace dmconv
