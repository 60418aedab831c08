// Rao-Blackwellised TV and Hellinger for stochastic samplers in low dimension (issue 6 (e)).
//
// A stochastic sampler whose last step has the StochasticScoreStep form
//   Y+ = Y_{s+1} + N(0, v_pre I),   Y_s = a Y+ + c s_{s+1}(Y+) + N(0, v_post I),   v_post > 0
// (DDPM, the accelerated stochastic samplers; s = stop_index) has, conditionally on (Y_{s+1}, Y+),
// the exact Gaussian kernel N(m(Y+), v_post I) with m(y) = a y + c s_{s+1}(y). Its output density
// is therefore the mixture over the law of Y+,
//
//   p_Y(x) = E phi_{v_post}(x - m(Y+)),    estimated by    p^_Y(x) = (1/n) sum_j phi_{v_post}(x - m_j),
//
// with m_j from n trajectories simulated exactly as the run does (same streams, same step
// contexts; the pre-noise of the last step from stream purpose kSampleEstimator, index 4).
// p^_Y(x) is unbiased for p_Y(x) at every x: the sampling noise of Y_s is integrated out in closed
// form (Rao-Blackwellisation), leaving only the noise of the n kernel centres. Then, with M exact
// evaluation points X_i ~ p_X = p_{X_s} (kSampleEstimator, index 3) and r^_i = p^_Y(X_i) / p_X(X_i):
//
//   TV(p_X, p_Y) = int (p_X - p_Y)_+ = E_X (1 - r(X))_+              ->  (1/M) sum_i (1 - r^_i)_+
//   H^2          = 1 - int sqrt(p_X p_Y) = 1 - E_X sqrt(r(X))         ->  1 - (1/M) sum_i sqrt(r^_i)
//
// Both maps r -> (1 - r)_+ and r -> -sqrt(r) are convex, so by Jensen the plug-in values are biased
// UPWARD by the noise of p^_Y (order Var(r^)/n-type terms near r = 1; it grows with d, as the kernel
// width sqrt(v_post) shrinks against the spacing of the n centres: hence "low d", max_dim = 3).
// Uncertainty by a delete-a-group jackknife over G = 16 groups (particles j and points i are split
// by index into the same G contiguous groups; T_(-g) drops group g of both):
//   std_error = sqrt((G-1)/G sum_g (T_(-g) - mean T_(-g))^2),
//   floor     = |(G-1)(mean T_(-g) - T)|, the jackknife estimate of the plug-in bias.
// Kind kBiasedWithFloor. Cost O(n M d) kernel evaluations (n = M = 1e4, d = 2: ~1 s on one core),
// OpenMP over points; deterministic for any thread count (per-point sums in a fixed order).
// Supported: samplers with a StochasticScoreStep at every step from T down to stop_index + 1 and
// v_post > 0 at the last one; targets with log_density; d <= max_dim. Parameters "points" (M,
// default n) and "max_dim" (default 3).
#pragma once
#include <string>
#include <vector>

#include "core/estimator.hpp"

namespace dmconv::estimators {

struct RaoBlackwellOptions {
  Eigen::Index points = 0;  // 0: as many evaluation points as particles
  int max_dim = 3;
  int groups = 16;
};

// The centres m_j (d x n) and the kernel variance v_post of the last step, simulated as in the run.
struct LastStepKernel {
  Matrix centres;
  double variance = 0.0;
  bool finite = true;
};
LastStepKernel last_step_kernel(const EstimationProblem& problem);

class RaoBlackwellTvEstimator final : public Estimator {
 public:
  explicit RaoBlackwellTvEstimator(RaoBlackwellOptions options = {});
  std::string name() const override { return "rao_blackwell"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  // Estimates for metrics "tv" and "hellinger".
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;

 private:
  RaoBlackwellOptions options_;
};

}  // namespace dmconv::estimators
