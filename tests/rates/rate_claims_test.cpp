// Rate regression tests (ctest label "rates"): fitted exponents of THEORY.md §7 claims with
// explicit tolerances. Theorems are upper bounds, so decay claims are one-sided (falsified
// only by a slower decay); rates that are exact on a particular target are two-sided.
// Setting (THEORY.md §7 common regime): exact scores, theory schedule c0 = 2, c1 = 6 (or a
// uniform log-SNR grid with fixed endpoints), Y_T ~ p_{X_T} exactly, output compared at X_1.
// Fits: log err = a - p log T + k log log T with k free (THEORY.md §6.4).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "analysis/rate_fit.hpp"
#include "core/schedule.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/gaussian_law.hpp"
#include "estimators/grid_law.hpp"
#include "samplers/registry.hpp"
#include "targets/registry.hpp"
#include "support/theory_targets.hpp"

namespace dmconv {
namespace {

const std::vector<int> kSteps = {256, 512, 1024, 2048, 4096};

std::unique_ptr<Target> gaussian_1d() {  // THEORY.md §6.2 target
  return target_registry().make("gaussian", {{"mean", std::vector<double>{1.5}}, {"variance", 0.25}});
}
std::unique_ptr<Target> mixture_1d() {  // THEORY.md §6.3 target
  return test_support::theory_mixture_1d();
}
std::unique_ptr<Schedule> theory_schedule() { return schedule_registry().make("theory", {{"c0", 2.0}, {"c1", 6.0}}); }
std::unique_ptr<Schedule> logsnr_schedule() {
  return schedule_registry().make("logsnr_uniform", {{"first_one_minus_abar", 1e-4}, {"last_abar", 1e-6}});
}

// Error of `sampler` at each T, by `estimator`, for `metric`.
std::vector<RatePoint> sweep(const Estimator& estimator, const std::string& metric, const std::string& sampler_name,
                             const Target& target, const Schedule& schedule, const std::vector<int>& steps) {
  std::vector<RatePoint> points;
  const auto sampler = sampler_registry().make(sampler_name, {});
  for (int T : steps) {
    const TimeGrid grid = schedule.grid(T);
    const ExactScore score(target);
    RunOptions run;
    run.particles = 20000;
    run.threads = 1;  // ctest runs the rate tests side by side (-j): one thread each
    const EstimationProblem problem{*sampler, grid, target, score, run};
    for (const Estimate& e : estimator.estimate(problem)) {
      if (e.metric == metric) points.push_back({static_cast<double>(T), e.value, e.std_error, e.floor});
    }
  }
  return points;
}

// k free by default; `fixed_log_power` pins k where THEORY derives it.
RateFit fit(const std::vector<RatePoint>& points, const char* label, std::optional<double> fixed_log_power = {}) {
  RateFitOptions options;
  options.log_factor = fixed_log_power ? RateFitOptions::LogFactor::kFixed : RateFitOptions::LogFactor::kFree;
  options.log_factor_power = fixed_log_power.value_or(0.0);
  const RateFit result = fit_rate(points, options);
  std::printf("%-44s p = %.3f [%.3f, %.3f], k = %.2f, points %zu, local slopes:", label, result.exponent,
              result.exponent_low, result.exponent_high, result.log_factor_power, result.points_used);
  for (double s : result.local_slopes) std::printf(" %.2f", s);
  std::printf("\n");
  for (const auto& e : result.excluded) std::printf("    excluded point %zu: %s\n", e.index, e.reason.c_str());
  return result;
}

void expect_claim(const RateFit& result, ExponentClaim claim, const char* label) {
  EXPECT_EQ(result.status, RateFit::Status::kOk) << label << ": " << result.message;
  EXPECT_EQ(judge(result, claim), Verdict::kHolds)
      << label << ": fitted p = " << result.exponent << ", claimed " << claim.claimed << " +- " << claim.tolerance
      << (claim.two_sided ? " (two-sided)" : " (one-sided)");
}

// Ratio of two error sweeps, as a rate point list in T (err_a / err_b ~ T^{-p}).
std::vector<RatePoint> ratio(const std::vector<RatePoint>& a, const std::vector<RatePoint>& b) {
  std::vector<RatePoint> out;
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back({a[i].x, a[i].value / b[i].value, 0.0, 0.0});
  return out;
}

const estimators::GaussianLawEstimator kGaussianLaw;

// Claims 1, 3, 8 (DDPM, probability-flow ODE, accelerated SDE: first order, p >= 0.9) and
// claim 8's Gaussian special case (variant (A): p = 2, two-sided) on the 1-D Gaussian,
// exact law propagation.
TEST(RateClaims, FirstOrderSamplersOnGaussianTarget) {
  const auto target = gaussian_1d();
  for (const auto& schedule : {theory_schedule(), logsnr_schedule()}) {
    const std::string grid = " gaussian " + schedule->name() + " TV ";
    const bool theory = schedule->name() == "theory";
    for (const char* name : {"ddpm", "ddpm_noise_outside", "ddim", "acc_sde_b", "acc_sde_c"}) {
      const std::string label = "claims 1/3/8" + grid + name;
      expect_claim(fit(sweep(kGaussianLaw, "tv", name, *target, *schedule, kSteps), label.c_str()),
                   ExponentClaim{1.0, 0.1, false}, label.c_str());
    }
    // The Euler form (2.5) accumulates (1 - c0/c1) c1^2 log^2 T / (8T) on the theory grid
    // (THEORY.md §4.2): k = 2 there; free on the log-SNR grid.
    std::optional<double> euler_k;
    if (theory) euler_k = 2.0;
    const std::string euler = "claim 3" + grid + "ode_euler" + (theory ? " (k=2)" : "");
    expect_claim(fit(sweep(kGaussianLaw, "tv", "ode_euler", *target, *schedule, kSteps), euler.c_str(), euler_k),
                 ExponentClaim{1.0, 0.1, false}, euler.c_str());
    const std::string a = "claim 8" + grid + "acc_sde_a (second order on Gaussians)";
    expect_claim(fit(sweep(kGaussianLaw, "tv", "acc_sde_a", *target, *schedule, kSteps), a.c_str()),
                 ExponentClaim{2.0, 0.2, true}, a.c_str());
  }
}

// Claims 6 and 12: accelerated deterministic samplers and second-order solvers, p >= 1.8
// (one-sided), on the Gaussian under both grids.
TEST(RateClaims, SecondOrderSamplersOnGaussianTarget) {
  const auto target = gaussian_1d();
  for (const auto& schedule : {theory_schedule(), logsnr_schedule()}) {
    for (const char* name : {"acc_ode_noise", "dpm_solver_2", "dpm_solver_pp_2m"}) {
      const std::string label = "claims 6/12 gaussian " + schedule->name() + " TV " + name;
      expect_claim(fit(sweep(kGaussianLaw, "tv", name, *target, *schedule, kSteps), label.c_str()),
                   ExponentClaim{2.0, 0.2, false}, label.c_str());
    }
  }
}

// Claims 3, 6, 7, 12 on the non-Gaussian 1-D mixture of THEORY.md §6.3, exact output
// densities by change of variables (quadrature over Y_T), under both grids.
TEST(RateClaims, DeterministicSamplersOnMixtureTarget) {
  const auto target = mixture_1d();
  const ChangeOfVariablesQuadrature quadrature(256, 8);
  for (const auto& schedule : {theory_schedule(), logsnr_schedule()}) {
    const std::string grid = " mixture " + schedule->name() + " TV ";
    const bool theory = schedule->name() == "theory";
    std::map<std::string, std::vector<RatePoint>> tv;
    for (const char* name : {"ode_euler", "ddim", "acc_ode_noise", "dpm_solver_pp_2m"}) {
      tv[name] = sweep(quadrature, "tv", name, *target, *schedule, kSteps);
    }
    // k = 2 for (2.5) on the theory grid only: its step there is c1 log T / T (THEORY.md §4.2).
    std::optional<double> euler_k;
    if (theory) euler_k = 2.0;
    const std::string euler = "claim 3" + grid + "ode_euler" + (theory ? " (k=2)" : "");
    expect_claim(fit(tv["ode_euler"], euler.c_str(), euler_k), ExponentClaim{1.0, 0.1, false}, euler.c_str());
    const std::string ddim = "claim 3" + grid + "ddim";
    expect_claim(fit(tv["ddim"], ddim.c_str()), ExponentClaim{1.0, 0.1, false}, ddim.c_str());
    const std::string acc = "claim 6" + grid + "acc_ode_noise";
    expect_claim(fit(tv["acc_ode_noise"], acc.c_str()), ExponentClaim{2.0, 0.2, false}, acc.c_str());
    const std::string pp = "claim 12" + grid + "dpm_solver_pp_2m";
    expect_claim(fit(tv["dpm_solver_pp_2m"], pp.c_str()), ExponentClaim{2.0, 0.2, false}, pp.c_str());
    // Claim 7: DDIM / accelerated ODE grows like T up to logs (err ~ T^{-p} with p = -1);
    // falsified if flat, so the growth exponent -p must be at least 0.8.
    const std::string label = "claim 7" + grid + "ratio DDIM/acc-ODE (p = -growth)";
    const RateFit growth = fit(ratio(tv["ddim"], tv["acc_ode_noise"]), label.c_str());
    EXPECT_EQ(growth.status, RateFit::Status::kOk);
    EXPECT_LT(growth.exponent, -0.8) << label << ": the DDIM/accelerated ratio must grow roughly like T";
  }
}

// Claims 1, 8, 9 on the non-Gaussian 1-D mixture of THEORY.md §6.3: stochastic samplers, exact
// output densities by grid law propagation (1024 points, order 12: agrees with 8192 points to
// ~1e-11, far below the TV values ~1e-3 here).
TEST(RateClaims, StochasticSamplersOnMixtureTarget) {
  const auto target = mixture_1d();
  const estimators::GridLawEstimator grid_law({1024, 0.0, 12});
  for (const auto& schedule : {theory_schedule(), logsnr_schedule()}) {
    std::map<std::string, std::vector<RatePoint>> tv;
    for (const char* name : {"ddpm", "acc_sde_a", "acc_sde_b", "acc_sde_c"}) {
      tv[name] = sweep(grid_law, "tv", name, *target, *schedule, kSteps);
      const std::string label = "claims 1/8 mixture " + schedule->name() + " TV " + name;
      expect_claim(fit(tv[name], label.c_str()), ExponentClaim{1.0, 0.1, false}, label.c_str());
    }
    // Claim 9: DDPM / accelerated SDE (A) differ in constant, not order. Falsified if the ratio
    // grows like T^{1/2}; the ratio's fitted exponent (err ~ T^{-p}) must be within 0.25 of 0.
    const std::string label = "claim 9 mixture " + schedule->name() + " ratio DDPM/acc-SDE(A)";
    const RateFit flat = fit(ratio(tv["ddpm"], tv["acc_sde_a"]), label.c_str());
    EXPECT_EQ(flat.status, RateFit::Status::kOk);
    EXPECT_EQ(judge(flat, ExponentClaim{0.0, 0.25, true}), Verdict::kHolds) << label << ": p = " << flat.exponent;
    std::printf("%s at T = %d: %.3f\n", label.c_str(), kSteps.front(), tv["ddpm"].front().value / tv["acc_sde_a"].front().value);
  }
}

// Claim 19: on a product target KL is exactly linear in d (two-sided) and TV grows like
// sqrt(d) while small. KL_d by d-dimensional Monte Carlo change of variables is compared
// with d x KL_1 from 1-D quadrature.
TEST(RateClaims, ProductTargetDimensionScaling) {
  const auto schedule = theory_schedule();
  const TimeGrid grid = schedule->grid(256);
  const auto sampler = sampler_registry().make("ddim", {});
  const ParamTable factor = {{"weights", std::vector<double>{0.3, 0.7}}, {"means", std::vector<double>{-2.0, 1.5}},
                             {"variances", std::vector<double>{0.25, 0.5}}};
  const auto one_d = mixture_1d();
  const ExactScore one_d_score(*one_d);
  const EstimationProblem one_d_problem{*sampler, grid, *one_d, one_d_score, RunOptions{}};
  double kl_1 = 0.0;
  for (const Estimate& e : ChangeOfVariablesQuadrature(1024, 8).estimate(one_d_problem))
    if (e.metric == "kl_output_target") kl_1 = e.value;
  std::vector<RatePoint> kl, tv;
  for (int d : {1, 2, 4, 8, 16}) {
    ParamTable params = factor;
    params.set("dim", d);
    const auto target = target_registry().make("product", params);
    const ExactScore score(*target);
    RunOptions run;
    run.particles = 40000;
    run.seed = 19;
    run.threads = 1;
    const EstimationProblem problem{*sampler, grid, *target, score, run};
    for (const Estimate& e : ChangeOfVariablesEstimator().estimate(problem)) {
      // RatePoint x = 1/d so that "err ~ x^{-p}" reads err ~ d^{p}.
      if (e.metric == "kl_output_target") {
        kl.push_back({1.0 / d, e.value, e.std_error, 0.0});
        EXPECT_NEAR(e.value, d * kl_1, 5.0 * e.std_error) << "KL_d = d KL_1 at d = " << d;
      }
      if (e.metric == "tv") tv.push_back({1.0 / d, e.value, e.std_error, 0.0});
    }
  }
  RateFitOptions plain;
  plain.relative_floor = 1e-6;
  const RateFit kl_fit = fit_rate(kl, plain);
  // TV_d ~ sqrt(d KL_1) is the large-d (central limit) regime: fit d >= 2 (x = 1/d <= 1/2).
  plain.x_max = 0.5;
  const RateFit tv_fit = fit_rate(tv, plain);
  std::printf("claim 19 product: KL d-exponent %.3f [%.3f, %.3f], TV d-exponent %.3f [%.3f, %.3f]\n",
              kl_fit.exponent, kl_fit.exponent_low, kl_fit.exponent_high, tv_fit.exponent, tv_fit.exponent_low,
              tv_fit.exponent_high);
  EXPECT_EQ(judge(kl_fit, ExponentClaim{1.0, 0.05, true}), Verdict::kHolds);
  EXPECT_EQ(judge(tv_fit, ExponentClaim{0.5, 0.1, true}), Verdict::kHolds);
}

}  // namespace
}  // namespace dmconv
