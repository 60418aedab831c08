// Reference arithmetic for the sampler tests: 50-digit binary floating point
// (boost::multiprecision::cpp_bin_float_50, header-only), Eigen matrices over it, exact
// noise levels, the exact affine score of a Gaussian target, and the accelerated ODE
// coefficient C_t of docs/theory.md §4.4b evaluated from its defining closed form.
//
// Every reference value in tests/samplers is computed here from docs/theory.md formulas, never
// from the code under test. The only inputs taken from dmconv are the grid's numbers
// (the stored levels and betas) and the target's parameters, both treated as exact.
#pragma once
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/eigen.hpp>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "core/noise_level.hpp"
#include "core/time_grid.hpp"
#include "core/types.hpp"

namespace dmconv::test {

using Real = boost::multiprecision::cpp_bin_float_50;
using RMatrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;
using RVector = Eigen::Matrix<Real, Eigen::Dynamic, 1>;

inline RMatrix to_real(const Matrix& m) { return m.cast<Real>(); }
inline RVector to_real(const Vector& v) { return v.cast<Real>(); }
inline Matrix to_double(const RMatrix& m) {
  Matrix out(m.rows(), m.cols());
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) out(i, j) = static_cast<double>(m(i, j));
  return out;
}

// A noise level as an exact pair (a, q) with a + q = 1 exactly (docs/theory.md §1: abar and
// 1 - abar). A NoiseLevel stores both halves rounded separately, so they sum to 1 only to
// rounding. Which half is taken as exact matters for quantities that are differences of
// O(1) terms near the data end (e.g. arcsin sqrt(abar) when 1 - abar ~ 1e-6: an error of
// 1e-16 in abar is an error of 1e-10 in 1 - abar). We take the half that the grid stores
// to full relative precision and that carries the information: 1 - abar when abar > 1/2,
// abar otherwise; the other half is formed exactly in 50 digits.
struct ExactLevel {
  Real a;  // abar
  Real q;  // 1 - abar

  static ExactLevel of(const NoiseLevel& level) {
    if (level.is_data()) return {Real(1), Real(0)};
    if (level.abar() > 0.5) {
      const Real q = level.one_minus_abar();
      return {1 - q, q};
    }
    const Real a = level.abar();
    return {a, 1 - a};
  }
  // docs/theory.md §1: abar = 1/(1 + e^{-2 lambda}), 1 - abar = 1/(1 + e^{2 lambda}).
  static ExactLevel from_lambda(const Real& lambda) {
    return {1 / (1 + exp(-2 * lambda)), 1 / (1 + exp(2 * lambda))};
  }
  Real sigma() const { return sqrt(q); }
  Real sqrt_abar() const { return sqrt(a); }
  // Half-log-SNR lambda = log(sqrt(abar)/sigma) (docs/theory.md §1, DPM-Solver notation).
  Real lambda() const { return log(a / q) / 2; }
};

inline ExactLevel exact_level(const TimeGrid& grid, int t) { return ExactLevel::of(grid.level(t)); }

// The exact score of a Gaussian target N(mu, Sigma) at a level (docs/theory.md §8.1, one
// component): p_t = N(sqrt(a) mu, C), C = a Sigma + (1-a) I, s*(x) = -C^{-1}(x - sqrt(a) mu).
// Affine: s*(x) = J x + c with J = -C^{-1}, c = C^{-1} sqrt(a) mu.
struct AffineScore {
  RMatrix J;
  RVector c;
};

inline AffineScore gaussian_score(const RVector& mu, const RMatrix& sigma, const ExactLevel& level) {
  const Eigen::Index d = mu.size();
  const RMatrix c = level.a * sigma + level.q * RMatrix::Identity(d, d);
  const RMatrix precision = c.inverse();
  return {-precision, precision * (level.sqrt_abar() * mu)};
}

// C_t of docs/theory.md §4.4b, evaluated literally from its closed form in 50 digits:
//
//   C_t = sqrt(abar_{t-1}) / (abar_t - abar_{t+1}) *
//         [ abar_t sqrt((1-abar_{t-1})/abar_{t-1}) + arcsin sqrt(abar_{t-1})
//           - abar_t sqrt((1-abar_t)/abar_t)       - arcsin sqrt(abar_t) ].
//
// Levels t-1 and t are the grid's stored levels (ExactLevel). abar_{t+1} enters only the
// denominator; it is taken as abar_t alpha_{t+1} = abar_t (1 - beta_{t+1}) with the grid's
// beta_{t+1}, which is the definition of beta (docs/theory.md §1, TimeGrid: beta_t = 1 -
// abar_t/abar_{t-1}). The grid's stored level(t+1) agrees with it only to the rounding of
// the cumulative log sum that produced it (about ulp(log abar)/beta_{t+1} relative, up to
// ~3e-13 at T = 4096); that is a property of the grid, not of C_t, and is checked
// separately with a tolerance to match.
inline Real momentum_coefficient_exact(const ExactLevel& previous, const ExactLevel& current,
                                       const Real& next_abar) {
  const Real bracket = current.a * sqrt(previous.q / previous.a) + asin(sqrt(previous.a)) -
                       current.a * sqrt(current.q / current.a) - asin(sqrt(current.a));
  return sqrt(previous.a) / (current.a - next_abar) * bracket;
}

inline Real momentum_coefficient_exact(const TimeGrid& grid, int t) {
  const ExactLevel current = exact_level(grid, t);
  return momentum_coefficient_exact(exact_level(grid, t - 1), current,
                                    current.a * (1 - Real(grid.beta(t + 1))));
}

// Normwise relative difference max|got - expected| / max(max|expected|, min_scale). When the
// scale is exactly zero the absolute max|got| is returned (a term that must vanish must vanish).
inline double relative_error(const Matrix& got, const RMatrix& expected, const Real& min_scale = 0) {
  Real scale = min_scale, diff = 0;
  for (Eigen::Index i = 0; i < expected.rows(); ++i)
    for (Eigen::Index j = 0; j < expected.cols(); ++j) {
      scale = std::max(scale, Real(abs(expected(i, j))));
      diff = std::max(diff, Real(abs(Real(got(i, j)) - expected(i, j))));
    }
  return static_cast<double>(scale > 0 ? Real(diff / scale) : diff);
}

}  // namespace dmconv::test
