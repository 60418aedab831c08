// The momentum coefficient C_t of the accelerated ODE sampler, noise-prediction form
// (docs/theory.md §4.4b), against its defining arcsin closed form evaluated in 50 digits
// (exact_reference.hpp):
//
//   C_t = sqrt(abar_{t-1}) / (abar_t - abar_{t+1}) *
//         [ abar_t sqrt((1-abar_{t-1})/abar_{t-1}) + arcsin sqrt(abar_{t-1})
//           - abar_t sqrt((1-abar_t)/abar_t)       - arcsin sqrt(abar_t) ].
//
// The code evaluates the bracket as a cancellation-free integral by Gauss-Kronrod quadrature;
// the reference uses the closed form literally, with enough digits that its cancellation
// (the bracket is O(h^2 u^3) from O(1) terms; at most ~17 of 50 digits are lost on these
// grids) is harmless.
//
// Tolerance: 1e-14 + 16 eps / h_t relative, h_t = lambda_{t-1} - lambda_t. The code's inputs
// are the grid's doubles; it forms u = sqrt((1-abar)/abar) = e^{-lambda} with ~1 ulp of
// rounding, and the O(h^2) bracket is sensitive to a relative perturbation delta of u_t or
// u_{t-1} as ~2 delta/h (its integrand vanishes at u_t; the interval has relative length h).
// Measured: error ~ 6 eps/h throughout phase 2 (1.1e-13 at T = 4096, 3.4e-14 at T = 1024),
// and the 1e-14 is the requested quadrature tolerance. The bound is <= 1e-13 for T <= 1024
// and <= 3e-13 at T = 4096, ~1e11 times smaller than the change that using beta_t instead of
// beta_{t+1} (or any O(h) slip) makes.
#include <gtest/gtest.h>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>

#include "samplers/accelerated_ode_noise.hpp"
#include "samplers/exact_reference.hpp"
#include "schedules/logsnr_uniform_schedule.hpp"
#include "schedules/theory_schedule.hpp"

namespace dmconv::test {
namespace {

using samplers::AcceleratedOdeNoise;

constexpr double kEps = std::numeric_limits<double>::epsilon();

// 1e-14 + 16 eps / h_t (see the header), h_t from the exact levels.
double coefficient_tolerance(const TimeGrid& grid, int t) {
  const Real h = exact_level(grid, t - 1).lambda() - exact_level(grid, t).lambda();
  return 1e-14 + 16 * kEps / static_cast<double>(h);
}

struct CoefficientGrid {
  std::string label;
  TimeGrid grid;
};

std::vector<CoefficientGrid> coefficient_grids() {
  // c1 = 6 needs c1 log T / T < 1, i.e. T >= 32; T = 16 uses c1 = 4 (docs/theory.md §2 table).
  return {{"theory(c0=2,c1=4) T=16", TheorySchedule(2.0, 4.0).grid(16)},
          {"theory(c0=2,c1=6) T=64", TheorySchedule(2.0, 6.0).grid(64)},
          {"theory(c0=2,c1=6) T=1024", TheorySchedule(2.0, 6.0).grid(1024)},
          {"theory(c0=2,c1=6) T=4096", TheorySchedule(2.0, 6.0).grid(4096)},
          {"logsnr_uniform(1e-4,1e-6) T=200", LogSnrUniformSchedule(1e-4, 1e-6).grid(200)}};
}

double relative(double got, const Real& expected) {
  return static_cast<double>(abs((Real(got) - expected) / expected));
}

// All t in 2..T-1, plus t = 1, where abar_0 = 1 and C_1 is finite (docs/theory.md §4.4b boundary);
// there h_1 = +inf and the tolerance is 1e-14.
TEST(AcceleratedOdeCoefficient, MatchesTheArcsinClosedFormIn50Digits) {
  for (const CoefficientGrid& g : coefficient_grids()) {
    double worst = 0.0;
    int worst_t = 0;
    for (int t = 1; t <= g.grid.steps() - 1; ++t) {
      const Real expected = momentum_coefficient_exact(g.grid, t);
      ASSERT_GT(expected, 0) << g.label << " t=" << t;  // the integrand of the bracket is >= 0
      const double error = relative(AcceleratedOdeNoise::momentum_coefficient(g.grid, t), expected);
      EXPECT_LE(error, coefficient_tolerance(g.grid, t)) << g.label << " t=" << t << " C_t=" << static_cast<double>(expected);
      if (error > worst) worst = error, worst_t = t;
    }
    std::cout << "[ C_t      ] " << std::left << std::setw(34) << g.label << " max relative error " << std::scientific
              << std::setprecision(2) << worst << " (t=" << worst_t << ")\n";
  }
}

// The same comparison with abar_{t+1} taken from the grid's stored level(t+1) instead of
// abar_t (1 - beta_{t+1}). The two differ only by the grid's own rounding (the cumulative
// log sum of a from_betas grid carries ~ulp(log abar_T) absolute error, i.e. up to
// ~3.6e-15/beta_{t+1} relative in abar_t - abar_{t+1}: ~3e-13 at T = 4096), so the tolerance
// is 1e-12; this shows the literal closed form is matched to the precision the grid has.
TEST(AcceleratedOdeCoefficient, MatchesTheClosedFormWithStoredNextLevel) {
  for (const CoefficientGrid& g : coefficient_grids()) {
    for (int t = 1; t <= g.grid.steps() - 1; ++t) {
      const Real expected = momentum_coefficient_exact(exact_level(g.grid, t - 1), exact_level(g.grid, t),
                                                       exact_level(g.grid, t + 1).a);
      EXPECT_LE(relative(AcceleratedOdeNoise::momentum_coefficient(g.grid, t), expected), 1e-12)
          << g.label << " t=" << t;
    }
  }
}

// Why the code does not evaluate the closed form in double: the bracket is O(h^2 u^3),
// u = sqrt((1-abar)/abar), formed from O(1) terms (arcsin sqrt(abar) ~ pi/2 near the data
// end), so the naive double evaluation loses ~log10(1/(h^2 u^3)) digits. Measured (this test
// prints it), worst relative error over t of the naive double closed form:
//   theory T=16: 1.6e-11,  T=64: 1.8e-8,  T=1024: 1.6e-1,  T=4096: 6.5e+2 (wrong in every
//   digit near t = 2),  logsnr_uniform T=200: 2.3e-6;
// against <= 1.1e-13 for the code's quadrature.
TEST(AcceleratedOdeCoefficient, NaiveDoubleClosedFormWouldFail) {
  for (const CoefficientGrid& g : coefficient_grids()) {
    double worst_naive = 0.0;
    for (int t = 1; t <= g.grid.steps() - 1; ++t) {
      const NoiseLevel& prev = g.grid.level(t - 1);
      const NoiseLevel& now = g.grid.level(t);
      const double next_abar = g.grid.abar(t + 1);
      const double naive = std::sqrt(prev.abar()) / (now.abar() - next_abar) *
                           (now.abar() * std::sqrt(prev.one_minus_abar() / prev.abar()) + std::asin(std::sqrt(prev.abar())) -
                            now.abar() * std::sqrt(now.one_minus_abar() / now.abar()) - std::asin(std::sqrt(now.abar())));
      worst_naive = std::max(worst_naive, relative(naive, momentum_coefficient_exact(g.grid, t)));
    }
    std::cout << "[ C_t naive] " << std::left << std::setw(34) << g.label << " max relative error " << std::scientific
              << std::setprecision(2) << worst_naive << "\n";
    if (g.grid.steps() >= 1024) {
      EXPECT_GT(worst_naive, 1e-3) << g.label;
    }
  }
}

}  // namespace
}  // namespace dmconv::test
