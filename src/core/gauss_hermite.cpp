// Gauss–Hermite rule by Golub–Welsch with Newton polish (core/gauss_hermite.hpp).
#include "core/gauss_hermite.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include <Eigen/Eigenvalues>

#include "core/error.hpp"
#include "core/types.hpp"

namespace dmconv {

GaussHermiteRule gauss_hermite_rule(int n) {
  require(n >= 1 && n <= kMaxHermitePoints, "gauss_hermite_rule: n = " + std::to_string(n) + " must be in [1, " +
                                                std::to_string(kMaxHermitePoints) + "]");
  // Orthonormal Hermite polynomials for e^{-t^2}: p_0 = pi^{-1/4},
  // p_{k+1} = sqrt(2/(k+1)) t p_k - sqrt(k/(k+1)) p_{k-1};  p_n' = sqrt(2n) p_{n-1}.
  // Returns p_n(t), p_{n-1}(t) and sum_{k<n} p_k(t)^2. For |t| <= ~23 (n <= 256) p_k^2 <= ~e^{t^2}
  // stays far below the double range.
  const auto evaluate = [n](double t, double& pn, double& pn1, double& sum_squares) {
    double previous = 0.0, current = std::pow(std::numbers::pi, -0.25);
    sum_squares = 0.0;
    for (int k = 0; k < n; ++k) {
      sum_squares += current * current;
      const double next = std::sqrt(2.0 / (k + 1)) * t * current - std::sqrt(static_cast<double>(k) / (k + 1)) * previous;
      previous = current;
      current = next;
    }
    pn = current;
    pn1 = previous;
  };
  Vector diagonal = Vector::Zero(n), subdiagonal(std::max(n - 1, 0));
  for (int k = 1; k < n; ++k) subdiagonal(k - 1) = std::sqrt(k / 2.0);
  Eigen::SelfAdjointEigenSolver<Matrix> solver;
  solver.computeFromTridiagonal(diagonal, subdiagonal, Eigen::EigenvaluesOnly);
  GaussHermiteRule rule;
  rule.nodes.resize(static_cast<std::size_t>(n));
  rule.weights.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    double t = solver.eigenvalues()(i), pn = 0.0, pn1 = 0.0, sum_squares = 0.0;
    for (int iteration = 0; iteration < 3; ++iteration) {  // Newton polish of the eigenvalue
      evaluate(t, pn, pn1, sum_squares);
      t -= pn / (std::sqrt(2.0 * n) * pn1);
    }
    rule.nodes[static_cast<std::size_t>(i)] = t;
  }
  // The rule is symmetric; enforce it exactly (the grid law's x -> -x symmetry relies on it).
  for (int i = 0; i < n / 2; ++i) {
    const double t = 0.5 * (rule.nodes[static_cast<std::size_t>(n - 1 - i)] - rule.nodes[static_cast<std::size_t>(i)]);
    rule.nodes[static_cast<std::size_t>(i)] = -t;
    rule.nodes[static_cast<std::size_t>(n - 1 - i)] = t;
  }
  if (n % 2 == 1) rule.nodes[static_cast<std::size_t>(n / 2)] = 0.0;
  for (int i = 0; i < n; ++i) {
    double pn = 0.0, pn1 = 0.0, sum_squares = 0.0;
    evaluate(rule.nodes[static_cast<std::size_t>(i)], pn, pn1, sum_squares);
    rule.weights[static_cast<std::size_t>(i)] = 1.0 / sum_squares;
  }
  return rule;
}

}  // namespace dmconv
