// Distances for deterministic samplers from exact output densities (change of variables,
// see flow_density.hpp). With r = log p_X(Y) - log p_Y(Y) evaluated at Y = Phi(Y_T):
//
//   TV               = E_Y[ |1 - e^r| ] / 2
//   KL(p_Y || p_X)   = E_Y[ e^r - 1 - r ]                (E_Y[e^r] = 1: control variate)
//   KL(p_X || p_Y)   = E_Y[ r e^r - (e^r - 1) ]
//   H^2              = E_Y[ (1 - e^{r/2})^2 ] / 2
//
// All integrands are non-negative and O(r^2) (TV: O(|r|)), which keeps relative accuracy for
// tiny distances. Two estimators:
//   change_of_variables             Monte Carlo over Y_T ~ initial law, any d; unbiased, with SE
//   change_of_variables_quadrature  tensor Gauss-Legendre quadrature over Y_T, d <= 2; the
//                                   reported floor is |Q(n panels) - Q(n/2 panels)|
// Both need a deterministic sampler and a score model with a Jacobian. The comparison law is
// p_{X_stop} of the target (stop = problem.run.stop_index).
#pragma once
#include "core/estimator.hpp"

namespace dmconv {

class ChangeOfVariablesEstimator final : public Estimator {
 public:
  std::string name() const override { return "change_of_variables"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
};

class ChangeOfVariablesQuadrature final : public Estimator {
 public:
  // panels: Gauss-Legendre panels per axis (default 4096 in 1-D, 192 in 2-D when 0);
  // order: nodes per panel (2..20).
  ChangeOfVariablesQuadrature(int panels, int order);
  std::string name() const override { return "change_of_variables_quadrature"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;

 private:
  int panels_;
  int order_;
};

}  // namespace dmconv
