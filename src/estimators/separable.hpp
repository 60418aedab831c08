// Separable targets in any d: exact d-dimensional KL and Hellinger, and TV, from the 1-D law of
// one coordinate (estimator "separable").
//
// Source: docs/theory.md §6.5 ("Dimension") and §7 claim 19; issue 3, deliverable 1d ("Separable
// targets in any d: exact d-dimensional KL, Hellinger and TV from 1-D laws").
//
// Why it is exact. For p_data = q (x) ... (x) q (d copies of the 1-D factor q =
// Target::product_factor()) and the exact score, every sampler acts coordinate-wise with independent noise: the score is
// separable, step coefficients are scalars, the noise is i.i.d. per coordinate, and Y_T ~
// p_{X_T} = q_T^{(x)d} or N(0, I). So p_Y = p_{Y,1}^{(x)d} and p_X = p_{X,1}^{(x)d}, where p_{Y,1}
// is the output law of the 1-D problem: the same sampler, TimeGrid and RunOptions, target
// q = Target::product_factor(), score ExactScore(q). With r = log p_{X,1}(y) - log p_{Y,1}(y) per
// coordinate and S = r(y_1) + ... + r(y_d):
//
//   KL(p_Y || p_X) = d KL(p_{Y,1} || p_{X,1})          "kl_output_target"
//   KL(p_X || p_Y) = d KL(p_{X,1} || p_{Y,1})          "kl_target_output"
//   1 - H^2_d = (1 - H^2_1)^d,  computed as H^2_d = -expm1(d log1p(-H^2_1))  (keeps the digits
//                                                      when H^2 << 1)      "hellinger"
//   TV_d = E_{p_Y}[ (1 - e^S)_+ ]                                              "tv"
//
// The 1-D law, by the sampler's kind:
//   deterministic: ChangeOfVariablesQuadrature on the 1-D problem (Gauss-Legendre over Y_T; the
//     flow map Phi and log|Phi'| by push_forward_with_log_det, p_{Y,1}(Phi(u)) = p_{Y_T}(u) / |Phi'(u)|);
//   stochastic: propagate_grid_law on the 1-D problem (estimator grid_law's grid and box).
// The 1-D metrics and their floors are exactly those the 1-D estimators report for the 1-D
// problem (same code, identical bits; tested). Each also gives a discrete representation of the
// 1-D law, FactorAtoms: atoms k, sorted by position y_k, with p_Y-mass a_k, p_X-mass b_k and
// r_k = log(b_k / a_k):
//   quadrature: node u_k with weight w_k, y_k = Phi(u_k), a_k = w_k p_{Y_T}(u_k),
//               b_k = a_k e^{r_k} = w_k p_{X,1}(y_k) |Phi'(u_k)|;
//   grid:       grid point x_k, a_k = p_Y(x_k) h, b_k = p_X(x_k) h (p_X exact), r_k from the exact
//               log p_X; where p_Y < 1e-15 max p_Y (its FFT round-off level, grid_law's clamp)
//               a_k = 0 and r_k = +inf: such points keep their p_X mass (the TV formulas below
//               are exact for p_Y = 0: those atoms are never drawn under p_Y and contribute no
//               positive part), so nothing needs clamping.
// Both laws are normalised to total mass 1 (r shifted accordingly); the defects are in the
// floors (< 1e-30 for the quadrature box, grid_law's truncation budget for the grid).
//
// TV by dimension:
//   d = 1:  the 1-D estimator's TV (quadrature sum, or grid_law's spectral line integral).
//   d = 2 (d <= exact_tv_max_dim): the exact double sum over atom pairs of the discrete law,
//             TV_2 = sum_{j,k: r_j + r_k < 0} (a_j a_k - b_j b_k),
//           in O(n log n) by sorting the atoms by r with prefix sums of a and b. kExact.
//   d >= 3: unbiased Monte Carlo over the discrete law p_Y^d with n = problem.run.particles
//           draws and a control variate:
//             TV_d = E[ g + beta (c - E c) ],  g = (1 - e^S)_+,  c = e^{S/2},
//             E c = (sum_k a_k e^{r_k/2})^d = (1 - H^2_1)^d of the discrete law (exact),
//           beta = -Cov(g, c) / Var(c) from 4096 pilot draws of their own streams (so the main
//           estimate is exactly unbiased for the discrete law), SE = sd(g + beta c) / sqrt(n).
//           Draw p (global index run.first_particle + j; pilot: p = 0..4095) takes its coordinate
//           i from U = uniform(p, tag, i) of RandomStreams(run.seed, run.run), tag (kTargetSample,
//           kSeparableTvStreamIndex, sub 0; pilot sub 1), through the inverse CDF (binary search)
//           of the atoms in position order. kUnbiasedMonteCarlo. Blocks of draws run in parallel
//           (OpenMP, run.threads) and are summed in a fixed order: bitwise the same for every
//           thread count.
//           Why this form. (1 - e^S)_+ needs only p_Y (exact even where p_Y = 0) and is bounded;
//           c has finite variance (E c^2 = E e^S <= 1) and, as S -> 0, g ~ (|S| - S)/2 and
//           c - 1 ~ S/2, so the regression removes the linear part of g. Per-draw variances
//           (n x Var of the estimate; docs/theory.md §6.3 mixture factor, 2e5-4e5 draws from the discrete
//           law, in-sample optimal beta):
//                                         TV_d  | (1-e^S)_+ | (1/2)|1-e^S| | (1-e^S)_+ with c | |tanh(S/2)|, M
//             acc_ode_noise T=256, d=8   0.0047 |  7.7e-5   |   1.8e-5     |     1.5e-5       |   1.8e-5
//             ddim T=64, d=2             0.065  |  1.0e-2   |   3.9e-3     |     3.0e-3       |   3.8e-3
//             ddim T=64, d=8             0.141  |  3.1e-2   |   1.5e-2     |     8.6e-3       |   1.2e-2
//             ddim T=64, d=32            0.282  |  8.0e-2   |   9.2e-2     |     2.4e-2       |   3.7e-2
//             ddim T=64, d=128           0.531  |  1.4e-1   |   1.4        |     5.1e-2       |   8.1e-2
//             ddpm T=64, d=8             0.199  |  6.0e-2   |   2.2e-2     |     1.2e-2       |   2.1e-2
//             ddpm T=64, d=32            0.389  |  1.2e-1   |   2.0e-1     |     3.3e-2       |   5.9e-2
//             ode_euler T=64, d=2        0.705  |  1.8e-1   |   5.5e-1     |     2.5e-2       |   6.0e-2
//             ode_euler T=64, d=8        0.975  |  2.1e-2   |   1.6e+2     |     1.3e-2       |   9.6e-3
//           The symmetric form (1/2)|1 - e^S| (= g + (e^S - 1)/2, i.e. the control variate e^S
//           with beta = 1/2) is good only for small S: its variance involves E e^{2S} =
//           (sum_k b_k^2 / a_k)^d, which grows exponentially in d. The stratified mixture
//           estimator |tanh(S/2)| under M = (p_Y + p_X)/2 (gaussian_tv_monte_carlo's) is bounded
//           but 1.3-2.4x worse except when TV_d is within a few % of 1; adding the control variates
//           e^{+-S/2} to it gained < 30%.
//
// Floors. floor_1 = the 1-D estimator's floor (quadrature: |Q(n panels) - Q(n/2 panels)|; grid:
// |value(N) - value(N/2)| + truncation budget B). Then
//   KL:   d floor_1;   H^2: d (1 - H^2_1)^{d-1} floor_1 (the derivative of H^2_d in H^2_1);
//   TV:   d = 1: floor_1; d >= 2: |TV(fine atoms) - TV(coarse atoms)| + d B, the coarse TV
//         computed with the same uniforms (quantile coupling, so the difference is the
//         discretisation effect, not Monte Carlo noise); d B since the L1 distance of d-fold
//         products is at most d times that of the factors.
//
// Preconditions (unsupported_reason otherwise): the target has a product factor; the score model
// is the exact score of that very target object (ScoreModel::exact_score_of(); a perturbed score
// need not be separable); the 1-D problem is supported by change_of_variables_quadrature
// (deterministic samplers) or grid_law (stochastic samplers); for Monte Carlo TV (d > exact_tv_max_dim), run.particles >= 2.
// A failed grid-law propagation (status not kOk) yields the four metrics with value and floor NaN
// and the grid_law message in `method`, as grid_law does.
//
// Cost: one 1-D estimate (fine + coarse), independent of d, plus for d >= 3 about 2 n d Philox
// uniforms and binary searches (fine and coarse atoms).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/estimator.hpp"
#include "estimators/change_of_variables.hpp"
#include "estimators/grid_law.hpp"

namespace dmconv::estimators {

// Stream index of the Monte Carlo TV draws: tag (kTargetSample, kSeparableTvStreamIndex).
inline constexpr std::uint64_t kSeparableTvStreamIndex = 0x5e9au;

// A discrete 1-D law pair on common atoms (see the file comment), sorted by position, each
// law normalised to total mass 1.
struct FactorAtoms {
  Vector position;     // y_k, non-decreasing
  Vector output_mass;  // a_k >= 0 (p_Y), sum 1
  Vector target_mass;  // b_k >= 0 (p_X), sum 1
  Vector log_ratio;    // r_k = log(b_k / a_k); +inf where a_k = 0
  Eigen::Index size() const { return position.size(); }
};

// The 1-D problem solved at the fine and the coarse resolution.
struct FactorSolution {
  bool ok = true;
  std::string message;  // the grid_law failure when !ok
  // {tv, kl_target_output, kl_output_target, hellinger} of the 1-D problem and their floors,
  // exactly as the 1-D estimator reports them.
  std::array<double, 4> value{}, floor{};
  double truncation = 0.0;  // grid: the truncation budget B inside floor (0 for quadrature)
  FactorAtoms fine, coarse;
  bool has_coarse = true;   // false when the coarse grid-law run failed (its floors are +inf)
  std::string method;       // the 1-D estimator and its settings
};

struct SeparableOptions {
  int panels = 0;               // quadrature panels for deterministic samplers (0: 4096)
  int order = 8;                // Gauss-Legendre nodes per panel (2..10, 15, 20)
  GridLawOptions grid = {};     // stochastic samplers (points 0: 4096; half_width 0: default box)
  int exact_tv_max_dim = 2;     // TV by exact pair sum for d <= this (1 or 2); Monte Carlo above
};

// TV of the 2-fold products, TV(P (x) P, Q (x) Q), of the normalised discrete laws P = (a_k),
// Q = (b_k): sum over pairs with r_j + r_k < 0 of (a_j a_k - b_j b_k). O(n log n).
double tv_of_square(const FactorAtoms& atoms);

struct SeparableTvMonteCarlo {
  double value = 0.0;                // on the fine atoms
  double std_error = 0.0;
  double coarse_value = 0.0;         // the same uniforms on the coarse atoms (NaN without them)
  double control_coefficient = 0.0;  // beta (from the pilot draws)
  Eigen::Index draws = 0;
};

// TV(P^d, Q^d) of the normalised discrete laws by the Monte Carlo of the file comment: main
// draws (first_particle + j), j < n, pilot draws 0..4095, from RandomStreams(seed, run).
// coarse may be null. Precondition: d >= 1, n >= 2, normalised atoms.
SeparableTvMonteCarlo tv_of_power_monte_carlo(const FactorAtoms& fine, const FactorAtoms* coarse, int d,
                                              Eigen::Index n, std::uint64_t seed, std::uint64_t run,
                                              std::uint64_t first_particle, int threads = 0);

class SeparableEstimator final : public Estimator {
 public:
  // Throws InvalidArgument for invalid options (those of the two 1-D estimators, and
  // exact_tv_max_dim not in {1, 2}).
  explicit SeparableEstimator(SeparableOptions options = {});
  std::string name() const override { return "separable"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  // {tv, kl_target_output, kl_output_target, hellinger} of the d-dimensional problem.
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
  // The resolution rule of the 1-D estimator that solves the factor problem (quadrature panels or
  // grid points, docs/theory.md §6.7), applied to that problem.
  void check_resolution(const EstimationProblem& problem) const override;

  // The 1-D problem's laws and metrics. Precondition: factor_problem.target.dim() == 1 and it is
  // supported by the 1-D estimator for its sampler kind (see unsupported_reason).
  FactorSolution solve_factor(const EstimationProblem& factor_problem) const;
  const SeparableOptions& options() const { return options_; }

 private:
  SeparableOptions options_;
  ChangeOfVariablesQuadrature quadrature_;
  GridLawEstimator grid_law_;
};

}  // namespace dmconv::estimators
