// Uniform law on the sphere S^{d-1}(r) = { x in R^d : ||x|| = r }, d >= 2 (docs/theory.md §8.3, the
// d-dimensional generalisation stated there; §8.4 for the psi_2 norms). With a = abar,
// sigma^2 = 1 - a, rho = sqrt(a) r, y = ||x||, n = x/y, z = rho y / sigma^2, nu = d/2 - 1 and
// q = rho^2/sigma^2:
//
//   p_t(x) = (2 pi sigma^2)^{-d/2} exp(-(y^2 + rho^2)/(2 sigma^2)) F(z),
//   F(z)   = E_theta exp(z <theta, n>) = Gamma(d/2) (z/2)^{-nu} I_nu(z)   (theta uniform on S^{d-1})
//   s*(x)  = -x/sigma^2 + (rho/sigma^2) R(z) n = c_perp x,          R = F'/F = I_{nu+1}/I_nu
//   J*(x)  = c_perp (I - n n^T) + c_par n n^T = c_perp I + (c_par - c_perp) n n^T,
//   c_perp = (q R(z)/z - 1)/sigma^2,   c_par = (q R'(z) - 1)/sigma^2,
//   R'(z)  = 1 - (2 nu + 1) R/z - R^2  (from I_nu' = I_{nu+1} + (nu/z) I_nu and
//            I_{nu+1}' = I_nu - ((nu+1)/z) I_{nu+1}; nu = 0 gives §8.3's 1 - R/z - R^2),
//   at x = 0: s* = 0, J* = (-1/sigma^2 + rho^2/(d sigma^4)) I  (R(z)/z -> R'(0) = 1/(2 nu + 2) = 1/d).
// Tweedie form (used by the tests' references): with cos(phi) = <theta, n> under the posterior
// of theta given x, R = E cos(phi), R' = Var cos(phi), c_perp = (-1 + q E sin^2(phi)/(d-1))/sigma^2.
//
// Evaluation (no overflow or underflow of intermediate Bessel values for any finite x; only the
// functions L(z) = log F(z) - z, R, Q = 1 - R, h = R/z, R' and Delta = R' - R/z are formed):
//   * series, z <= 2 sqrt(nu + 1) (for L: z <= max(20, 2 sqrt(nu + 1))): F = 0F1(; nu+1; z^2/4)
//     summed term by term (positive terms), h = R/z from the same sum, and
//     Delta = -sum_{j<k} t_j t_k (k-j)^2 / ((nu+1+j)(nu+1+k)) / F^2 (non-positive terms), so
//     that R' = h + Delta and c_par - c_perp keep full relative accuracy as z -> 0 and at x = 0;
//   * otherwise Debye's uniform asymptotic expansion (DLMF 10.41.3, 10.41.5, polynomials
//     u_k and v_k to k = 12) at the order mu = max(nu, nu + ceil(40 - nu)) >= 40, where the first
//     omitted term is < 1e-19 for every z, written so that no step cancels: with t = z/mu,
//     s = sqrt(1+t^2), p = 1/s, U = sum u_k/mu^k, E = sum e_k/mu^k (v_k - u_k = -(1-p^2) e_k)
//     and W = p E/U:
//       R_mu = t (1/(1+s) - W),   1 - R_mu = (1 - 1/(t+s) + t^2 W)/t,
//       R_mu' = (p/(1+s) - W + t^2 p^3 W_p)/mu,   Delta_mu = -(p/mu)((t/(1+s))^2 - (t p)^2 W_p),
//       L_mu = mu (1/(s+t) - 1) - mu log1p((s-1)/2) + S(mu) - log(s)/2 + log U,
//     S the Stirling series of log Gamma(mu+1); then, for nu < 40, the backward recurrence
//     R_k = 1/(2(k+1)/z + R_{k+1}) (Gauss's continued fraction, stable downwards) with
//     1 - R_k = (2(k+1)/z - (1 - R_{k+1})) R_k,  R_k' = R_k^2 (2(k+1)/z^2 - R_{k+1}'),
//     Delta_k = -R_k^2 (2 R_{k+1}/z + Delta_{k+1}),  L_k = L_{k+1} - log(2 (k+1) R_k / z),
//     every one free of cancellation, but the recurrence for R' amplifies the error of R_mu' by
//     up to (mu + 1/2)/(nu + 1/2) and L sums mu - nu logarithms, so for nu < 40 and
//     z >= max(40, 4 nu^2) Hankel's expansion (DLMF 10.40.1) is used instead:
//       I_nu(z) e^{-z} sqrt(2 pi z) = S = sum_k c_k z^{-k}, c_k = (-1)^k a_k(nu) (terms decrease
//       at least like (1/8)^k/k!; summed to 1e-18), with M1 = sum k c_k z^{-k}, M2 = sum k^2 c_k z^{-k}:
//       1 - R = (nu + 1/2 + M1/S)/z,  R' = (nu + 1/2 + M1/S + M2/S - (M1/S)^2)/z^2,
//       L = log Gamma(nu+1) - nu log(z/2) - log(2 pi z)/2 + log S.
//   * c_perp = ((rho - y) - rho (1 - R))/(y sigma^2) when R > 1/2 (near and outside the noised
//     sphere, z up to 1e300), else (q h - 1)/sigma^2; c_par - c_perp = (q/sigma^2) Delta;
//     log p = -(d/2) log(2 pi sigma^2) - (y - rho)^2/(2 sigma^2) + L(z).
// This is Boost.Math-free on purpose: boost::math::cyl_bessel_i overflows near z ~ 700 and
// underflows for large nu, and has no scaled or logarithmic form.
// Accuracy (tests/targets/sphere_test.cpp, x86-64): the radial functions L, R, 1 - R, R', Delta
// within 23 ulps of 50-digit mpmath values for d = 2 .. 16383 and z = 0.5 .. 1e8 (worst: 1 - R
// and R' in the shifted-Debye range nu < 40, 20 < z < max(40, 4 nu^2)); log p, s*, c_par and
// c_perp against 50-digit quadrature of the definition (d = 2, 3, 8, 64; z = 0 .. 9e7) within
// ~1 ulp plus the conditioning of the result to the rounding of rho = sqrt(a) r (up to
// ~1.5e5 ulps for s* right on the sphere at 1 - a = 1e-6: the score there is
// (rho - y) - rho (1 - R) of nearly equal terms, inherent to the input), and log p within
// 15 ulps of the sum of the magnitudes of its three terms (they cancel near the sphere).
// Data level (sigma = 0): p_0 has no density in R^d; log_density = -inf everywhere, score and
// Jacobian NaN (undefined). Estimators compare at X_1 (abar_1 < 1).
// Exact samples: X_0 = r g/||g|| with g the d normals of sub-stream 0 of the tag, and
// X_t = sqrt(a) X_0 + sigma W with W the normals of sub-stream 1 (sub-streams 0..1).
// Moments: mean 0, covariance (a r^2/d + sigma^2) I.
// All per-particle work is O(d) (norms and dot products in a fixed scalar order, so results
// do not depend on the batch or the alignment of a column).
#pragma once

#include <array>

#include "core/target.hpp"

namespace dmconv {

namespace sphere_detail {

// The radial functions of nu = dim/2 - 1 at z >= 0 (see the header comment).
struct Ratios {
  double ratio;             // R(z) = I_{nu+1}(z)/I_nu(z)
  double complement;        // 1 - R(z), to full relative accuracy for large z
  double ratio_over_z;      // R(z)/z (-> 1/dim at z = 0)
  double derivative;        // R'(z)
  double delta;             // R'(z) - R(z)/z  (<= 0)
};

class RadialFunctions {
 public:
  explicit RadialFunctions(int dim);
  // log F(z) - z = log(Gamma(nu+1) (z/2)^{-nu} I_nu(z) e^{-z}), z >= 0.
  double log_scaled(double z) const;
  Ratios ratios(double z) const;
  double nu() const { return nu_; }

 private:
  struct Debye {
    Ratios r;
    double log_scaled;  // L at order mu
  };
  Debye debye(double z, bool need_log) const;
  Debye hankel(double z, bool need_log) const;
  bool use_hankel(double z) const { return nu_ < 40.0 && z >= std::max(40.0, 4.0 * nu_ * nu_); }
  double nu_, mu_;
  int shift_;  // mu - nu
  double stirling_;  // log Gamma(mu+1) - (mu log mu - mu + log(2 pi mu)/2)
  std::array<double, 37> u_minus_one_{}, e_{};  // coefficients in p of U - 1 and E at order mu
};

// Noised radial quantities at one point: log p_t(x), J* = c_perp I + kappa n n^T,
// c_par = c_perp + kappa (computed separately, without cancellation), s* = c_perp x.
struct Radial {
  double log_density;
  double c_perp;
  double c_par;
  double kappa;
};
Radial evaluate(const RadialFunctions& f, double radius, int dim, const NoiseLevel& level, double norm,
                bool need_log);

// ||x|| in a fixed scalar order (rescaled when the squares would under- or overflow).
double norm(const double* x, int size);

// The 1-D projection <u, X_0> of the uniform law on S^{d-1}(r), u a unit vector:
//   density (1 - s^2/r^2)^{(d-3)/2} / (r B(1/2, (d-1)/2)) on [-r, r], i.e. (1 + s/r)/2 ~
//   Beta((d-1)/2, (d-1)/2): the arcsine law for d = 2, uniform for d = 3.
double projected_density(double radius, int dim, double s);
// Its CDF, I_{(1+s/r)/2}((d-1)/2, (d-1)/2) by boost::math::ibeta (0 below -r, 1 above r).
double projected_cdf(double radius, int dim, double s);
// E exp(lambda <u, X_0>^2 / r^2) = 1F1(1/2; d/2; lambda) (Kummer's function; Boost.Math
// log_hypergeometric_1F1).
double projected_square_mgf(int dim, double lambda);
double log_projected_square_mgf(int dim, double lambda);  // its logarithm (no overflow)

}  // namespace sphere_detail

class SphereTarget final : public Target {
 public:
  // Precondition (checked, InvalidArgument): radius > 0 and finite, dim in [2, 16383].
  SphereTarget(double radius, int dim);

  std::string name() const override { return "sphere"; }
  std::string describe() const override;
  int dim() const override { return dim_; }
  double radius() const { return radius_; }
  // Capability: |X_0| = r exactly.
  std::optional<double> support_radius() const override { return radius_; }

  // psi_2 norms of p_0 (docs/theory.md §8.4). Convention (ii), per direction: the K with
  // E exp(<u, X_0>^2/K^2) = 2 (any unit u by symmetry), solved with toms748 over lambda = r^2/K^2
  // in [ln 2, d ln 2] (Jensen and ||X_0|| = r bracket it); d = 2, r = 1: 0.9099.
  double psi2_per_direction() const;
  // Convention (i), norm-based: ||X_0|| = r, exp(r^2/K^2) = 2, K = r/sqrt(ln 2).
  double psi2_norm_based() const;
  SubgaussianNorms subgaussian_norms() const override { return {psi2_per_direction(), psi2_norm_based()}; }

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
  // diagonal = c_perp (constant), factor = n (d x 1; e_1 at x = 0, where kappa = 0),
  // core = kappa = c_par - c_perp.
  std::optional<DiagonalPlusLowRank> score_jacobian_structured(const NoiseLevel& level,
                                                               ConstVectorRef x) const override;
  std::optional<Moments> moments(const NoiseLevel& level) const override;
  void sample(const NoiseLevel& level, const RandomStreams& streams, std::uint64_t first_particle,
              StreamTag tag, MatrixRef out) const override;

  // The radial quantities at a point (for tests and diagnostics).
  sphere_detail::Radial radial(const NoiseLevel& level, double norm, bool need_log = true) const {
    return sphere_detail::evaluate(functions_, radius_, dim_, level, norm, need_log);
  }

 private:
  double radius_;
  int dim_;
  sphere_detail::RadialFunctions functions_;
};

}  // namespace dmconv
