// The Gaussian-mixture score and log-density (targets/gaussian_mixture.hpp, docs/theory.md §8.1)
// evaluated eight particles at a time, one particle per SIMD lane:
//
//   log(pi_k N(x; m_k, C_k)) = c_k - q_k / 2,   c_k = log pi_k - (d log 2pi + log det C_k) / 2,
//   q_k = sum_i (x_i - m_ki)^2 / C_k,ii                (diagonal and isotropic C_k)
//   q_k = ||z||^2,  z = L_k^{-1} (x - m_k),  C_k = L_k L_k^T          (full C_k)
//   w_k = exp(l_k - max_j l_j) / sum_j exp(l_j - max_j l_j),
//   s   = sum_k w_k g_k,   g_k = (m_k - x) / diag C_k   or   -L_k^{-T} z
//   log p_t(x) = max_j l_j + log sum_k exp(l_k - max_j l_j)
//
// The residual x - m_k is formed before it is squared (no expansion ||x||^2 - 2 m.x + ||m||^2,
// whose cancellation near a mean at small noise would cost digits), so the result agrees with
// the column-by-column formula to rounding. Flops per particle: 8 d K (diagonal) or
// 2 d^2 K + 6 d K (full), plus K exponentials. Tiles live in a per-thread workspace, reused
// between calls: the step loop allocates nothing.
#pragma once
#include <vector>

#include "core/types.hpp"
#include "targets/gaussian_component.hpp"

namespace dmconv {

class MixtureScoreKernel {
 public:
  // The mixture at one noise level: log_weights[k] = log pi_k, levels[k] = component k there.
  MixtureScoreKernel(const std::vector<double>& log_weights, const std::vector<GaussianComponent::AtLevel>& levels);

  // score.col(j) = s(x.col(j)) when score is non-null; log_density(j) = log p_t(x.col(j)) when
  // log_density is non-null. x: d x n.
  void evaluate(ConstMatrixRef x, MatrixRef* score, VectorRef* log_density) const;

  // out.col(j m + r) = J(x_j) v.col(j m + r), r < m = v.cols() / n, with
  //   J v = sum_k w_k ( -C_k^{-1} v + g_k (g_k . v) ) - s (s . v).
  // With score non-null, also score.col(j) = s(x.col(j)), the bits evaluate() gives.
  void jacobian_apply(ConstMatrixRef x, ConstMatrixRef v, MatrixRef out, MatrixRef* score = nullptr) const;

  // Flops per particle of evaluate() with a score (the count benchmarks report).
  double flops_per_particle() const;

 private:
  struct Workspace;
  // Fills the workspace tile (x, normalised w, full components' g, and s when with_score) and
  // writes the requested outputs. D > 0: d = D fixed at compile time; D = 0: d = d_.
  template <int D>
  void evaluate_tile(ConstMatrixRef x, Eigen::Index first, Eigen::Index count, Workspace& work, bool with_score,
                     MatrixRef* score, VectorRef* log_density) const;
  template <int D>
  void jacobian_tile(ConstMatrixRef v, Eigen::Index first, Eigen::Index count, Eigen::Index directions,
                     Workspace& work, MatrixRef out) const;
  Eigen::Index d_ = 0;
  Eigen::Index K_ = 0;
  Vector log_constant_;                   // c_k
  Matrix mean_;                           // d x K: m_k
  Matrix precision_;                      // d x K: 1 / diag C_k (diagonal and isotropic components)
  std::vector<int> full_index_;           // k -> index into lower_, or -1
  std::vector<Matrix> lower_;             // L_k of the full components
};

}  // namespace dmconv
