// Tests of the exact Gaussian law-propagation estimator (src/estimators/gaussian_law.hpp).
//
// Reference values (provenance):
//   kReference* below are KL(p_{X_1} || p_{Y_1}) for the 1-D target N(1.5, 0.25), theory
//   schedule c0 = 2, c1 = 6, computed in 50-digit mpmath by the functions of
//   gauss.py (run_markov with ddpm, ode, ddim, acc_sde_readme,
//   acc_sde_code; run_affine 'acc_ode_code'; run_dpm2; run_dpmpp2m), acc_sde_inside copied
//   from gauss2.py (variant A), plus two samplers gauss.py lacks, written in the
//   same style: ddpm_noise_outside (var' = c^2 var/alpha + beta) and acc_ode_score (docs/theory.md
//   §4.4a, affine tracking A, B with the cached s_{t+1} and a plain (2.5) step at t = T).
//   The driver printed 15 significant digits:
//       python3 ref.py 2 6 exact 64 256 1024      (Y_T ~ p_{X_T})
//       python3 ref.py 2 6 std 64 256           (Y_T ~ N(0, 1))
//   and the mean / variance of Y_1 at T = 1024 (20 digits) by the same functions with the
//   final kl() call replaced by a capture of (mean, variance) (ref2.py). The printed 2-digit
//   values of docs/theory.md §6.2's table are checked as well.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "estimators/gaussian_law.hpp"
#include "samplers/registry.hpp"
#include "schedules/theory_schedule.hpp"
#include "targets/gaussian.hpp"
#include "targets/gaussian_mixture.hpp"

namespace dmconv {
namespace {

using estimators::GaussianLawEstimator;

double rel(double value, double reference) { return std::fabs(value - reference) / std::fabs(reference); }

GaussianTarget target_1d(double mean = 1.5, double variance = 0.25) {
  return GaussianTarget(GaussianComponent::isotropic(Vector::Constant(1, mean), variance, "test target"));
}

Matrix rotation(int d, double seed) {
  Matrix b(d, d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) b(i, j) = std::cos(seed + 0.9 * i - 1.3 * j + 0.4 * i * j);
  return Eigen::HouseholderQR<Matrix>(b).householderQ();
}

// All estimates of one problem, by metric name.
std::map<std::string, Estimate> estimate_all(const Sampler& sampler, const TimeGrid& grid, const Target& target,
                                             const ScoreModel& score, RunOptions run = {}) {
  const EstimationProblem problem{sampler, grid, target, score, run};
  const GaussianLawEstimator estimator;
  EXPECT_FALSE(estimator.unsupported_reason(problem).has_value());
  std::map<std::string, Estimate> out;
  for (const Estimate& e : estimator.estimate(problem)) out[e.metric] = e;
  return out;
}

Estimate kl_estimate_1d(const std::string& sampler_name, int steps,
                        Initialisation init = Initialisation::kExactMarginal) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(steps);
  const GaussianTarget target = target_1d();
  const ExactScore score(target);
  const auto sampler = sampler_registry().make_example(sampler_name);
  RunOptions run;
  run.initialisation = init;
  return estimate_all(*sampler, grid, target, score, run).at("kl_target_output");
}
double kl_1d(const std::string& sampler_name, int steps, Initialisation init = Initialisation::kExactMarginal) {
  return kl_estimate_1d(sampler_name, steps, init).value;
}

struct Reference {
  const char* sampler;
  int steps;
  double kl;
};

// 50-digit references, exact p_{X_T} initialisation (see the file comment).
const std::vector<Reference> kReferenceExact{
    {"ddpm", 64, 0.0137951132693137},
    {"ddpm", 256, 0.00154430834867928},
    {"ddpm", 1024, 0.000153645980344747},
    {"ddpm_noise_outside", 64, 0.00203770719285295},
    {"ddpm_noise_outside", 256, 0.00026120325769423},
    {"ddpm_noise_outside", 1024, 2.69827017141531e-5},
    {"ode_euler", 64, 0.817563672580671},
    {"ode_euler", 256, 0.145379055697083},
    {"ode_euler", 1024, 0.0221540783414686},
    {"ddim", 64, 0.00274824964886858},
    {"ddim", 256, 0.000333610271318857},
    {"ddim", 1024, 3.39015421847643e-5},
    {"acc_sde_a", 64, 0.000413714384576378},
    {"acc_sde_a", 256, 5.04324438684139e-6},
    {"acc_sde_a", 1024, 4.89522642148162e-8},
    {"acc_sde_b", 64, 0.000632833853936779},
    {"acc_sde_b", 256, 0.000107219497304533},
    {"acc_sde_b", 1024, 1.21171365100926e-5},
    {"acc_sde_c", 64, 0.00226445311057007},
    {"acc_sde_c", 256, 0.00041614574005097},
    {"acc_sde_c", 1024, 4.80585689650661e-5},
    {"acc_ode_score", 64, 0.0248811544167369},
    {"acc_ode_score", 256, 0.000337960942160578},
    {"acc_ode_score", 1024, 4.08141175027606e-6},
    {"acc_ode_noise", 64, 9.29314218348311e-5},
    {"acc_ode_noise", 256, 1.9489631037109e-6},
    {"acc_ode_noise", 1024, 2.29412384156152e-8},
    {"dpm_solver_2", 64, 8.19477941458005e-6},
    {"dpm_solver_2", 256, 1.16492700116925e-7},
    {"dpm_solver_2", 1024, 1.19237431697881e-9},
    {"dpm_solver_pp_2m", 64, 2.9790374828394e-7},
    {"dpm_solver_pp_2m", 256, 4.02739230778638e-9},
    {"dpm_solver_pp_2m", 1024, 1.25549832305483e-10},
};

// Y_T ~ N(0, 1).
const std::vector<Reference> kReferenceStandard{
    {"ode_euler", 64, 0.817563675026237},       {"ddim", 64, 0.00274825145160313},
    {"acc_ode_noise", 64, 9.29332801448773e-5}, {"acc_ode_noise", 256, 1.94900407835708e-6},
    {"dpm_solver_2", 256, 1.16533722299314e-7}, {"dpm_solver_pp_2m", 64, 2.99773475480135e-7},
    {"ddpm", 64, 0.0137951132693137},           {"acc_sde_a", 256, 5.04324438684139e-6},
};

TEST(GaussianLaw, ReproducesExactKlOfAllSamplersOn1dTarget) {
  for (const Reference& r : kReferenceExact) {
    const Estimate e = kl_estimate_1d(r.sampler, r.steps);
    // Double-precision propagation against 50 digits: the relative error of the KL is about
    // (relative error of the variance ~1e-14) / sqrt(KL), below 1e-8 even at KL ~ 1e-10
    // (measured: <= 1.2e-9, at dpm_solver_pp_2m T = 1024, KL = 1.3e-10).
    EXPECT_LE(rel(e.value, r.kl), 1e-8) << r.sampler << " T=" << r.steps << " kl=" << e.value << " ref=" << r.kl;
    // The reported round-off budget covers the actual error (it is ~100x larger).
    EXPECT_LE(std::fabs(e.value - r.kl), e.floor) << r.sampler << " T=" << r.steps;
    EXPECT_LT(e.floor, 1e-6 * e.value) << r.sampler << " T=" << r.steps;
  }
}

TEST(GaussianLaw, ReproducesStandardNormalInitialisation) {
  for (const Reference& r : kReferenceStandard) {
    EXPECT_LE(rel(kl_1d(r.sampler, r.steps, Initialisation::kStandardNormal), r.kl), 1e-8)
        << r.sampler << " T=" << r.steps;
  }
}

// docs/theory.md §6.2 table, printed to 2 significant digits. Column 'acc-SDE (A)' is acc_sde_a,
// 'acc-SDE (B)' acc_sde_b, 'acc-ODE' the noise-prediction form acc_ode_noise.
TEST(GaussianLaw, MatchesTheTableOfTheorySection62) {
  const std::vector<std::pair<std::string, std::vector<double>>> table{
      {"ddpm", {1.4e-2, 1.5e-3, 1.5e-4}},          {"ode_euler", {8.2e-1, 1.5e-1, 2.2e-2}},
      {"ddim", {2.7e-3, 3.3e-4, 3.4e-5}},          {"acc_sde_a", {4.1e-4, 5.0e-6, 4.9e-8}},
      {"acc_sde_b", {6.3e-4, 1.1e-4, 1.2e-5}},     {"acc_ode_noise", {9.3e-5, 1.9e-6, 2.3e-8}},
      {"dpm_solver_2", {8.2e-6, 1.2e-7, 1.2e-9}},
  };
  const int steps[] = {64, 256, 1024};
  for (const auto& [sampler, printed] : table) {
    for (int i = 0; i < 3; ++i) {
      char two_digits[32];
      std::snprintf(two_digits, sizeof two_digits, "%.1e", kl_1d(sampler, steps[i]));
      EXPECT_EQ(std::stod(two_digits), printed[static_cast<std::size_t>(i)]) << sampler << " T=" << steps[i];
    }
  }
}

TEST(GaussianLaw, PropagatedMomentsMatch50DigitReferences) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(1024);
  const GaussianTarget target = target_1d();
  const ExactScore score(target);
  const GaussianLaw initial = estimators::gaussian_marginal(target, grid.level(1024));
  // (sampler, mean, variance of Y_1), 20 digits; see the file comment.
  const std::vector<std::tuple<std::string, double, double>> references{
      {"ddpm", 1.499999284744092165, 0.25630225646231636114},
      {"acc_sde_a", 1.499999284744092165, 0.25011137400789554746},
      {"ddim", 1.499999284744092165, 0.24711191469463944717},
      {"acc_ode_noise", 1.499999284744092165, 0.24992499850387158559},
      {"dpm_solver_pp_2m", 1.499999284744092165, 0.25000631780654474211},
  };
  for (const auto& [name, mean, variance] : references) {
    const auto sampler = sampler_registry().make_example(name);
    const GaussianLaw out = estimators::propagate_gaussian_law(*sampler, grid, score, initial, 1024, 1);
    EXPECT_LE(rel(out.mean(0), mean), 1e-14) << name;
    EXPECT_LE(rel(out.covariance(0, 0), variance), 1e-13) << name;  // the brief's target accuracy
  }
  const GaussianLaw x1 = estimators::gaussian_marginal(target, grid.level(1));
  EXPECT_LE(rel(x1.covariance(0, 0), 0.25000071525573730469), 1e-15);
}

// docs/theory.md §6.5: an isotropic product target gives d times the 1-D KL, and 1 - H_d^2 =
// (1 - H_1^2)^d; a rotated product target (full covariance) gives the sum of 1-D KLs.
TEST(GaussianLaw, DimensionThreeProductAndRotatedTargets) {
  const int d = 3;
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(64);
  const GaussianTarget iso(GaussianComponent::isotropic(Vector::Constant(d, 1.5), 0.25, "iso"));
  const Vector means(Eigen::Vector3d(1.5, -0.5, 0.0));
  const Vector variances(Eigen::Vector3d(0.25, 0.5, 2.0));
  const Matrix q = rotation(d, 0.3);
  Matrix sigma = q * variances.asDiagonal() * q.transpose();
  sigma = 0.5 * (sigma + sigma.transpose());
  const GaussianTarget rotated(GaussianComponent::full(q * means, sigma, "rotated"));
  const ExactScore iso_score(iso), rotated_score(rotated);
  for (const std::string name : {"ddpm", "acc_sde_b", "ddim", "acc_ode_score", "acc_ode_noise", "dpm_solver_pp_2m"}) {
    const auto sampler = sampler_registry().make_example(name);
    const auto one = [&](double m, double v) {
      const GaussianTarget t1 = target_1d(m, v);
      const ExactScore s1(t1);
      return estimate_all(*sampler, grid, t1, s1);
    };
    const auto e1 = one(1.5, 0.25);
    const auto e3 = estimate_all(*sampler, grid, iso, iso_score);
    EXPECT_LE(rel(e3.at("kl_target_output").value, d * e1.at("kl_target_output").value), 1e-12) << name;
    EXPECT_LE(rel(e3.at("kl_output_target").value, d * e1.at("kl_output_target").value), 1e-12) << name;
    EXPECT_LE(rel(1.0 - e3.at("hellinger").value, std::pow(1.0 - e1.at("hellinger").value, d)), 1e-14) << name;
    EXPECT_LE(rel(e3.at("w2").value, std::sqrt(double(d)) * e1.at("w2").value), 1e-12) << name;
    double kl_sum = 0.0;
    for (int i = 0; i < d; ++i) kl_sum += one(means(i), variances(i)).at("kl_target_output").value;
    EXPECT_LE(rel(estimate_all(*sampler, grid, rotated, rotated_score).at("kl_target_output").value, kl_sum), 1e-10)
        << name;
  }
}

TEST(GaussianLaw, MarkovAndWholeRunPropagationAgree) {
  const int d = 3;
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(256);
  Matrix sigma = rotation(d, 1.1) * Vector(Eigen::Vector3d(0.1, 1.0, 3.0)).asDiagonal() * rotation(d, 1.1).transpose();
  sigma = 0.5 * (sigma + sigma.transpose());
  const GaussianTarget target(GaussianComponent::full(Vector(Eigen::Vector3d(1.0, -2.0, 0.5)), sigma, "t"));
  const ExactScore score(target);
  const GaussianLaw initial = estimators::gaussian_marginal(target, grid.level(256));
  for (const std::string name : {"ddim", "ode_euler", "dpm_solver_2"}) {
    const auto sampler = sampler_registry().make_example(name);
    for (const int stop : {1, 0}) {
      const GaussianLaw a = estimators::propagate_deterministic(*sampler, grid, score, initial, 256, stop);
      const GaussianLaw b = estimators::propagate_markov(*sampler, grid, score, initial, 256, stop);
      EXPECT_LE((a.mean - b.mean).norm(), 1e-14 * a.mean.norm()) << name << " stop " << stop;
      EXPECT_LE((a.covariance - b.covariance).norm(), 1e-13 * a.covariance.norm()) << name << " stop " << stop;
    }
  }
  // Multistep samplers cannot be propagated step by step.
  const auto momentum = sampler_registry().make_example("acc_ode_noise");
  EXPECT_THROW(estimators::propagate_markov(*momentum, grid, score, initial, 256, 1), InvalidArgument);
}

// The substep recursion (pmm_pc's K Langevin iterations, then DDIM; ddpm as one substep) equals
// the probe of every step through Sampler::step, on a rotated 3-D Gaussian with a mean offset.
TEST(GaussianLaw, SubstepAndMarkovPropagationAgree) {
  const int d = 3;
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(64);
  Matrix sigma = rotation(d, 0.7) * Vector(Eigen::Vector3d(0.2, 1.0, 4.0)).asDiagonal() * rotation(d, 0.7).transpose();
  sigma = 0.5 * (sigma + sigma.transpose());
  const GaussianTarget target(GaussianComponent::full(Vector(Eigen::Vector3d(1.5, -1.0, 0.5)), sigma, "t"));
  const ExactScore score(target);
  const GaussianLaw initial{Vector::Zero(d), Matrix::Identity(d, d)};
  const auto pmm = sampler_registry().make("pmm_pc", {{"langevin_time", 0.5}, {"langevin_step", 0.01}});
  const auto ddpm = sampler_registry().make("ddpm", {});
  for (const Sampler* sampler : {pmm.get(), ddpm.get()}) {
    const GaussianLaw a = estimators::propagate_substeps(*sampler, grid, score, initial, 64, 1);
    const GaussianLaw b = estimators::propagate_markov(*sampler, grid, score, initial, 64, 1);
    EXPECT_LE((a.mean - b.mean).norm(), 1e-12 * b.mean.norm()) << sampler->name();
    EXPECT_LE((a.covariance - b.covariance).norm(), 1e-12 * b.covariance.norm()) << sampler->name();
  }
  // The estimator takes the substep path for pmm_pc (50 injections at the first step), so a
  // corrector with K = 20000 iterations is propagated in a fraction of a second.
  const auto long_corrector = sampler_registry().make("pmm_pc", {{"langevin_time", 20.0}, {"langevin_step", 0.001}});
  const auto start = std::chrono::steady_clock::now();
  const GaussianLaw law = estimators::propagate_gaussian_law(*long_corrector, grid, score, initial, 64, 1);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(law.mean.allFinite() && law.covariance.allFinite());
  EXPECT_LT(seconds, 2.0);
}

// A stochastic sampler with a multistep cache (test double): the Markov propagation must refuse it.
class StochasticWithCache final : public Sampler {
 public:
  std::string name() const override { return "stochastic_with_cache"; }
  int noise_injections() const override { return 1; }
  int score_evaluations_per_step() const override { return 1; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override {
    Matrix s(x.rows(), x.cols());
    score.evaluate(context.grid.level(context.t), x, s);
    x += context.grid.beta(context.t) * s + std::sqrt(context.grid.beta(context.t)) * noise[0];
    state.previous_output = s;
    state.previous_t = context.t;
  }
};

TEST(GaussianLaw, RefusesStochasticMultistepSamplers) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(20);
  const GaussianTarget target = target_1d();
  const ExactScore score(target);
  const StochasticWithCache sampler;
  const GaussianLaw initial = estimators::gaussian_marginal(target, grid.level(20));
  EXPECT_THROW(estimators::propagate_gaussian_law(sampler, grid, score, initial, 20, 1), InvalidArgument);
}

// The covariance of Y_stop does not depend on the target mean (the linear part of the affine
// score does not), but the constant part of every probe does. With |mean| >> sd the probe
// differences Y(e_i) - Y(0) at unit scale would lose ~log10(|mean| / sd) digits; the scaled
// probes keep the covariance to ~1e-14.
TEST(GaussianLaw, CovarianceIsUnaffectedByALargeMean) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(1024);
  Matrix sigma(2, 2);
  sigma << 0.3, 0.1, 0.1, 0.2;
  const GaussianTarget centred(GaussianComponent::full(Vector::Zero(2), sigma, "centred"));
  const GaussianTarget far(GaussianComponent::full(Vector::Constant(2, 3e4), sigma, "far"));
  const ExactScore centred_score(centred), far_score(far);
  const GaussianLaw initial0 = estimators::gaussian_marginal(centred, grid.level(1024));
  const GaussianLaw initial1 = estimators::gaussian_marginal(far, grid.level(1024));
  for (const std::string name : {"ddim", "acc_ode_noise", "dpm_solver_pp_2m", "ddpm", "acc_sde_a"}) {
    const auto sampler = sampler_registry().make_example(name);
    const GaussianLaw a = estimators::propagate_gaussian_law(*sampler, grid, centred_score, initial0, 1024, 1);
    const GaussianLaw b = estimators::propagate_gaussian_law(*sampler, grid, far_score, initial1, 1024, 1);
    EXPECT_LE((a.covariance - b.covariance).norm(), 1e-13 * a.covariance.norm()) << name;
  }
}

// A Markov test double that injects noise on every step but the final one: the step-by-step
// propagation must hand the run loop's StepContext (final_step, total_steps) to the sampler.
class NoiseExceptOnFinalStep final : public Sampler {
 public:
  std::string name() const override { return "noise_except_on_final_step"; }
  int noise_injections() const override { return 1; }
  int score_evaluations_per_step() const override { return 0; }
  void step(const StepContext& context, const ScoreModel&, std::span<const Matrix> noise, Matrix& x,
            SamplerState&) const override {
    if (!context.final_step) x += noise[0] * (1.0 / static_cast<double>(context.total_steps));
  }
};

TEST(GaussianLaw, MarkovPropagationSeesTheFinalStep) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(20);
  const GaussianTarget target = target_1d();
  const ExactScore score(target);
  const NoiseExceptOnFinalStep sampler;
  const GaussianLaw initial{Vector::Constant(1, 0.5), Matrix::Constant(1, 1, 2.0)};
  for (const int stop : {1, 0}) {
    const int steps = 20 - stop;
    const GaussianLaw out = estimators::propagate_gaussian_law(sampler, grid, score, initial, 20, stop);
    EXPECT_DOUBLE_EQ(out.mean(0), 0.5);
    EXPECT_NEAR(out.covariance(0, 0), 2.0 + (steps - 1) / double(steps * steps), 1e-14) << stop;
  }
}

// The propagated law agrees with the real run loop (run_sampler, its noise streams and
// initial state), within 5 standard errors of the sample mean and covariance.
TEST(GaussianLaw, AgreesWithMonteCarloOfTheRunLoop) {
  const int d = 2;
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(20);
  Matrix sigma(2, 2);
  sigma << 0.5, 0.3, 0.3, 0.8;
  const GaussianTarget target(GaussianComponent::full(Vector(Eigen::Vector2d(1.0, -1.0)), sigma, "t"));
  const ExactScore score(target);
  const std::vector<std::tuple<std::string, Initialisation, int>> cases{
      {"ddpm", Initialisation::kExactMarginal, 1},
      {"acc_sde_c", Initialisation::kStandardNormal, 1},
      {"ddpm_noise_outside", Initialisation::kExactMarginal, 0},
      {"acc_sde_c", Initialisation::kExactMarginal, 0},
      {"dpm_solver_pp_2m", Initialisation::kStandardNormal, 1}};
  for (const auto& [name, init, stop] : cases) {
    const auto sampler = sampler_registry().make_example(name);
    RunOptions run;
    run.seed = 5;
    run.particles = 20000;
    run.initialisation = init;
    run.stop_index = stop;
    const EstimationProblem problem{*sampler, grid, target, score, run};
    const GaussianLaw law = estimators::gaussian_output_law(problem);
    const RunResult result = run_sampler(*sampler, grid, score, target, run);
    const double n = static_cast<double>(run.particles);
    const Vector mean = result.samples.rowwise().mean();
    const Matrix centred = result.samples.colwise() - mean;
    const Matrix cov = centred * centred.transpose() / (n - 1.0);
    for (int i = 0; i < d; ++i) {
      EXPECT_LE(std::fabs(mean(i) - law.mean(i)), 5.0 * std::sqrt(law.covariance(i, i) / n)) << name << " " << i;
      for (int j = 0; j < d; ++j) {
        const double se = std::sqrt((law.covariance(i, i) * law.covariance(j, j) + law.covariance(i, j) * law.covariance(i, j)) / n);
        EXPECT_LE(std::fabs(cov(i, j) - law.covariance(i, j)), 5.0 * se) << name << " " << i << j;
      }
    }
  }
}

TEST(GaussianLaw, EstimatesCarryMetricsMethodsAndKinds) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(64);
  const auto sampler = sampler_registry().make_example("ddpm");
  for (const int d : {1, 2, 3}) {
    const GaussianTarget target(GaussianComponent::isotropic(Vector::Constant(d, 1.5), 0.25, "t"));
    const ExactScore score(target);
    RunOptions run;
    run.particles = 4000;
    const auto e = estimate_all(*sampler, grid, target, score, run);
    ASSERT_EQ(e.size(), 5u);
    for (const std::string metric : {"kl_target_output", "kl_output_target", "w2", "hellinger", "tv"}) {
      ASSERT_TRUE(e.count(metric)) << metric;
      EXPECT_EQ(e.at(metric).method, "gaussian_law");
      EXPECT_GT(e.at(metric).value, 0.0);
      EXPECT_GE(e.at(metric).floor, 0.0);
      EXPECT_LT(e.at(metric).floor, 1e-9 * e.at(metric).value) << metric;
    }
    EXPECT_EQ(e.at("kl_target_output").kind, EstimateKind::kExact);
    EXPECT_EQ(e.at("tv").kind, d <= 2 ? EstimateKind::kExact : EstimateKind::kUnbiasedMonteCarlo);
    EXPECT_EQ(e.at("tv").std_error > 0.0, d > 2);
    // Direction: KL(p_X || p_Y) and KL(p_Y || p_X) differ for DDPM's over-dispersed output
    // and match the distance functions called directly.
    const GaussianLaw x = estimators::gaussian_marginal(target, grid.level(1));
    const GaussianLaw y = estimators::gaussian_output_law({*sampler, grid, target, score, run});
    EXPECT_EQ(e.at("kl_target_output").value, gaussian_kl(x, y).value);
    EXPECT_EQ(e.at("kl_output_target").value, gaussian_kl(y, x).value);
    EXPECT_GT(std::fabs(e.at("kl_target_output").value - e.at("kl_output_target").value),
              1e-3 * e.at("kl_target_output").value);
    // TV bounds: Pinsker, and the 1-D case against sqrt(KL/2)-scale.
    EXPECT_LE(e.at("tv").value, std::sqrt(0.5 * e.at("kl_target_output").value) + 5.0 * e.at("tv").std_error);
  }
}

// A score model that is not affine (wraps the exact one and says so).
class NonAffineScore final : public ScoreModel {
 public:
  explicit NonAffineScore(const Target& target) : target_(target) {}
  int dim() const override { return target_.dim(); }
  bool is_affine() const override { return false; }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override { target_.score(level, x, out); }

 private:
  const Target& target_;
};

TEST(GaussianLaw, UnsupportedProblemsSayWhy) {
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(20);
  const auto sampler = sampler_registry().make_example("ddim");
  const GaussianLawEstimator estimator;
  const GaussianTarget gaussian = target_1d();
  const NonAffineScore non_affine(gaussian);
  const EstimationProblem p1{*sampler, grid, gaussian, non_affine, RunOptions{}};
  ASSERT_TRUE(estimator.unsupported_reason(p1).has_value());
  EXPECT_NE(estimator.unsupported_reason(p1)->find("affine"), std::string::npos);
  EXPECT_THROW(estimator.estimate(p1), InvalidArgument);

  const GaussianMixtureTarget mixture(
      {0.5, 0.5}, {GaussianComponent::isotropic(Vector::Constant(1, -1.0), 0.2, "c0"),
                   GaussianComponent::isotropic(Vector::Constant(1, 1.0), 0.2, "c1")});
  const ExactScore mixture_score(mixture);
  const EstimationProblem p2{*sampler, grid, mixture, mixture_score, RunOptions{}};
  ASSERT_TRUE(estimator.unsupported_reason(p2).has_value());
  EXPECT_NE(estimator.unsupported_reason(p2)->find("Gaussian target"), std::string::npos);

  // A stochastic multistep sampler is refused when the plan is made, not by a failed run.
  const ExactScore gaussian_score(gaussian);
  const auto sde_multistep = sampler_registry().make_example("dpm_solver_pp_2m_sde");
  const EstimationProblem p3{*sde_multistep, grid, gaussian, gaussian_score, RunOptions{}};
  ASSERT_TRUE(estimator.unsupported_reason(p3).has_value());
  EXPECT_NE(estimator.unsupported_reason(p3)->find("multistep cache"), std::string::npos);
  const auto ddpm = sampler_registry().make_example("ddpm");
  EXPECT_FALSE(estimator.unsupported_reason(EstimationProblem{*ddpm, grid, gaussian, gaussian_score, RunOptions{}}));
}

// T = 4096, d = 16, full covariance: the propagation must take well under a second.
TEST(GaussianLaw, PropagationIsFastAtLargeTAndD) {
  const int d = 16, steps = 4096;
  const TimeGrid grid = TheorySchedule(2.0, 6.0).grid(steps);
  Matrix b(d, d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) b(i, j) = std::sin(0.3 + 1.7 * i + 2.3 * j * j);
  Matrix sigma = b * b.transpose() / d + 0.1 * Matrix::Identity(d, d);
  sigma = 0.5 * (sigma + sigma.transpose());
  const GaussianTarget target(GaussianComponent::full(Vector::LinSpaced(d, -1.0, 1.0), sigma, "t"));
  const ExactScore score(target);
  RunOptions run;
  run.particles = 20000;  // TV by Monte Carlo in d = 16
  for (const std::string name : {"acc_ode_noise", "dpm_solver_2", "acc_sde_a"}) {
    const auto sampler = sampler_registry().make_example(name);
    const auto start = std::chrono::steady_clock::now();
    const GaussianLaw law = estimators::gaussian_output_law({*sampler, grid, target, score, run});
    const double propagate = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto e = estimate_all(*sampler, grid, target, score, run);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ timing   ] %s T=%d d=%d: propagation %.3f s, propagation + all metrics %.3f s\n", name.c_str(),
                steps, d, propagate, total);
    EXPECT_TRUE(law.covariance.allFinite());
    EXPECT_LT(propagate, 1.0) << name;
    EXPECT_GT(e.at("kl_target_output").value, 0.0);
  }
}

}  // namespace
}  // namespace dmconv
