// Product of independent identical 1-D laws: p_data(x) = prod_{i=1}^d q(x_i) (docs/theory.md §6.5).
//
// The forward process acts coordinate-wise, so p_t(x) = prod_i q_t(x_i), the score is
// separable, s*_t(x)_i = (log q_t)'(x_i), and the Jacobian is diagonal,
// J*_t(x) = diag((log q_t)''(x_i)). Every sampler then acts coordinate-wise with independent
// noise, the output is a product law, and KL_d = d KL_1, 1 - H^2_d = (1 - H^2_1)^d exactly
// (claim 19). The factor q is any 1-D target (the registry offers a Gaussian mixture,
// uniform_box or student_t, key 'factor').
// Samples: coordinate i of a particle uses the factor's streams under tag.sub(4 i).
#pragma once
#include <cmath>
#include <memory>

#include "core/target.hpp"

namespace dmconv {

class ProductTarget final : public Target {
 public:
  // Precondition: factor->dim() == 1, dim >= 1 and 4 dim < 65536 (stream sub-tags).
  ProductTarget(std::unique_ptr<Target> factor, int dim);

  std::string name() const override { return "product"; }
  std::string describe() const override;
  int dim() const override { return dim_; }
  const Target& factor() const { return *factor_; }

  // Capabilities: the factor q; support radius R_q sqrt(d) when q lives in [-R_q, R_q]
  // (|x|^2 = sum_i x_i^2 <= d R_q^2).
  const Target* product_factor() const override { return factor_.get(); }
  std::optional<double> support_radius() const override {
    const std::optional<double> factor_radius = factor_->support_radius();
    if (!factor_radius) return std::nullopt;
    return *factor_radius * std::sqrt(static_cast<double>(dim_));
  }

  using Target::log_density;
  using Target::sample;
  using Target::score;
  using Target::score_jacobian;
  void log_density(const NoiseLevel& level, ConstMatrixRef x, VectorRef out) const override;
  void score(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override;
  void score_jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override;
  void score_jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v,
                            MatrixRef out) const override;
  void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                               VectorRef out) const override;
  // One pass of the factor gives the per-coordinate scores and curvatures.
  void score_and_log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                                         MatrixRef score_out, VectorRef log_det_out) const override;
  std::optional<DiagonalPlusLowRank> score_jacobian_structured(const NoiseLevel& level,
                                                               ConstVectorRef x) const override;
  std::optional<Moments> moments(const NoiseLevel& level) const override;
  // Infinite when the factor is not subgaussian; otherwise not computed here (NaN).
  SubgaussianNorms subgaussian_norms() const override {
    const SubgaussianNorms f = factor_->subgaussian_norms();
    if (std::isinf(f.per_direction)) return f;
    return {};
  }
  bool score_is_affine() const override { return factor_->score_is_affine(); }
  void sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
              StreamTag tag, MatrixRef out) const override;

 private:
  // Per-coordinate second derivatives (log q_t)''(x_ij), shaped like x.
  Matrix coordinate_curvatures(const NoiseLevel& level, ConstMatrixRef x) const;
  std::unique_ptr<Target> factor_;
  int dim_;
};

}  // namespace dmconv
