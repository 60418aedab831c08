// The n-point Gauss–Hermite rule for the weight e^{-t^2} (Golub & Welsch, Math. Comp. 23 (1969)):
//
//   sum_i w_i f(t_i) ≈ ∫ f(t) e^{-t^2} dt,   exact for polynomials of degree < 2n.
//
// The nodes are the eigenvalues of the Jacobi matrix of the Hermite polynomials (Eigen's
// tridiagonal eigensolver), Newton-polished; the weights come from the Christoffel function
// w_i = 1 / sum_{k<n} p_k(t_i)^2 of the orthonormal polynomials p_k, which keeps the tiny weights
// of the outer nodes accurate to relative rounding, unlike the squared eigenvector components.
// Boost 1.74 has no Gauss–Hermite class, hence this one.
#pragma once
#include <vector>

namespace dmconv {

inline constexpr int kMaxHermitePoints = 256;

// Nodes ascending and exactly symmetric (t_{n-1-i} = -t_i; the middle node of odd n is 0).
struct GaussHermiteRule {
  std::vector<double> nodes, weights;
};

// Precondition (InvalidArgument otherwise): 1 <= n <= kMaxHermitePoints.
GaussHermiteRule gauss_hermite_rule(int n);

}  // namespace dmconv
