// Closed-form (or deterministic-quadrature) distances between two Gaussian laws
//
//   N0 = N(m0, S0),   N1 = N(m1, S1)   in R^d,  S0, S1 symmetric positive definite,
//
// written so that they keep their relative accuracy when the two laws are very close
// (KL down to ~1e-16, TV down to ~1e-8 and below): nothing is formed as a difference of two
// nearly equal O(1) numbers.
//
// Pencil coordinates. With S1 = L L^T (Cholesky) and L^{-1} (S0 - S1) L^{-T} = V diag(mu) V^T,
// the affine bijection y = V^T L^{-1} (x - m1) maps
//
//   N1 -> N(0, I),     N0 -> N(a, diag(1 + mu)),     a = V^T L^{-1} (m0 - m1).
//
// mu_i = lambda_i - 1, where lambda_i are the generalized eigenvalues of (S0, S1); they are
// computed from the difference S0 - S1 (exact in floating point when the entries are within a
// factor 2, Sterbenz), so small mu keep their relative accuracy. All f-divergences (KL, TV,
// Hellinger) are invariant under the bijection and are evaluated in these coordinates:
//
//   KL(N0 || N1) = 1/2 [ sum_i (mu_i - log1p(mu_i)) + |a|^2 ]
//   H^2          = 1 - BC,   -log BC = sum_i 1/4 log1p( mu_i^2 / (4 (1 + mu_i)) )
//                                      + 1/8 sum_i a_i^2 / (1 + mu_i / 2)
//                  (H^2 = 1 - int sqrt(p0 p1); equal to the determinant formula
//                   1 - det(S0)^{1/4} det(S1)^{1/4} det(Sm)^{-1/2} exp(-dm^T Sm^{-1} dm / 8),
//                   Sm = (S0 + S1)/2, but with the log-determinants cancelled analytically)
//   TV           = 1/2 int |p0 - p1|
//                  d = 1: exact (the densities cross at most twice; closed form in normal
//                         cdf differences, each evaluated without cancellation)
//                  d = 2: deterministic nested quadrature of p1 |expm1(log p0 - log p1)| in
//                         pencil coordinates, split at the crossing curve (Boost.Math
//                         Gauss-Kronrod inside, tanh-sinh outside)
//                  d > 2: unbiased Monte Carlo with exact densities (standard error reported)
//
// W2 (Bures): W2^2 = |m0 - m1|^2 + tr(S0 + S1 - 2 (S0^{1/2} S1 S0^{1/2})^{1/2}). In the
// eigenbasis of S0 = Q diag(s) Q^T, with X = diag(s) Q^T S1 Q diag(s) written as
// diag(s)^2 + E, E = diag(sqrt s) Q^T (S1 - S0) Q diag(sqrt s), the root R = X^{1/2} - diag(s)
// solves diag(s) R + R diag(s) + R^2 = E. It is started from the direct square root and
// refined by Newton steps whose residual E - diag(s) R - R diag(s) - R^2 has no O(1) terms,
// so R keeps its relative accuracy; then (optimal map T = I + S0^{-1/2} R S0^{-1/2})
//
//   tr(S0 + S1 - 2 (S0^{1/2} S1 S0^{1/2})^{1/2}) = tr(R S0^{-1} R) = sum_ij R_ij^2 / s_i.
//
// In 1-D this is (v0 - v1)^2 / (sqrt v0 + sqrt v1)^2. The law with the smaller trace is taken
// as the basis (W2 is symmetric), and when the covariance part exceeds a quarter of
// tr S0 + tr S1 the direct form tr S0 + tr S1 - 2 tr X^{1/2} (X formed as a product) is used
// instead, since it then loses at most a factor 4 and the difference form could lose more.
//
// TV in 2-D: the inner integral over y2 is split at the crossings (a quadratic in y2 for each
// y1) and integrated by adaptive Gauss-Kronrod to an absolute tolerance tied to its own
// scale; the outer integral is split where the number of inner crossings changes (vertex of
// the quadratic, crossings leaving the truncated range |y| <= 12 sd) and integrated by
// tanh-sinh, whose error estimate becomes part of `floor`. Typical cost 5-50 ms.
//
// Accuracy limits: normal cdf differences deep in a tail carry a relative error ~ x^2 u
// (the rounding of x^2 inside exp(-x^2/2)), i.e. ~1e-13 at |x| = 30; irrelevant for TV.
//
// Every function returns a dmconv::Estimate: kind kExact with `floor` = the round-off (and,
// for 2-D TV, quadrature) error budget, or kUnbiasedMonteCarlo with `std_error`. The metric
// names are "kl", "w2" (W2 itself, not squared), "hellinger" (H^2) and "tv"; callers relabel.
// Inputs are validated (sizes, finiteness, positive definiteness): InvalidArgument otherwise.
#pragma once
#include <cstdint>

#include "core/estimator.hpp"
#include "core/types.hpp"

namespace dmconv {

struct GaussianLaw {
  Vector mean;
  Matrix covariance;
  Eigen::Index dim() const { return mean.size(); }
};

// The pencil coordinates of N0 relative to N1 (see the file comment).
struct GaussianPencil {
  Vector mu;                  // generalized eigenvalues of (S0 - S1, S1), ascending; mu > -1
  Vector a;                   // mean of N0 in pencil coordinates
  double condition = 1.0;     // 2-norm condition number of S1 (enters the round-off budget)
};
GaussianPencil gaussian_pencil(const GaussianLaw& law0, const GaussianLaw& law1);

// x - log1p(x) for x > -1, without cancellation near 0 (series for |x| < 1/4).
double x_minus_log1p(double x);
// Phi(u) - Phi(v) for the standard normal cdf, with `difference` = u - v supplied by the
// caller (accurately); relative accuracy ~1e-15 also when u ~ v or both are far in a tail.
double normal_cdf_difference(double u, double v, double difference);

// KL(N0 || N1).
Estimate gaussian_kl(const GaussianLaw& law0, const GaussianLaw& law1);
// W2(N0, N1) (not squared).
Estimate gaussian_w2(const GaussianLaw& law0, const GaussianLaw& law1);
// H^2(N0, N1) = 1 - int sqrt(p0 p1).
Estimate gaussian_hellinger(const GaussianLaw& law0, const GaussianLaw& law1);

struct TvOptions {
  // d <= max_exact_dim (at most 2): exact / quadrature; above: Monte Carlo.
  int max_exact_dim = 2;
  // Relative tolerance of the 2-D quadrature (outer tanh-sinh and inner Gauss-Kronrod).
  double quadrature_tolerance = 1e-12;
  // Monte Carlo: number of samples (half from each law, stratified) and the random streams.
  Eigen::Index samples = 100000;
  std::uint64_t seed = 0;
  std::uint64_t run = 0;
};
// TV(N0, N1) by the method the dimension allows (see TvOptions).
Estimate gaussian_tv(const GaussianLaw& law0, const GaussianLaw& law1, const TvOptions& options = {});

// The individual TV methods, on pencil coordinates (N1 = N(0, I), N0 = N(a, diag(1 + mu))).
// Exact, d = 1.
double gaussian_tv_1d(double a, double mu);
// d = 2 by nested adaptive quadrature; `error_estimate` receives the quadrature's estimate.
double gaussian_tv_2d(const Vector& a, const Vector& mu, double tolerance, double* error_estimate = nullptr);
// Any d: unbiased stratified Monte Carlo of TV = E_M[ |tanh((log p0 - log p1)/2)| ],
// M = (N0 + N1)/2, with `samples` draws (half from each law) from RandomStreams(seed, run),
// stream tag (kTargetSample, kGaussianTvStreamIndex). Deterministic for any thread count.
inline constexpr std::uint64_t kGaussianTvStreamIndex = 0x6a55u;
Estimate gaussian_tv_monte_carlo(const Vector& a, const Vector& mu, Eigen::Index samples, std::uint64_t seed,
                                 std::uint64_t run);

}  // namespace dmconv
