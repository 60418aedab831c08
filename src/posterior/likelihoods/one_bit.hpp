// One-bit (probit) compressed sensing: y_i = sign(a_i^T x + tau_i + N(0, sigma^2)), i = 1..m
// (Xu & Chi, arXiv 2403.17042, §5 experiments; docs/theory.md §4.7):
//
//   P(y_i | x) = Phi(y_i (a_i^T x + tau_i) / sigma),   L(x; y) = -sum_i log Phi(u_i),  u_i = y_i (a_i^T x + tau_i) / sigma
//   grad_x L = -sum_i y_i lambda(u_i) a_i / sigma,   lambda(u) = phi(u) / Phi(u) (inverse Mills ratio)
//   smoothed: E Phi(y (a^T (x + eta W) + tau) / sigma) = Phi(y (a^T x + tau) / sqrt(sigma^2 + eta^2 |a|^2))
//
// (the last line: a^T W ~ N(0, |a|^2), and E Phi(c + b Z) = Phi(c / sqrt(1 + b^2))). That is one
// observation. The smoothed likelihood E prod_i Phi(.) is the product of these only when the a_i^T W
// are independent, i.e. when the a_i are orthogonal (m = 1 included); otherwise the shared W couples
// the factors and smoothed_log_likelihood returns false for eta > 0 (callers integrate). Sensing vectors
// a_i ~ N(0, I_d) iid, dithers tau_i ~ N(0, dither^2) iid, both seeded. log Phi and lambda stay
// accurate in the far lower tail, where Phi underflows (u < -38): there they come from the Laplace
// continued fraction of the Mills ratio.
#pragma once
#include "posterior/likelihood.hpp"

namespace dmconv::posterior {

// log Phi(u), relative error <= (8 + u^2) eps for u >= -8 (the rounding of u / sqrt 2 inside erfc)
// and <= 8 eps below (tested against 50-digit values); no underflow as u -> -inf.
double log_normal_cdf(double u);
// phi(u) / Phi(u), with the same error bounds (~ -u as u -> -inf).
double inverse_mills_ratio(double u);

class OneBitLikelihood final : public Likelihood {
 public:
  // vectors: m x d (row i = a_i); dithers: m entries tau_i. Throws InvalidArgument unless all are
  // finite, the sizes agree and sigma > 0 is finite.
  OneBitLikelihood(Matrix vectors, Vector dithers, double sigma, std::string construction_description);

  std::string name() const override { return "one_bit"; }
  std::string describe() const override;
  int dim() const override { return static_cast<int>(vectors_.cols()); }
  int observations() const override { return static_cast<int>(vectors_.rows()); }

  Vector simulate(const Vector& x_star, const RandomStreams& streams, StreamTag tag) const override;
  void check_observation(const Vector& y) const override;
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override;
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override;
  // One probit evaluation per observation serves both (the MALA proposal needs both).
  void negative_log_likelihood_and_gradient(const Vector& y, ConstMatrixRef x, VectorRef nll,
                                            MatrixRef gradient) const override;
  bool smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x, VectorRef out) const override;

  const Matrix& vectors() const { return vectors_; }
  const Vector& dithers() const { return dithers_; }

 private:
  Matrix vectors_;
  Vector dithers_;
  double sigma_;
  std::string construction_description_;
  bool orthogonal_vectors_ = false;  // the closed-form smoothing applies
};

}  // namespace dmconv::posterior
