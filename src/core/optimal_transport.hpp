// Exact optimal-transport W2 between two samples (issue 6 (c)): for equal-size empirical laws
// mu_n = (1/n) sum_i delta_{x_i}, nu_n = (1/n) sum_j delta_{y_j},
//
//   W2^2(mu_n, nu_n) = min over couplings P (P 1 = 1/n, P^T 1 = 1/n, P >= 0) of sum_ij P_ij |x_i - y_j|^2
//                    = min over permutations s of (1/n) sum_i |x_i - y_s(i)|^2
//
// (the coupling polytope is n^{-1} x the Birkhoff polytope, whose vertices are permutation
// matrices, so the LP optimum is an assignment). Solved exactly, not entropically:
//   * d = 1: the monotone (sorted) matching is optimal; O(n log n), any n.
//   * d >= 2: minimum-cost flow on the complete bipartite graph (n^2 arcs) by the primal
//     network simplex of LEMON (lemon::NetworkSimplex, block-search pivot). LEMON requires
//     integer costs, so costs are scaled, C_ij = round(S |x_i - y_j|^2) with S = 2^40 / max_ij
//     |x_i - y_j|^2; the assignment optimal for C is optimal for the true costs up to
//     (1/n) sum_i |rounding| <= 1/S per unit mass: `rounding_bound` = 1/S (about 1e-12 of the
//     largest squared distance). The returned value is the true (unrounded) cost of that
//     assignment. Memory ~ 60 n^2 bytes, time roughly n^2.3: n = 2000 takes seconds.
#pragma once
#include <vector>

#include "core/types.hpp"

namespace dmconv {

struct AssignmentResult {
  double mean_squared_cost = 0.0;  // (1/n) sum_i |x_i - y_{assignment[i]}|^2 = W2^2(mu_n, nu_n)
  std::vector<int> assignment;     // x_i is matched to y_{assignment[i]}
  double rounding_bound = 0.0;     // optimality gap bound from integer cost scaling (0 for d = 1)
};

// Exact W2^2 between the empirical laws of the columns of x and y. Preconditions (checked,
// InvalidArgument): same shape, at least one column, all entries finite.
AssignmentResult exact_w2_squared(const Matrix& x, const Matrix& y);

}  // namespace dmconv
