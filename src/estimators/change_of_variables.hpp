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
#include <array>

#include "core/estimator.hpp"

namespace dmconv {

class ChangeOfVariablesEstimator final : public Estimator {
 public:
  std::string name() const override { return "change_of_variables"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
};

// The quadrature over Y_T as weighted atoms of the output law: node k of the tensor
// Gauss-Legendre rule (box centre +- 12 sd of the initial law per axis) is u_k with weight w_k;
// the atom sits at Y_k = Phi(u_k) with p_Y-mass w_k p_{Y_T}(u_k) (they sum to ~1) and
// r_k = log p_X(Y_k) - log p_Y(Y_k); its p_X-mass is w_k p_{Y_T}(u_k) e^{r_k}.
struct QuadratureAtoms {
  Matrix y_T;                   // d x n: the nodes u_k (panel by panel; within a panel not sorted)
  Matrix y;                     // d x n: Y_k = Phi(u_k)
  Vector weight;                // w_k
  Vector log_initial_density;   // log p_{Y_T}(u_k)
  Vector log_ratio;             // r_k
};

// {tv, kl_output_target, kl_target_output, hellinger} = sum_k w_k p_{Y_T}(u_k) f(r_k) with the
// integrands f of the file comment, summed in node order (what ChangeOfVariablesQuadrature reports).
std::array<double, 4> quadrature_distances(const QuadratureAtoms& atoms);

class ChangeOfVariablesQuadrature final : public Estimator {
 public:
  // panels: Gauss-Legendre panels per axis (default 4096 in 1-D, 192 in 2-D when 0);
  // order: nodes per panel (2..20).
  ChangeOfVariablesQuadrature(int panels, int order);
  std::string name() const override { return "change_of_variables_quadrature"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  // value = quadrature_distances(atoms(problem, panels(problem)));
  // floor = |value - quadrature_distances(atoms(problem, panels(problem) / 2))|.
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;
  // Resolution rule (docs/theory.md §6.7): the panel width 24 s_i / panels (the box is the
  // initial law's centre +- 12 s_i) must not exceed l / kPanelsPerSd, l the narrowest length
  // scale of the initial law p_{Y_T}: the narrowest component standard deviation at level T for
  // a Gaussian-mixture target, else sqrt(1 - abar_T) (p_T is a law convolved with
  // N(0, (1 - abar_T) I)), and 1 for the N(0, I) initialisation. Then the n/2 rule of the floor
  // still has one panel per standard deviation. Throws ParameterError on "panels" with the
  // smallest value that meets it.
  void check_resolution(const EstimationProblem& problem) const override;
  static constexpr double kPanelsPerSd = 2.0;

  // Panels per axis of the fine rule for this problem (the constructor's, or the default).
  int panels(const EstimationProblem& problem) const;
  int order() const { return order_; }
  // The atoms of the rule with panel_count panels per axis.
  // Precondition: unsupported_reason(problem) is empty, panel_count >= 1.
  QuadratureAtoms atoms(const EstimationProblem& problem, int panel_count) const;

 private:
  int panels_;
  int order_;
};

}  // namespace dmconv
