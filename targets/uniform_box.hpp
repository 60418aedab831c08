// Uniform box p_data = U([-A, A]^d) (docs/theory.md §8.2). Per coordinate, with a = abar,
// b = sqrt(a) A, sigma = sqrt(1 - a), u_± = (x ± b)/sigma and Phi, phi the standard normal
// cdf and pdf:
//
//   p_t(x)  = ( Phi(u_+) - Phi(u_-) ) / (2b) = Z / (2b)
//   s*(x)   = ( phi(u_+) - phi(u_-) ) / ( sigma Z )
//   J*(x)   = ( -u_+ phi(u_+) + u_- phi(u_-) ) / ( sigma^2 Z ) - s*(x)^2     (diagonal in d)
//
// Equivalently (Tweedie) sqrt(a) X_0 | X_t = x is x - sigma T' with T' ~ N(0, 1) truncated to
// [u_-, u_+]: s* = -E[T']/sigma and J* = (Var T' - 1)/sigma^2. Evaluation (per coordinate, at
// y = |x|, so s* is exactly odd and J* exactly even; m = y/sigma, h = b/sigma, u_± = m ± h):
//   * h <= 1/4 and m h <= 1/4 (wide noise relative to the box): the moments of T' from the
//     Taylor series of exp(-m s - s^2/2) on s in [-h, h] (Hermite recursion, 30 terms;
//     truncation < 1e-25 relative), which avoids the O(eps/h) cancellation of differences
//     of Phi;
//   * u_- >= 3 (x beyond the edge by 3 sigma or more, deep tails included): Mills ratios
//     R(u) = Q(u)/phi(u) and K(u) = 1 - u R(u) by Laplace's continued fraction (64 terms),
//     Z = phi(u_-) (R(u_-) - e^{-2mh} R(u_+)), and Var T' - 1 written as a sum of
//     non-negative terms, so that s* and J* keep full relative accuracy for any |x| >> A;
//   * otherwise Z = Q(u_-) - Q(u_+) (Q = 1 - Phi) in log space, log Z = log Q(u_-) +
//     log(1 - exp(log Q(u_+) - log Q(u_-))), and phi(u_+) = phi(u_-) exp(-2 m h) exactly.
//     log Q(z) = log1p(-erfc(-z/sqrt 2)/2) for z < 0, log(erfc(z/sqrt 2)/2) (libm
//     erfc) for 0 <= z <= 35 and, for z > 35, the
//     asymptotic series log phi(z) - log z + log(1 - 1/z^2 + 3/z^4 - ... + 10395/z^12)
//     (first omitted term 135135/z^14 < 6e-18 relative). No underflow for any finite x.
// Accuracy against 50-digit references (tests/targets/uniform_box_test.cpp): a few ulps,
// plus the conditioning of u_- = (|x| - sqrt(a) A)/sigma to the rounding of sqrt(a) A,
// ~ (b/sigma) ulps near the edges at small sigma (69 ulps at sigma = 1e-3, x = A + sigma).
// Data level (sigma = 0): p_0 is the uniform density, log p = -d log(2A) on the closed box
// and -inf outside; s* = 0 and J* = 0 inside, NaN outside (undefined). Estimators compare at
// X_1 (abar_1 < 1), where everything is finite.
// Exact samples: X_0,i = A (2 U_i - 1) with U_i the i-th uniform of sub-stream 0, and
// X_t = sqrt(a) X_0 + sigma W with W the normals of sub-stream 1 (sub-streams 0..1 of tag).
// Moments: mean 0, covariance (a A^2/3 + sigma^2) I.
#pragma once

#include <cmath>

#include "core/target.hpp"

namespace dmconv {

class UniformBoxTarget final : public Target {
 public:
  // Precondition (checked, InvalidArgument): half_width > 0 and finite, dim in [1, 16383].
  UniformBoxTarget(double half_width, int dim);

  std::string name() const override { return "uniform_box"; }
  std::string describe() const override;
  int dim() const override { return dim_; }
  double half_width() const { return half_width_; }
  // Capability: the box [-A, A]^d lies in the ball of radius A sqrt(d) (its corners).
  std::optional<double> support_radius() const override {
    return half_width_ * std::sqrt(static_cast<double>(dim_));
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
  std::optional<DiagonalPlusLowRank> score_jacobian_structured(const NoiseLevel& level,
                                                               ConstVectorRef x) const override;
  std::optional<Moments> moments(const NoiseLevel& level) const override;
  // (i) from (E exp(U^2/K^2))^d = 2; (ii) = psi2(U[-A, A]) = 0.7727 A for d = 1, NaN for d > 1
  // (the supremum over directions is approached by spread-out u, towards sqrt(8/9) A).
  SubgaussianNorms subgaussian_norms() const override;
  void sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
              StreamTag tag, MatrixRef out) const override;

 private:
  double half_width_;
  int dim_;
};

namespace uniform_box_detail {
// One coordinate of the noised 1-D law U([-A, A]) at `level`: log p_t(x), s*(x), J*(x).
struct Coordinate {
  double log_density;
  double score;
  double curvature;
};
Coordinate evaluate(double half_width, const NoiseLevel& level, double x);
// log Q(z) = log(1 - Phi(z)) for any finite z (see the header comment for the method).
double log_normal_tail(double z);
}  // namespace uniform_box_detail

}  // namespace dmconv
