// pmm_pc (Pedrotti, Maas, Mondelli, arXiv 2305.14164; docs/theory.md §4.6).
//
// On a Gaussian target N(m, v I) with the exact score s_a(x) = -(x - sqrt(a) m) / V_a,
// V_a = a v + 1 - a, every ULA iteration and every DDIM / DPM-Solver-2 step is affine in Y
// plus Gaussian noise, so from Y_T ~ N(0, I) the output law is N(mu, sigma^2 I) with the
// recursion written below in long double, from the docs/theory.md formulas (DDIM in its score form
// §4.2b third line; DPM-Solver-2 with e^h = sqrt(abar_{t-1}/abar_t) sigma_t / sigma_{t-1}),
// independently of the sampler code. Monte Carlo moments are checked within 5 SE.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "samplers/isotropic_gaussian_moments.hpp"
#include "core/run_sampler.hpp"
#include "samplers/pmm_pc.hpp"
#include "samplers/registry.hpp"
#include "core/schedule.hpp"
#include "estimators/gaussian_law.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

using test_support::expect_moments;
using Law = test_support::IsotropicGaussianLaw;
using Real = test_support::Real;

// Per-coordinate Gaussian law N(mean_i, variance).
struct GaussianCase {
  std::vector<double> m{2.0, -1.0};
  double v = 0.25;
  std::unique_ptr<Target> target() const {
    return target_registry().make("gaussian", {{"mean", m}, {"variance", v}});
  }
  Real V(Real a, Real one_minus_a) const { return a * v + one_minus_a; }
};

TimeGrid pmm_grid(double T1, int steps) {
  return schedule_registry()
      .make("logsnr_uniform", {{"first_one_minus_abar", 1e-3}, {"last_abar", std::exp(-2.0 * T1)}})
      ->grid(steps);
}

// Affine map y -> A y + b_i (+ noise of variance q) applied to the law.
void apply(Law& law, Real A, const std::vector<Real>& b, Real q) {
  for (std::size_t i = 0; i < law.mean.size(); ++i) law.mean[i] = A * law.mean[i] + b[i];
  law.variance = A * A * law.variance + q;
}

// K ULA iterations at level a with the exact score.
void ula(const GaussianCase& g, Real a, Real one_minus_a, Real gamma, long K, Law& law) {
  const Real V = g.V(a, one_minus_a);
  std::vector<Real> b;
  for (double mi : g.m) b.push_back(gamma * std::sqrt(a) * mi / V);
  for (long k = 0; k < K; ++k) apply(law, 1 - gamma / V, b, 2 * gamma);
}

// s_t(y) = J y + c_i with J = -1/V, c_i = sqrt(a) m_i / V; y' = P y + Q s(y).
void affine_score_step(const GaussianCase& g, Real a, Real one_minus_a, Real P, Real Q, Law& law) {
  const Real V = g.V(a, one_minus_a);
  std::vector<Real> b;
  for (double mi : g.m) b.push_back(Q * std::sqrt(a) * mi / V);
  apply(law, P - Q / V, b, 0);
}

void ddim_step(const GaussianCase& g, const TimeGrid& grid, int t, Law& law) {
  // §4.2b: Y/sqrt(alpha) + sigma_t (sigma_t/sqrt(alpha) - sigma_{t-1}) s_t(Y)
  const Real a = grid.abar(t), oma = grid.one_minus_abar(t), oma_prev = grid.one_minus_abar(t - 1);
  const Real sqrt_alpha = std::sqrt(Real(grid.abar(t)) / Real(grid.abar(t - 1)));
  const Real c = std::sqrt(oma) * (std::sqrt(oma) / sqrt_alpha - std::sqrt(oma_prev));
  affine_score_step(g, a, oma, 1 / sqrt_alpha, c, law);
}

void dpm2_step(const GaussianCase& g, const TimeGrid& grid, int t, Law& law) {
  const Real a = grid.abar(t), oma = grid.one_minus_abar(t);
  const Real a1 = grid.abar(t - 1), oma1 = grid.one_minus_abar(t - 1);
  const Real r = std::sqrt(a * a1 / (oma * oma1));  // e^{2 lambda_m}
  const Real am = r / (1 + r), omam = 1 / (1 + r);
  const Real eh = std::sqrt(a1 / a) * std::sqrt(oma) / std::sqrt(oma1);
  // U = P1 Y + Q1 s_t(Y) = u_A Y + u_b
  const Real P1 = std::sqrt(am / a), Q1 = std::sqrt(omam) * (std::sqrt(eh) - 1) * std::sqrt(oma);
  const Real V = g.V(a, oma), Vm = g.V(am, omam);
  const Real uA = P1 - Q1 / V;
  const Real Q2 = std::sqrt(oma1) * (eh - 1) * std::sqrt(omam);
  // Y' = sqrt(a1/a) Y + Q2 s_m(U),  s_m(U) = -(U - sqrt(am) m)/Vm
  std::vector<Real> b;
  for (double mi : g.m) {
    const Real ub = Q1 * std::sqrt(a) * mi / V;
    b.push_back(Q2 * (-(ub - std::sqrt(am) * mi) / Vm));
  }
  apply(law, std::sqrt(a1 / a) - Q2 * uA / Vm, b, 0);
}

Law pmm_reference(const GaussianCase& g, const TimeGrid& grid, Real gamma, long K, const std::string& integrator) {
  Law law{std::vector<Real>(g.m.size(), 0), 1};  // Y_T ~ N(0, I)
  const int T = grid.steps();
  ula(g, grid.abar(T), grid.one_minus_abar(T), gamma, K, law);
  for (int t = T; t >= 2; --t) {
    if (integrator == "ddim") ddim_step(g, grid, t, law);
    else dpm2_step(g, grid, t, law);
  }
  return law;
}

RunOptions standard_normal_run(Eigen::Index particles, int threads = 2, Eigen::Index block = 512) {
  RunOptions o;
  o.seed = 11;
  o.run = 2;
  o.particles = particles;
  o.initialisation = Initialisation::kStandardNormal;
  o.threads = threads;
  o.block_size = block;
  return o;
}


std::unique_ptr<Sampler> pmm(double T2, double gamma, const std::string& integrator, double M = 0.0) {
  return sampler_registry().make(
      "pmm_pc", {{"langevin_time", T2}, {"langevin_step", gamma}, {"integrator", integrator}, {"truncation", M}});
}

TEST(PmmPc, MonteCarloMomentsMatchTheExactGaussianRecursion) {
  const GaussianCase g;
  const auto target = g.target();
  const ExactScore score(*target);
  const TimeGrid grid = pmm_grid(0.75, 12);
  for (const std::string integrator : {"ddim", "dpm_solver_2"}) {
    const auto sampler = pmm(2.0, 0.1, integrator);  // K = 20
    const RunResult result = run_sampler(*sampler, grid, score, *target, standard_normal_run(100000));
    ASSERT_EQ(result.status, RunStatus::kOk);
    const Law law = pmm_reference(g, grid, 0.1L, 20, integrator);
    expect_moments(result.samples, law, integrator);
    // The reference is far from the plain-integrator law from N(0, I) (the corrector matters).
    const Law plain = pmm_reference(g, grid, 0.1L, 0, integrator);
    EXPECT_GT(std::fabs(static_cast<double>(plain.mean[0] - law.mean[0])), 0.05) << integrator;
    EXPECT_EQ(result.nfe_per_particle, 20.0 + (integrator == "ddim" ? 1.0 : 2.0) * 11.0) << integrator;
  }
}

// The exact Gaussian law propagation (estimators/gaussian_law, step by step with the per-step
// noise count noise_injections_at) reproduces the independent recursion.
TEST(PmmPc, GaussianLawPropagationMatchesTheRecursion) {
  const GaussianCase g;
  const auto target = g.target();
  const ExactScore score(*target);
  const TimeGrid grid = pmm_grid(0.75, 12);
  for (const std::string integrator : {"ddim", "dpm_solver_2"}) {
    const auto sampler = pmm(2.0, 0.1, integrator);
    const GaussianLaw out =
        estimators::propagate_gaussian_law(*sampler, grid, score, GaussianLaw{Vector::Zero(2), Matrix::Identity(2, 2)}, 12, 1);
    const Law law = pmm_reference(g, grid, 0.1L, 20, integrator);
    for (Eigen::Index i = 0; i < 2; ++i) {
      EXPECT_NEAR(out.mean(i), static_cast<double>(law.mean[static_cast<std::size_t>(i)]), 1e-12) << integrator;
      EXPECT_NEAR(out.covariance(i, i), static_cast<double>(law.variance), 1e-12) << integrator;
    }
    EXPECT_NEAR(out.covariance(0, 1), 0.0, 1e-12) << integrator;
  }
}

// The corrector alone: K ULA iterations at the top level, run in blocks with test streams.
Matrix run_corrector(const samplers::PmmPredictorCorrector& sampler, const ScoreModel& score, const NoiseLevel& level,
                     Eigen::Index d, Eigen::Index n) {
  const RandomStreams streams(3, 0);
  const Eigen::Index block = 1000;
  const int K = sampler.langevin_iterations();
  Matrix out(d, n);
  std::vector<Matrix> noise(static_cast<std::size_t>(K), Matrix(d, block));
  for (Eigen::Index begin = 0; begin < n; begin += block) {
    Matrix x(d, block);
    const auto first = static_cast<std::uint64_t>(begin);
    streams.fill_normals(first, StreamTag(StreamPurpose::kTest, 0), x);
    for (int k = 0; k < K; ++k)
      streams.fill_normals(first, StreamTag(StreamPurpose::kTest, 1, static_cast<std::uint64_t>(k)),
                           noise[static_cast<std::size_t>(k)]);
    sampler.correct(level, score, noise, x);
    out.middleCols(begin, block) = x;
  }
  return out;
}

// ULA for the Gaussian score at level a: stationary law N(sqrt(a) m, V / (1 - gamma/(2V))),
// variance bias V gamma / (2V - gamma) = O(gamma) relative to p_{T1} = N(sqrt(a) m, V).
TEST(PmmPc, CorrectorApproachesTheTopLevelMarginal) {
  const GaussianCase g;
  const auto target = g.target();
  const ExactScore score(*target);
  const NoiseLevel level = NoiseLevel::from_ou_time(0.5);  // T1 = 0.5
  const Real a = level.abar(), V = g.V(a, level.one_minus_abar());
  const Eigen::Index n = 40000;
  for (const double gamma : {0.2, 0.02}) {
    const double T2 = 10.0;
    const samplers::PmmPredictorCorrector sampler({T2, gamma, 0.0, "ddim"});
    const long K = std::lround(T2 / gamma);
    ASSERT_EQ(sampler.langevin_iterations(), K);
    const Matrix y = run_corrector(sampler, score, level, 2, n);
    Law law{{0, 0}, 1};
    ula(g, a, level.one_minus_abar(), gamma, K, law);
    expect_moments(y, law, "gamma=" + std::to_string(gamma));
    // After T2 = 10 the K-step law is the ULA stationary law (contraction (1 - gamma/V)^{2K}).
    const Real stationary = V / (1 - gamma / (2 * V));
    EXPECT_LT(std::fabs(static_cast<double>(law.variance - stationary)), 1e-8);
    EXPECT_LT(std::fabs(static_cast<double>(law.mean[0] - std::sqrt(a) * g.m[0])), 1e-5);  // (1 - gamma/V)^K
    // O(gamma) bias of the stationary variance, and what the Monte Carlo sample resolves.
    const double bias = static_cast<double>(stationary - V);
    EXPECT_GT(bias, 0.0);
    EXPECT_LE(bias, gamma);
    const double var = (y.row(0).array() - y.row(0).mean()).square().sum() / (n - 1.0);
    const double se = static_cast<double>(V) * std::sqrt(2.0 / (n - 1.0));
    if (gamma == 0.2) {
      EXPECT_GT(var - static_cast<double>(V), 10 * se) << "the O(gamma) bias is resolved at gamma = 0.2";
    } else {
      EXPECT_LT(std::fabs(var - static_cast<double>(V)), 5 * se + bias) << "close to p_{T1} at gamma = 0.02";
    }
  }
}

// T2 = 0: no corrector, the run is bitwise the plain integrator's run from N(0, I).
TEST(PmmPc, ZeroLangevinTimeIsThePlainIntegratorBitwise) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = pmm_grid(1.0, 16);
  for (const std::string integrator : {"ddim", "acc_ode_noise", "dpm_solver_2"}) {
    const auto sampler = pmm(0.0, 0.05, integrator);
    EXPECT_TRUE(sampler->is_deterministic()) << integrator;
    const auto plain = sampler_registry().make(integrator, {});
    const RunResult a = run_sampler(*sampler, grid, score, *target, standard_normal_run(500));
    const RunResult b = run_sampler(*plain, grid, score, *target, standard_normal_run(500));
    EXPECT_TRUE(a.samples == b.samples) << integrator;
    EXPECT_EQ(a.nfe_per_particle, b.nfe_per_particle) << integrator;
  }
}

// With K > 0 the run is the corrector (streams (kStepNoise, T, k)) followed by the plain
// integrator's run (multistep cache included), bitwise.
TEST(PmmPc, RunIsCorrectorThenPlainIntegrator) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = pmm_grid(1.0, 16);
  const int T = grid.steps();
  const RandomStreams streams(4, 1);
  for (const std::string integrator : {"ddim", "acc_ode_noise", "dpm_solver_2"}) {
    const samplers::PmmPredictorCorrector sampler({0.6, 0.05, 3.0, integrator});
    ASSERT_EQ(sampler.langevin_iterations(), 12);
    const auto plain = sampler_registry().make(integrator, {});
    Matrix x(2, 40);
    streams.fill_normals(0, StreamTag(StreamPurpose::kTest, 7), x);
    Matrix via_run = x;
    run_block(sampler, grid, score, streams, 0, T, 1, via_run);
    std::vector<Matrix> noise(12, Matrix(2, 40));
    for (std::size_t k = 0; k < noise.size(); ++k)
      streams.fill_normals(0, StreamTag(StreamPurpose::kStepNoise, static_cast<std::uint64_t>(T), k), noise[k]);
    sampler.correct(grid.level(T), score, noise, x);
    run_block(*plain, grid, score, streams, 0, T, 1, x);
    EXPECT_TRUE(via_run == x) << integrator;
    EXPECT_EQ(sampler.noise_injections_at(StepContext{grid, T, false, T - 1}), 12);
    EXPECT_EQ(sampler.noise_injections_at(StepContext{grid, T - 1, false, T - 1}), 0);
  }
}

TEST(PmmPc, TruncationHasNoEffectWhenHugeAndClipsWhenSmall) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = pmm_grid(1.0, 16);
  const RunResult none = run_sampler(*pmm(1.0, 0.05, "ddim"), grid, score, *target, standard_normal_run(400));
  const RunResult huge = run_sampler(*pmm(1.0, 0.05, "ddim", 1e300), grid, score, *target, standard_normal_run(400));
  const RunResult small = run_sampler(*pmm(1.0, 0.05, "ddim", 0.1), grid, score, *target, standard_normal_run(400));
  EXPECT_TRUE(none.samples == huge.samples);
  EXPECT_GT((none.samples - small.samples).cwiseAbs().maxCoeff(), 0.1);
  // One ULA iteration with zero noise moves a particle by gamma * s * min(1, M/|s|).
  const double gamma = 0.05, M = 3.0;
  const samplers::PmmPredictorCorrector one({gamma, gamma, M, "ddim"});
  ASSERT_EQ(one.langevin_iterations(), 1);
  Matrix x(2, 50);
  RandomStreams(5, 0).fill_normals(0, StreamTag(StreamPurpose::kTest, 8), x);
  x *= 3.0;
  const NoiseLevel level = grid.level(grid.steps());
  Matrix s(2, 50);
  score.evaluate(level, x, s);
  Matrix y = x;
  one.correct(level, score, std::vector<Matrix>{Matrix::Zero(2, 50)}, y);
  int clipped = 0;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const double norm = s.col(j).norm();
    const Vector expected = x.col(j) + gamma * s.col(j) * std::min(1.0, M / norm);
    EXPECT_LT((y.col(j) - expected).norm(), 1e-14) << j;
    EXPECT_LE((y.col(j) - x.col(j)).norm(), gamma * M * (1 + 1e-14)) << j;
    clipped += norm > M;
  }
  EXPECT_GT(clipped, 10);
  EXPECT_LT(clipped, 50);
}

// Predictor truncation at M_t = C sqrt(d) / sigma_t: no effect when C is huge; with C -> 0 the
// predictor's score vanishes, so each DDIM step is x <- sqrt(abar_{t-1} / abar_t) x and the
// whole predictor multiplies the corrector's output by sqrt(abar_1 / abar_T).
TEST(PmmPc, PredictorTruncationIsOffWhenHugeAndRemovesTheScoreWhenTiny) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = pmm_grid(1.0, 16);
  const int T = grid.steps();
  const auto with = [&](double c) {
    samplers::PmmPredictorCorrector::Options o{0.5, 0.05, 0.0, "ddim", c};
    return samplers::PmmPredictorCorrector(o);
  };
  const RunResult none = run_sampler(with(0.0), grid, score, *target, standard_normal_run(300));
  const RunResult huge = run_sampler(with(1e300), grid, score, *target, standard_normal_run(300));
  EXPECT_TRUE(none.samples == huge.samples);
  EXPECT_EQ(none.nfe_per_particle, huge.nfe_per_particle);  // the wrapper's evaluations are counted once
  const samplers::PmmPredictorCorrector tiny = with(1e-300);
  EXPECT_FALSE(tiny.is_affine_for_affine_score());
  EXPECT_TRUE(tiny.stochastic_score_substeps(StepContext{grid, T, false, T - 1}).empty());
  const RandomStreams streams(6, 0);
  Matrix x(2, 30);
  streams.fill_normals(0, StreamTag(StreamPurpose::kTest, 9), x);
  Matrix via_run = x;
  run_block(tiny, grid, score, streams, 0, T, 1, via_run);
  std::vector<Matrix> noise(10, Matrix(2, 30));
  for (std::size_t k = 0; k < noise.size(); ++k)
    streams.fill_normals(0, StreamTag(StreamPurpose::kStepNoise, static_cast<std::uint64_t>(T), k), noise[k]);
  tiny.correct(grid.level(T), score, noise, x);
  const Matrix expected = std::sqrt(grid.abar(1) / grid.abar(T)) * x;
  EXPECT_LT((via_run - expected).cwiseAbs().maxCoeff(), 1e-12 * expected.cwiseAbs().maxCoeff());
}

TEST(PmmPc, OutputIsBitwiseIndependentOfThreadsAndBlockSize) {
  const auto target = target_registry().make_example("gaussian_mixture");
  const ExactScore score(*target);
  const TimeGrid grid = pmm_grid(1.0, 10);
  const auto sampler = pmm(0.5, 0.05, "acc_ode_noise", 1.0);
  const RunResult reference = run_sampler(*sampler, grid, score, *target, standard_normal_run(300, 1, 512));
  for (int threads : {1, 2})
    for (Eigen::Index block : {1, 7, 512}) {
      const RunResult r = run_sampler(*sampler, grid, score, *target, standard_normal_run(300, threads, block));
      EXPECT_TRUE(r.samples == reference.samples) << threads << " " << block;
    }
}

TEST(PmmPc, ParameterErrorsNameKeyValueAndRule) {
  const auto message = [](const ParamTable& p) {
    try {
      sampler_registry().make("pmm_pc", p);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto expect_has = [](const std::string& text, std::initializer_list<const char*> parts) {
    for (const char* part : parts) EXPECT_NE(text.find(part), std::string::npos) << text << " lacks " << part;
  };
  expect_has(message({{"langevin_step", 0.0}}), {"pmm_pc", "langevin_step = 0", "> 0"});
  expect_has(message({{"langevin_step", -0.5}}), {"langevin_step = -0.5", "> 0"});
  expect_has(message({{"langevin_time", -1.0}}), {"langevin_time = -1", ">= 0"});
  expect_has(message({{"truncation", -2.0}}), {"truncation = -2", ">= 0"});
  expect_has(message({{"predictor_truncation", -1.0}}), {"predictor_truncation = -1", ">= 0", "sqrt(d)/sigma_t"});
  expect_has(message({{"integrator", "rk4"}}), {"integrator = \"rk4\"", "ddim", "acc_ode_noise", "dpm_solver_2"});
  expect_has(message({{"integrator", 3.0}}), {"integrator = ", "string"});
  expect_has(message({{"langevin_time", 1e3}, {"langevin_step", 1e-4}}), {"langevin_time = 1000", "65536"});
  expect_has(message({{"langevin", 1.0}}), {"langevin", "langevin_time", "langevin_step", "truncation", "integrator"});
  EXPECT_EQ(message({}), "no error");
  EXPECT_EQ(message({{"langevin_time", 0.0}}), "no error");
}

}  // namespace
}  // namespace dmconv
