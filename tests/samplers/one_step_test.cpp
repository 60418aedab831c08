// One-step maps of every sampler on Gaussian targets with exact score (docs/theory.md §4, §6.1).
//
// On p_data = N(mu, Sigma) every sampler step is affine in (Y_t, Y_{t+1}, Z_k); the test reads
// A, b, N_k (and Q for multistep samplers) off Sampler::step by probing with unit inputs and
// compares them with the closed forms of gaussian_affine_reference.hpp, written from the
// docs/theory.md §4 rules and evaluated in 50 digits.
//
// Tolerance: 1e-12 normwise relative per coefficient block. The code works in double; the
// worst conditioned operations it performs are (a) differences of half-log-SNRs,
// h = lambda_{t-1} - lambda_t, whose relative error is ~ eps |lambda| / h ~ 1.1e-16 * 15 /
// 0.02 ~ 1e-13 at the noise end of the T = 1024 grid (abar_T ~ 1e-13), (b) the Cholesky solve for C = abar Sigma + (1-abar) I
// (condition number <= ~30 here, ~1e-14), (c) the Gauss-Kronrod quadrature of C_t (1e-14
// requested), and (d) forming a block by differencing two probe outputs, whose magnitudes
// exceed the block by at most ~|b|/|N| ~ 40 sqrt(beta) here. Measured worst: 8.4e-14
// (printed by SamplerOneStepReport). 1e-12 leaves a margin of ~10 over the worst of these,
// and is ~1e4 below the smallest change any mutation of a coefficient by a relative O(beta)
// (beta >= 4e-8 here) would make. One exception to "relative to the block": the
// DPM-Solver++(2M) coefficient of Y_{t+1} is measured relative to the size of the terms that
// form it, because the data prediction it goes through cancels catastrophically near the
// noise end (see GaussianClosedForms::two_step).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "samplers/gaussian_affine_reference.hpp"
#include "samplers/registry.hpp"
#include "schedules/logsnr_uniform_schedule.hpp"
#include "schedules/theory_schedule.hpp"
#include "targets/gaussian.hpp"

namespace dmconv::test {
namespace {

constexpr double kOneStepTolerance = 1e-12;

// The docs/theory.md §6.2 target N(1.5, 0.25) in 1-D, and a 3-D target with a full anisotropic
// covariance (eigenvalues ~0.64, 0.20, 0.03) and non-zero mean.
struct GaussianProblem {
  std::string label;
  Vector mu;
  Matrix sigma;
};

std::vector<GaussianProblem> gaussian_problems() {
  Matrix sigma3(3, 3);
  sigma3 << 0.50, 0.20, -0.10,  //
      0.20, 0.30, 0.05,         //
      -0.10, 0.05, 0.08;
  return {{"1-D N(1.5, 0.25)", Vector::Constant(1, 1.5), Matrix::Constant(1, 1, 0.25)},
          {"3-D full covariance", Vector{{1.0, -0.5, 2.0}}, sigma3}};
}

std::unique_ptr<GaussianTarget> make_target(const GaussianProblem& problem) {
  if (problem.mu.size() == 1)
    return std::make_unique<GaussianTarget>(GaussianComponent::isotropic(problem.mu, problem.sigma(0, 0), "test"));
  return std::make_unique<GaussianTarget>(GaussianComponent::full(problem.mu, problem.sigma, "test"));
}

// A grid and the indices t at which to probe it.
struct GridCase {
  std::string label;
  TimeGrid grid;
  std::vector<int> steps;  // plain steps (fresh state)
};

// Theory schedule (docs/theory.md §2) with c0 = 2, c1 = 6: probe t = T, a phase-1 t, a phase-2 t,
// t = 2 and t = 1. Phase 1 ends at t* = floor(c0 ln T / ln(1 + h)), h = c1 ln T / T; the
// chosen indices are checked to lie in the phases (growing resp. constant beta).
GridCase theory_case(int T) {
  const double c0 = 2.0, c1 = 6.0;
  const double h = c1 * std::log(T) / T;
  const int t_star = static_cast<int>(std::floor(c0 * std::log(T) / std::log1p(h)));
  const int phase1 = std::max(3, t_star / 2);
  const int phase2 = (t_star + T) / 2;
  TimeGrid grid = TheorySchedule(c0, c1).grid(T);
  EXPECT_LT(grid.beta(phase1), grid.beta(phase1 + 1)) << "t = " << phase1 << " is not in phase 1 at T = " << T;
  EXPECT_EQ(grid.beta(phase2), grid.beta(phase2 + 1)) << "t = " << phase2 << " is not in phase 2 at T = " << T;
  return {"theory(c0=2,c1=6) T=" + std::to_string(T), std::move(grid), {T, phase1, phase2, 2, 1}};
}

std::vector<GridCase> grid_cases() {
  std::vector<GridCase> cases;
  for (int T : {64, 256, 1024}) cases.push_back(theory_case(T));
  // A respaced-style grid built from levels (alpha_t = abar_t/abar_{t-1}, docs/theory.md §4).
  cases.push_back({"logsnr_uniform T=40", LogSnrUniformSchedule(1e-4, 1e-6).grid(40), {40, 20, 2, 1}});
  return cases;
}

struct Measurement {
  std::string where;
  double error;
};

// Every probe of one sampler: plain steps at each t, and for multistep samplers the second
// step (cache from t + 1) at t = T-1 and at each t < T.
std::vector<Measurement> measure_one_step_errors(const std::string& name) {
  const auto sampler = sampler_registry().make_example(name);
  std::vector<Measurement> out;
  for (const GaussianProblem& problem : gaussian_problems()) {
    const auto target = make_target(problem);
    const ExactScore score(*target);
    for (const GridCase& grid_case : grid_cases()) {
      const GaussianClosedForms closed(grid_case.grid, problem.mu, problem.sigma);
      std::vector<int> two_step_ts;
      for (int t : grid_case.steps) {
        const std::string where = problem.label + ", " + grid_case.label + ", t=" + std::to_string(t);
        out.push_back({where + " (plain step)",
                       max_relative_error(probe_plain_step(*sampler, score, grid_case.grid, t), closed.plain(name, t))});
        two_step_ts.push_back(t == grid_case.grid.steps() ? t - 1 : t);
      }
      if (!is_multistep(name)) continue;
      for (int t : two_step_ts) {
        const std::string where = problem.label + ", " + grid_case.label + ", t=" + std::to_string(t);
        out.push_back({where + " (second step, cache from t+1)",
                       max_relative_error(probe_two_step(*sampler, score, grid_case.grid, t), closed.two_step(name, t))});
      }
    }
  }
  return out;
}

class SamplerOneStep : public ::testing::TestWithParam<std::string> {};

TEST_P(SamplerOneStep, MatchesTheClosedFormOnGaussianTargets) {
  double worst = 0.0;
  for (const Measurement& m : measure_one_step_errors(GetParam())) {
    EXPECT_LE(m.error, kOneStepTolerance) << GetParam() << ": " << m.where;
    worst = std::max(worst, m.error);
  }
  std::ostringstream text;
  text << std::setprecision(3) << worst;
  RecordProperty("max_relative_error", text.str());
}

INSTANTIATE_TEST_SUITE_P(AllSamplers, SamplerOneStep, ::testing::ValuesIn(samplers_with_closed_form()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

// A sampler added to the registry needs a closed form here (or an explicit exemption).
// Exempt: the predictor-corrector samplers, whose steps are a predictor with a closed form
// above (ddim, acc_ode_noise, dpm_solver_2, ddpm, ddpm_noise_outside, called as is) plus
// corrector steps; song_pc's SNR step rule is not affine. Their exact tests (Gaussian moment
// recursions, composition, Algorithm 5 by hand) are in pmm_pc_test.cpp and song_pc_test.cpp.
// Also exempt here: edm_heun and euler_ancestral, whose steps depend on parameters the example
// instance fixes (churn, eta), and the multistep ipndm and unipc, whose steps use up to three
// earlier outputs, and dpm_solver_pp_2m_sde (multistep and stochastic, with eta and solver_type);
// practitioner_samplers_test.cpp checks them against the papers' algorithms in 50 digits, step by
// step for several parameter sets, resp. over whole runs (noise included).
TEST(SamplerOneStepCoverage, EveryRegisteredSamplerHasAClosedForm) {
  const auto& names = samplers_with_closed_form();
  const std::vector<std::string> exempt{"pmm_pc", "song_pc", "edm_heun", "euler_ancestral", "ipndm", "unipc",
                                        "dpm_solver_pp_2m_sde"};
  for (const auto& entry : sampler_registry().entries())
    if (std::find(exempt.begin(), exempt.end(), entry.name) == exempt.end()) {
      EXPECT_NE(std::find(names.begin(), names.end(), entry.name), names.end())
          << "sampler '" << entry.name << "' has no one-step closed form in tests/samplers";
    }
}

// The figures quoted in the closing note: the largest one-step relative error per sampler over
// all probes above (both targets, all grids, all t, plain and second steps).
TEST(SamplerOneStepReport, MaximumRelativeErrorPerSampler) {
  std::cout << "[ one-step ] max normwise relative error vs 50-digit closed form (tolerance "
            << kOneStepTolerance << ")\n";
  for (const std::string& name : samplers_with_closed_form()) {
    Measurement worst{"", 0.0};
    std::size_t probes = 0;
    for (const Measurement& m : measure_one_step_errors(name)) {
      ++probes;
      if (m.error >= worst.error) worst = m;
    }
    std::ostringstream text;
    text << std::scientific << std::setprecision(2) << worst.error;
    RecordProperty(name, text.str());
    std::cout << "[ one-step ] " << std::left << std::setw(20) << name << text.str() << "  over " << probes
              << " probes; worst at " << worst.where << "\n";
    EXPECT_LE(worst.error, kOneStepTolerance);
  }
}

// ---------------------------------------------------------------------------------------
// docs/theory.md §6.1 variance maps in 1-D, read off the probed step. For a target N(m, v) the
// exact marginal at level t is N(sqrt(abar_t) m, v_t), v_t = abar_t v + 1 - abar_t. An affine
// step Y' = A Y + b + sum_k N_k Z_k maps it to N(A sqrt(abar_t) m + b, A^2 v_t + sum_k N_k^2).
//
// Derivations (J = -1/v_t, alpha = 1 - beta, v_{t-1} = (v_t - beta)/alpha exactly, since
// abar_{t-1} = abar_t/alpha):
//   DDPM (2.4):  A = (1 - beta/v_t)/sqrt(alpha), N^2 = beta/alpha
//                Var = ((v_t - beta)^2/v_t + beta)/alpha = v_{t-1} + beta^2/(alpha v_t)   exactly.
//   (A): Var = [(v_t - beta)^2 (v_t + beta/2)/v_t^2 + beta/2]/alpha
//            = v_{t-1} + beta^3/(2 alpha v_t^2)                                       exactly,
//   (B): Var = (v_t - beta)^2 (v_t + beta/2)/(alpha v_t^2) + beta/2
//            = v_{t-1} - beta^2/(2 alpha) + beta^3/(2 alpha v_t^2),
//   (C): Var = (v_t - beta)^2 (v_t + alpha beta/2)/(alpha v_t^2) + beta/2
//            = v_{t-1} - beta^2/alpha + beta^3/(alpha v_t) + beta^3/(2 v_t^2).
// All four keep the mean exact: A sqrt(abar_t) m + b = sqrt(abar_{t-1}) m.
// ---------------------------------------------------------------------------------------

struct OneDLaw {
  double mean;
  double variance;
};

constexpr double kM = 1.5, kV = 0.25;  // docs/theory.md §6.2 target

OneDLaw output_law(const std::string& name, const TimeGrid& grid, int t) {
  const GaussianTarget target(GaussianComponent::isotropic(Vector::Constant(1, kM), kV, "test"));
  const ExactScore score(target);
  const auto sampler = sampler_registry().make_example(name);
  const ProbedStep p = probe_plain_step(*sampler, score, grid, t);
  const double a = p.A(0, 0);
  const double v_t = grid.abar(t) * kV + grid.one_minus_abar(t);
  double variance = a * a * v_t;
  for (const Matrix& n : p.N) variance += n(0, 0) * n(0, 0);
  return {a * grid.level(t).sqrt_abar() * kM + p.b(0), variance};
}

double v_level(const TimeGrid& grid, int t) { return grid.abar(t) * kV + grid.one_minus_abar(t); }

// A two-level grid with abar_2 = 0.6 fixed and beta_2 = beta, so that v_t is the same for
// every beta and only the step size changes.
TimeGrid step_size_grid(double beta) {
  const double abar_t = 0.6;
  return TimeGrid::from_levels({NoiseLevel::from_abar(abar_t / (1.0 - beta)), NoiseLevel::from_abar(abar_t)});
}

TEST(SamplerVarianceMap, DdpmOverDispersesByExactlyBetaSquaredOverAlphaVt) {
  // On the theory grids at every probed t, and on large steps where the excess is visible.
  for (const GridCase& grid_case : grid_cases()) {
    for (int t : grid_case.steps) {
      if (t == 1) continue;
      const TimeGrid& grid = grid_case.grid;
      const double beta = grid.beta(t), alpha = 1.0 - beta, v_t = v_level(grid, t);
      const OneDLaw law = output_law("ddpm", grid, t);
      const double expected = v_level(grid, t - 1) + beta * beta / (alpha * v_t);
      EXPECT_NEAR(law.variance, expected, 1e-14 * expected) << grid_case.label << " t=" << t;
      EXPECT_NEAR(law.mean, grid.level(t - 1).sqrt_abar() * kM, 1e-14) << grid_case.label << " t=" << t;
    }
  }
  for (double beta : {0.02, 0.01, 0.005}) {
    const TimeGrid grid = step_size_grid(beta);
    const double b = grid.beta(2), alpha = 1.0 - b, v_t = v_level(grid, 2);
    const double excess = output_law("ddpm", grid, 2).variance - v_level(grid, 1);
    // The excess ~1e-4 is a difference of O(1) numbers: ~1e-16/1e-4 = 1e-12 relative.
    EXPECT_NEAR(excess, b * b / (alpha * v_t), 1e-10 * b * b) << "beta = " << beta;
  }
}

// (A) is exact to O(beta^3); (B) and (C) err by -beta^2/(2 alpha) and -beta^2/alpha at O(beta^2).
TEST(SamplerVarianceMap, AcceleratedSdeVariantsHaveTheDerivedVarianceErrors) {
  struct Errors {
    double a, b, c;
  };
  auto errors = [](double beta_requested) {
    const TimeGrid grid = step_size_grid(beta_requested);
    const double beta = grid.beta(2), alpha = 1.0 - beta, v_t = v_level(grid, 2), v_prev = v_level(grid, 1);
    const double b3 = beta * beta * beta;
    Errors e{output_law("acc_sde_a", grid, 2).variance - v_prev, output_law("acc_sde_b", grid, 2).variance - v_prev,
             output_law("acc_sde_c", grid, 2).variance - v_prev};
    // Exact remainders (derivation above). The errors are differences of O(1) variances, so
    // they carry an absolute rounding error of a few 1e-16: tolerance 1e-13 absolute.
    EXPECT_NEAR(e.a, b3 / (2 * alpha * v_t * v_t), 1e-13) << "beta = " << beta;
    EXPECT_NEAR(e.b, -beta * beta / (2 * alpha) + b3 / (2 * alpha * v_t * v_t), 1e-13) << "beta = " << beta;
    EXPECT_NEAR(e.c, -beta * beta / alpha + b3 / (alpha * v_t) + b3 / (2 * v_t * v_t), 1e-13) << "beta = " << beta;
    // Leading orders.
    EXPECT_NEAR(e.b / (-beta * beta / (2 * alpha)), 1.0, 5 * beta) << "beta = " << beta;
    EXPECT_NEAR(e.c / (-beta * beta / alpha), 1.0, 5 * beta) << "beta = " << beta;
    // Remainders beyond the leading order.
    return Errors{e.a, e.b + beta * beta / (2 * alpha), e.c + beta * beta / alpha};
  };
  // Halving beta at fixed v_t: an O(beta^3) quantity shrinks by ~8, an O(beta^2) one by ~4.
  const Errors large = errors(0.04), small = errors(0.02);
  EXPECT_NEAR(std::log2(large.a / small.a), 3.0, 0.1) << "variant (A) variance error is not O(beta^3)";
  EXPECT_NEAR(std::log2(large.b / small.b), 3.0, 0.1) << "variant (B) error beyond -beta^2/(2 alpha) is not O(beta^3)";
  EXPECT_NEAR(std::log2(large.c / small.c), 3.0, 0.1) << "variant (C) error beyond -beta^2/alpha is not O(beta^3)";
}

}  // namespace
}  // namespace dmconv::test
