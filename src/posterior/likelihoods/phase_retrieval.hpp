// Phase retrieval with Gaussian noise: y_i = |a_i^T x| + N(0, sigma_y^2), i = 1..m (Xu & Chi,
// arXiv 2403.17042, §5 experiments; docs/theory.md §4.7):
//
//   L(x; y) = sum_i (y_i - |a_i^T x|)^2 / (2 sigma_y^2) + (m/2) log(2 pi sigma_y^2)
//   grad_x L = -sum_i (y_i - |a_i^T x|) sign(a_i^T x) a_i / sigma_y^2   (term 0 where a_i^T x = 0)
//
// Sensing vectors a_i ~ N(0, I_d) iid (rows of gaussian_sensing_matrix with entry sd 1), so
// |a_i^T x| ~ |x| and the signal-to-noise ratio per observation does not shrink with d.
// No closed-form Gaussian smoothing: smoothed_log_likelihood returns false.
#pragma once
#include "posterior/likelihood.hpp"

namespace dmconv::posterior {

class PhaseRetrievalLikelihood final : public Likelihood {
 public:
  // vectors: m x d, row i = a_i. Throws InvalidArgument unless finite and sigma_y > 0 is finite.
  PhaseRetrievalLikelihood(Matrix vectors, double sigma_y, std::string vectors_description);

  std::string name() const override { return "phase_retrieval"; }
  std::string describe() const override;
  int dim() const override { return static_cast<int>(vectors_.cols()); }
  int observations() const override { return static_cast<int>(vectors_.rows()); }

  Vector simulate(const Vector& x_star, const RandomStreams& streams, StreamTag tag) const override;
  void check_observation(const Vector& y) const override;
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override;
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override;
  void negative_log_likelihood_and_gradient(const Vector& y, ConstMatrixRef x, VectorRef nll,
                                            MatrixRef gradient) const override;

  const Matrix& vectors() const { return vectors_; }

 private:
  // Columns evaluated together: their chains of additions overlap (each keeps its own order).
  static constexpr Eigen::Index kInterleaved = 8;
  // Columns [first, first + count) of x, count <= kInterleaved: the sum of r_i^2 / (2 sigma_y^2) plus the
  // normalisation into nll(first + l), and grad L into gradient column first + l (each when
  // non-null), r_i = y_i - |a_i^T x|.
  void columns(const Vector& y, ConstMatrixRef x, Eigen::Index first, Eigen::Index count, VectorRef* nll,
               MatrixRef* gradient) const;
  // All columns of x, kInterleaved at a time.
  void all_columns(const Vector& y, ConstMatrixRef x, VectorRef* nll, MatrixRef* gradient) const;

  Matrix vectors_;
  double normalisation_ = 0.0;  // (m/2) log(2 pi sigma_y^2)
  double sigma_y_;
  std::string vectors_description_;
};

}  // namespace dmconv::posterior
