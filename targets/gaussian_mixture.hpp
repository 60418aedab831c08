// Gaussian mixture p_data = sum_k pi_k N(mu_k, Sigma_k) (docs/theory.md §8.1).
//
//   p_t = sum_k pi_k N(m_k, C_k),   m_k = sqrt(a) mu_k,   C_k = a Sigma_k + (1-a) I
//   w_k(x) = pi_k N(x; m_k, C_k) / sum_j pi_j N(x; m_j, C_j)       (log-sum-exp)
//   g_k(x) = -C_k^{-1} (x - m_k)
//   s*(x)  = sum_k w_k g_k
//   J*(x)  = sum_k w_k ( -C_k^{-1} + g_k g_k^T ) - s* s*^T
//          = -sum_k w_k C_k^{-1} + G (diag(w) - w w^T) G^T,    G = [g_1 ... g_K]
//
// With diagonal or isotropic components the first term is diagonal, so J* is diagonal plus
// rank K (exposed through score_jacobian_structured). Exact samples of p_t: choose k with
// probability pi_k, X_0 = mu_k + A_k Z (A_k A_k^T = Sigma_k), X_t = sqrt(a) X_0 + sigma W.
#pragma once
#include <vector>

#include "core/target.hpp"
#include "targets/gaussian_component.hpp"
#include "targets/mixture_score_kernel.hpp"

namespace dmconv {

class GaussianMixtureTarget final : public Target, private GaussianMixtureView {
 public:
  // Preconditions (checked; InvalidArgument names the component and rule): at least one
  // component, all of one dimension, weights positive and summing to 1 within 1e-12.
  GaussianMixtureTarget(std::vector<double> weights, std::vector<GaussianComponent> components);

  std::string name() const override { return "gaussian_mixture"; }
  std::string describe() const override;
  int dim() const override { return components_.front().dim(); }

  using Target::log_density;
  using Target::sample;
  using Target::score;
  using Target::score_jacobian;
  void log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const override;
  void score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override;
  void score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override;
  std::optional<Moments> moments(const NoiseLevel& level) const override;
  SubgaussianNorms subgaussian_norms() const override;
  void score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                            MatrixRef out) const override;
  void score_and_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef score_out,
                                MatrixRef jacobian_out) const override;
  void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                               VectorRef out) const override;
  // Up to kDenseLogDetMaxDim (and for full covariances) the dense form on the kernel's Jacobians,
  // with the score from the same kernel call; above it the determinant lemma and a separate score.
  void score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                         MatrixRef score_out, VectorRef log_det_out) const override;
  std::optional<DiagonalPlusLowRank> score_jacobian_structured(const NoiseLevel& level,
                                                               ConstVectorRef x) const override;
  void sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
              StreamTag tag, MatrixRef out) const override;

  const std::vector<double>& weights() const { return weights_; }
  // Flops per particle of score() at `level` (the count the benchmarks report).
  double score_flops_per_particle(const NoiseLevel& level) const { return kernel(level).flops_per_particle(); }
  const std::vector<GaussianComponent>& components() const { return components_; }

  // Capability: the mixture itself.
  const GaussianMixtureView* gaussian_mixture() const override { return this; }

 private:
  int size() const override { return static_cast<int>(components_.size()); }
  double weight(int k) const override { return weights_[static_cast<std::size_t>(k)]; }
  const Vector& mean(int k) const override { return components_[static_cast<std::size_t>(k)].mean(); }
  Matrix covariance(int k) const override { return components_[static_cast<std::size_t>(k)].covariance(); }
  // Per component: gradients g_k (d x n) and log(pi_k N_k) (K x n); returns the factored levels.
  std::vector<GaussianComponent::AtLevel> evaluate(const NoiseLevel& level, ConstMatrixRef x,
                                                   std::vector<Matrix>& gradients,
                                                   Matrix& log_weighted) const;
  // Responsibilities w_k(x_j) (K x n) and the score (d x n) from the per-component results.
  static void responsibilities_and_score(const std::vector<Matrix>& gradients, const Matrix& log_weighted,
                                         Matrix& responsibility, Matrix& score);
  // The score and log-density kernel at one level (eight particles per SIMD pass).
  MixtureScoreKernel kernel(const NoiseLevel& level) const;
  bool has_full_component() const;
  // Whether log-determinants of linear steps take Target's dense form (kDenseLogDetMaxDim).
  bool dense_log_det() const;
  std::vector<double> weights_;
  std::vector<double> log_weights_;
  std::vector<double> cumulative_weights_;
  std::vector<GaussianComponent> components_;
};

}  // namespace dmconv
