// Tests of the closed-form Gaussian distances (src/estimators/gaussian_distances.hpp).
//
// References are independent of the code under test:
//   * 1-D closed forms and naive d-dimensional formulas (traces, log-determinants, matrix
//     square roots) evaluated in 50-digit arithmetic (boost::multiprecision::cpp_bin_float_50)
//     or, where well conditioned, in long double, on the same double inputs;
//   * TV in 1-D by adaptive Gauss-Kronrod quadrature of |p0 - p1| / 2 in long double, split at
//     crossings found by bracketing (Boost.Math toms748), not by the closed form;
//   * TV in 2-D / 3-D against Monte Carlo (5 SE), product laws (the 1-D formula) and
//     first-order expansions for tiny perturbations.
#include <gtest/gtest.h>

#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/tools/roots.hpp>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/eigen.hpp>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.hpp"
#include "estimators/gaussian_distances.hpp"

namespace dmconv {
namespace {

using Real = boost::multiprecision::cpp_bin_float_50;
using RMatrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;
using RVector = Eigen::Matrix<Real, Eigen::Dynamic, 1>;
using LMatrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
using LVector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;
using Eigen::Vector2d;
using Eigen::Vector3d;

double rel(double value, double reference) { return std::fabs(value - reference) / std::fabs(reference); }

// A fixed, well-conditioned SPD matrix and a rotation, from deterministic entries.
Matrix spd(int d, double shift, double seed) {
  Matrix b(d, d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) b(i, j) = std::sin(seed + 1.7 * i + 2.3 * j * j + 0.1 * i * j);
  Matrix s = b * b.transpose() / d;
  s.diagonal().array() += shift;
  return 0.5 * (s + s.transpose());  // exactly symmetric
}
Matrix symmetric(const Matrix& m) { return 0.5 * (m + m.transpose()); }
Matrix rotation(int d, double seed) {
  Matrix b(d, d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) b(i, j) = std::cos(seed + 0.9 * i - 1.3 * j + 0.4 * i * j);
  return Eigen::HouseholderQR<Matrix>(b).householderQ();
}

// ---- 50-digit naive references ------------------------------------------------------------
Real naive_kl(const GaussianLaw& p0, const GaussianLaw& p1) {
  const RMatrix s0 = p0.covariance.cast<Real>(), s1 = p1.covariance.cast<Real>();
  const RVector dm = (p1.mean.cast<Real>() - p0.mean.cast<Real>());
  const Eigen::LLT<RMatrix> l1(s1), l0(s0);
  const Real logdet1 = 2 * RVector(RMatrix(l1.matrixL()).diagonal()).array().log().sum();
  const Real logdet0 = 2 * RVector(RMatrix(l0.matrixL()).diagonal()).array().log().sum();
  const Real trace = l1.solve(s0).trace();
  const Real quad = dm.dot(l1.solve(dm));
  return (trace - Real(p0.dim()) + logdet1 - logdet0 + quad) / 2;
}
Real naive_hellinger(const GaussianLaw& p0, const GaussianLaw& p1) {
  const RMatrix s0 = p0.covariance.cast<Real>(), s1 = p1.covariance.cast<Real>();
  const RMatrix sm = (s0 + s1) / 2;
  const RVector dm = (p1.mean.cast<Real>() - p0.mean.cast<Real>());
  const Eigen::LLT<RMatrix> lm(sm);
  const Real bc = pow(s0.determinant(), Real(0.25)) * pow(s1.determinant(), Real(0.25)) / sqrt(sm.determinant()) *
                  exp(-dm.dot(lm.solve(dm)) / 8);
  return 1 - bc;
}
// Matrix square root of an SPD matrix by Denman-Beavers iteration in 50 digits.
RMatrix sqrtm(const RMatrix& a) {
  RMatrix y = a, z = RMatrix::Identity(a.rows(), a.cols());
  for (int k = 0; k < 60; ++k) {
    const RMatrix y_next = (y + z.inverse()) / 2;
    const RMatrix z_next = (z + y.inverse()) / 2;
    y = y_next;
    z = z_next;
  }
  return y;
}
Real naive_w2_squared(const GaussianLaw& p0, const GaussianLaw& p1) {
  const RMatrix s0 = p0.covariance.cast<Real>(), s1 = p1.covariance.cast<Real>();
  const RMatrix r0 = sqrtm(s0);
  const RMatrix cross = sqrtm(RMatrix(r0 * s1 * r0));
  return (p0.mean.cast<Real>() - p1.mean.cast<Real>()).squaredNorm() + s0.trace() + s1.trace() - 2 * cross.trace();
}

// ---- scalar helpers ---------------------------------------------------------------------
TEST(GaussianDistances, XMinusLog1pMatches50Digits) {
  for (double x : {-0.9, -0.5, -0.26, -0.25, -0.2, -1e-3, -1e-8, -1e-17, 1e-17, 1e-8, 1e-3, 0.2, 0.249,
                   0.25, 0.3, 1.0, 10.0, 1e6}) {
    const Real rx = x;
    const double reference = static_cast<double>(rx - log1p(rx));
    EXPECT_LE(rel(x_minus_log1p(x), reference), 8e-16) << x;
  }
  EXPECT_EQ(x_minus_log1p(0.0), 0.0);
}

TEST(GaussianDistances, NormalCdfDifferenceMatches50Digits) {
  // Reference: 50-digit erfc, through the upper tails when both points are positive (1 - Q
  // would lose the tail's digits even in 50-digit arithmetic).
  const auto upper = [](const Real& x) { return erfc(x / sqrt(Real(2))) / 2; };
  const std::vector<std::pair<double, double>> cases{{0.3, 0.3 - 1e-12}, {1.0, 1.5}, {-2.0, 2.0}, {5.0, 5.0 + 1e-9},
                                                     {-7.0, -7.5},      {30.0, 30.2}, {12.0, 13.0}, {-0.1, 0.05},
                                                     {-3e-9, 4e-9},     {2.0, 1e-3}};
  for (const auto& [u, v] : cases) {
    const Real ru = u, rv = v;
    const Real exact = (u >= 0 && v >= 0) ? upper(rv) - upper(ru) : upper(-ru) - upper(-rv);
    const double reference = static_cast<double>(exact);
    const double difference = static_cast<double>(ru - rv);
    // In a tail, exp(-x^2/2) turns the rounding of x^2 into a relative error ~x^2 u: the
    // budget grows accordingly (1e-15 near the centre, ~1e-13 at |x| = 30).
    const double x2 = std::max(u * u, v * v);
    EXPECT_LE(rel(normal_cdf_difference(u, v, difference), reference), 1e-15 * (2.0 + x2 / 4.0)) << u << " " << v;
  }
}

// ---- KL -----------------------------------------------------------------------------------
TEST(GaussianDistances, KlMatchesOneDimensionalClosedForm) {
  const std::vector<std::array<double, 4>> cases{
      {0.0, 1.0, 0.0, 1.0}, {1.5, 0.25, 1.2, 0.3}, {-3.0, 4.0, 2.0, 0.1}, {0.0, 1.0, 1e-9, 1.0 + 1e-9}};
  for (const auto& [m0, v0, m1, v1] : cases) {
    const GaussianLaw p0{Vector::Constant(1, m0), Matrix::Constant(1, 1, v0)};
    const GaussianLaw p1{Vector::Constant(1, m1), Matrix::Constant(1, 1, v1)};
    const Real r = Real(v0) / Real(v1);
    const Real dm = Real(m1) - Real(m0);
    const double reference = static_cast<double>((r - 1 - log(r) + dm * dm / Real(v1)) / 2);
    const Estimate kl = gaussian_kl(p0, p1);
    EXPECT_EQ(kl.kind, EstimateKind::kExact);
    if (reference == 0.0) {
      EXPECT_EQ(kl.value, 0.0);
    } else {
      EXPECT_LE(rel(kl.value, reference), 1e-14) << m0 << " " << v0 << " " << m1 << " " << v1;
      EXPECT_LE(std::fabs(kl.value - reference), kl.floor + 1e-300);
    }
  }
}

TEST(GaussianDistances, KlMatchesNaiveFormulaInDimensionFour) {
  const GaussianLaw p0{Vector::LinSpaced(4, -1.0, 2.0), spd(4, 0.5, 0.3)};
  const GaussianLaw p1{Vector::LinSpaced(4, 0.5, -0.5), spd(4, 0.8, 1.1)};
  // Well conditioned: a long-double naive evaluation would also do; 50 digits leaves no doubt.
  EXPECT_LE(rel(gaussian_kl(p0, p1).value, static_cast<double>(naive_kl(p0, p1))), 1e-13);
  EXPECT_LE(rel(gaussian_kl(p1, p0).value, static_cast<double>(naive_kl(p1, p0))), 1e-13);
  // Cross-check with a long-double naive evaluation as well (the brief's reference).
  const LMatrix s0 = p0.covariance.cast<long double>(), s1 = p1.covariance.cast<long double>();
  const Eigen::LLT<LMatrix> l1(s1);
  const LVector dm = (p1.mean - p0.mean).cast<long double>();
  const long double kl_ld = 0.5L * (l1.solve(s0).trace() - 4.0L + std::log(s1.determinant() / s0.determinant()) +
                                    dm.dot(l1.solve(dm)));
  EXPECT_LE(rel(gaussian_kl(p0, p1).value, static_cast<double>(kl_ld)), 1e-13);
}

// KL(N(m, S) || N(m, (1 + delta) S)) = (d/2) (1/(1+delta) - 1 + log1p(delta)) ~ d delta^2 / 4:
// the tiny-perturbation regime where naive double evaluation has no correct digit.
TEST(GaussianDistances, KlKeepsDigitsForTinyPerturbations) {
  const int d = 4;
  const Matrix base = Vector::LinSpaced(d, 0.5, 2.0).cwiseProduct(Vector::LinSpaced(d, 0.5, 2.0)).asDiagonal();
  const Matrix q = rotation(d, 0.7);
  for (const double delta : {std::ldexp(1.0, -20), std::ldexp(1.0, -27)}) {  // 1e-6, 7e-9 (KL ~ 5e-17)
    // Diagonal of powers-of-two-free values, (1 + delta) scaling exact in binary.
    const Matrix s0 = base;
    const Matrix s1 = base * (1.0 + delta);
    ASSERT_EQ(s1(1, 1), base(1, 1) * (1.0 + delta));
    const GaussianLaw p0{Vector::Zero(d), s0}, p1{Vector::Zero(d), s1};
    const Real rd = delta;
    const double reference = static_cast<double>(Real(d) / 2 * (1 / (1 + rd) - 1 + log1p(rd)));
    EXPECT_NEAR(reference / (d * delta * delta / 4), 1.0, 2 * delta);
    const Estimate kl = gaussian_kl(p0, p1);
    EXPECT_LE(rel(kl.value, reference), 1e-9) << delta;  // >= 9 correct digits (>= 6 required)
    // Full (rotated) covariances: the reference is the 50-digit naive formula on the same inputs.
    // (Exactly symmetric inputs: the naive formula reads different triangles in different
    // places, which for an asymmetric input is inconsistent at the u |S| level.)
    const GaussianLaw r0{Vector::Zero(d), symmetric(q * s0 * q.transpose())};
    const GaussianLaw r1{Vector::Constant(d, 1e-9 * delta), symmetric(q * s1 * q.transpose())};
    EXPECT_LE(rel(gaussian_kl(r0, r1).value, static_cast<double>(naive_kl(r0, r1))), 1e-6) << delta;
    EXPECT_LE(rel(gaussian_kl(r1, r0).value, static_cast<double>(naive_kl(r1, r0))), 1e-6) << delta;
  }
}

TEST(GaussianDistances, MeanTermAndDirection) {
  const GaussianLaw p0{Vector::Zero(2), Matrix::Identity(2, 2)};
  const GaussianLaw p1{Vector::Constant(2, 1e-8), 4.0 * Matrix::Identity(2, 2)};
  // KL(p0||p1) = (1/2)(2 (1/4 - 1 + log 4) + 2e-16/4),  KL(p1||p0) = (1/2)(2 (4 - 1 - log 4) + 2e-16).
  EXPECT_NEAR(gaussian_kl(p0, p1).value, 0.25 - 1.0 + std::log(4.0) + 0.25e-16, 1e-15);
  EXPECT_NEAR(gaussian_kl(p1, p0).value, 3.0 - std::log(4.0) + 1e-16, 1e-15);
  const GaussianLaw shifted{Vector::Constant(2, 1e-8), Matrix::Identity(2, 2)};
  EXPECT_LE(rel(gaussian_kl(p0, shifted).value, 1e-16), 1e-14);  // pure mean term |dm|^2 / 2
}

// ---- W2 -----------------------------------------------------------------------------------
TEST(GaussianDistances, W2MatchesOneDimensionalAndDiagonalFormulas) {
  for (const auto& [m0, v0, m1, v1] : std::vector<std::array<double, 4>>{
           {0.0, 1.0, 0.0, 1.0 + 1e-12}, {1.5, 0.25, 1.0, 0.3}, {0.0, 2.0, 1e-10, 2.0}, {-1.0, 1e-4, 3.0, 9.0}}) {
    const GaussianLaw p0{Vector::Constant(1, m0), Matrix::Constant(1, 1, v0)};
    const GaussianLaw p1{Vector::Constant(1, m1), Matrix::Constant(1, 1, v1)};
    const Real dv = Real(v0) - Real(v1), sum = sqrt(Real(v0)) + sqrt(Real(v1)), dm = Real(m0) - Real(m1);
    const double reference = static_cast<double>(sqrt(dm * dm + dv * dv / (sum * sum)));
    EXPECT_LE(rel(gaussian_w2(p0, p1).value, reference), 4e-15) << v0 << " " << v1;
    EXPECT_LE(rel(gaussian_w2(p1, p0).value, reference), 4e-15);
  }
  // Diagonal (and rotated diagonal: the same eigenvectors) covariances.
  const Vector v0 = Vector::LinSpaced(3, 0.5, 3.0), v1 = v0.array() * (1.0 + 1e-7 * Vector::LinSpaced(3, 1, 3).array());
  Real w2sq = 0;
  for (int i = 0; i < 3; ++i) w2sq += pow(sqrt(Real(v0(i))) - sqrt(Real(v1(i))), 2);
  const Matrix q = rotation(3, 0.2);
  const GaussianLaw p0{Vector::Zero(3), symmetric(q * v0.asDiagonal() * q.transpose())};
  const GaussianLaw p1{Vector::Zero(3), symmetric(q * v1.asDiagonal() * q.transpose())};
  const GaussianLaw d0{Vector::Zero(3), v0.asDiagonal()}, d1{Vector::Zero(3), v1.asDiagonal()};
  EXPECT_LE(rel(gaussian_w2(d0, d1).value, static_cast<double>(sqrt(w2sq))), 1e-14);
  // The rotated inputs are rounded, so their exact W2 differs from the diagonal one by ~1e-16 |S| / |dS|.
  EXPECT_LE(rel(gaussian_w2(p0, p1).value, static_cast<double>(sqrt(w2sq))), 1e-7);
  EXPECT_LE(rel(gaussian_w2(p0, p1).value, static_cast<double>(sqrt(naive_w2_squared(p0, p1)))), 1e-12);
}

TEST(GaussianDistances, W2MatchesNaiveFormulaForNonCommutingCovariances) {
  const GaussianLaw p0{Vector::LinSpaced(3, -1.0, 1.0), spd(3, 0.4, 0.5)};
  const GaussianLaw p1{Vector::LinSpaced(3, 0.3, 0.1), spd(3, 0.9, 2.5)};
  EXPECT_LE(rel(gaussian_w2(p0, p1).value, static_cast<double>(sqrt(naive_w2_squared(p0, p1)))), 1e-13);
  // A tiny non-commuting perturbation: naive double evaluation has no digits left; the
  // 50-digit naive formula on the same double inputs is the reference.
  Matrix perturbation = spd(3, 0.0, 4.0);
  const GaussianLaw near{p0.mean, p0.covariance + 1e-9 * perturbation};
  const double reference = static_cast<double>(sqrt(naive_w2_squared(p0, near)));
  EXPECT_LE(rel(gaussian_w2(p0, near).value, reference), 1e-8);
  EXPECT_LE(rel(gaussian_w2(near, p0).value, reference), 1e-8);
}

// ---- Hellinger ----------------------------------------------------------------------------
TEST(GaussianDistances, HellingerMatchesClosedForms) {
  // 1-D: H^2 = 1 - sqrt(2 s0 s1 / (v0 + v1)) exp(-(m0 - m1)^2 / (4 (v0 + v1))).
  for (const auto& [m0, v0, m1, v1] :
       std::vector<std::array<double, 4>>{{1.5, 0.25, 1.2, 0.3}, {0.0, 1.0, 3.0, 0.01}, {0.0, 1.0, 0.0, 1.0 + 1e-6}}) {
    const GaussianLaw p0{Vector::Constant(1, m0), Matrix::Constant(1, 1, v0)};
    const GaussianLaw p1{Vector::Constant(1, m1), Matrix::Constant(1, 1, v1)};
    const Real s = Real(v0) + Real(v1), dm = Real(m0) - Real(m1);
    const double reference =
        static_cast<double>(1 - sqrt(2 * sqrt(Real(v0) * Real(v1)) / s) * exp(-dm * dm / (4 * s)));
    EXPECT_LE(rel(gaussian_hellinger(p0, p1).value, reference), 1e-13) << v1;
  }
  const GaussianLaw p0{Vector::LinSpaced(3, -1.0, 1.0), spd(3, 0.4, 0.5)};
  const GaussianLaw p1{Vector::LinSpaced(3, 0.3, 0.1), spd(3, 0.9, 2.5)};
  EXPECT_LE(rel(gaussian_hellinger(p0, p1).value, static_cast<double>(naive_hellinger(p0, p1))), 1e-13);
  // Tiny: H^2 ~ KL / 4 to first order.
  const GaussianLaw near{p0.mean, p0.covariance * (1.0 + 1e-8)};
  EXPECT_NEAR(gaussian_hellinger(p0, near).value / gaussian_kl(p0, near).value, 0.25, 1e-7);
  EXPECT_LE(rel(gaussian_hellinger(p0, near).value, static_cast<double>(naive_hellinger(p0, near))), 1e-6);
  // Product identity (docs/theory.md §6.5): 1 - H_d^2 = prod (1 - H_1^2).
  const GaussianLaw a{Vector::Constant(2, 0.3), Matrix::Identity(2, 2) * 0.5};
  const GaussianLaw b{Vector::Zero(2), Matrix::Identity(2, 2) * 0.7};
  const GaussianLaw a1{Vector::Constant(1, 0.3), Matrix::Constant(1, 1, 0.5)};
  const GaussianLaw b1{Vector::Zero(1), Matrix::Constant(1, 1, 0.7)};
  EXPECT_NEAR(1.0 - gaussian_hellinger(a, b).value, std::pow(1.0 - gaussian_hellinger(a1, b1).value, 2), 1e-15);
}

// ---- TV -----------------------------------------------------------------------------------
// Independent 1-D reference: (1/2) int |p0 - p1| in long double, Gauss-Kronrod on pieces
// between crossings located by bracketing on a grid + toms748.
long double reference_tv_1d(long double m0, long double v0, long double m1, long double v1) {
  const auto logp = [](long double x, long double m, long double v) {
    return -0.5L * (x - m) * (x - m) / v - 0.5L * std::log(2.0L * std::numbers::pi_v<long double> * v);
  };
  const auto diff = [&](long double x) { return logp(x, m0, v0) - logp(x, m1, v1); };
  const long double lo = std::min(m0 - 40.0L * std::sqrt(v0), m1 - 40.0L * std::sqrt(v1));
  const long double hi = std::max(m0 + 40.0L * std::sqrt(v0), m1 + 40.0L * std::sqrt(v1));
  std::vector<long double> points{lo};
  const int n = 20000;  // scan for sign changes; crossings are O(1) apart here
  for (int i = 0; i < n; ++i) {
    const long double x0 = lo + (hi - lo) * i / n, x1 = lo + (hi - lo) * (i + 1) / n;
    if ((diff(x0) < 0) != (diff(x1) < 0)) {
      boost::uintmax_t iterations = 200;
      const auto root = boost::math::tools::toms748_solve(diff, x0, x1, boost::math::tools::eps_tolerance<long double>(),
                                                          iterations);
      points.push_back(0.5L * (root.first + root.second));
    }
  }
  points.push_back(hi);
  const auto integrand = [&](long double x) {
    return std::fabs(std::exp(logp(x, m0, v0)) - std::exp(logp(x, m1, v1)));
  };
  long double total = 0.0L;
  for (std::size_t i = 0; i + 1 < points.size(); ++i)
    total += boost::math::quadrature::gauss_kronrod<long double, 61>::integrate(integrand, points[i], points[i + 1], 12,
                                                                               1e-17L);
  return 0.5L * total;
}

TEST(GaussianDistances, TvOneDimensionMatchesNumericalIntegration) {
  const std::vector<std::array<double, 4>> cases{
      {0.0, 1.0, 0.5, 1.0},  {0.0, 1.0, 0.0, 2.0},   {1.5, 0.25, 1.4, 0.3}, {-2.0, 0.01, 3.0, 4.0},
      {0.0, 1.0, 0.1, 1.05}, {0.0, 1.0, 1e-3, 0.99}, {5.0, 3.0, -1.0, 0.5}, {0.0, 1.0, 2e-2, 1.0 - 1e-2}};
  for (const auto& [m0, v0, m1, v1] : cases) {
    const GaussianLaw p0{Vector::Constant(1, m0), Matrix::Constant(1, 1, v0)};
    const GaussianLaw p1{Vector::Constant(1, m1), Matrix::Constant(1, 1, v1)};
    const double reference = static_cast<double>(reference_tv_1d(m0, v0, m1, v1));
    const Estimate tv = gaussian_tv(p0, p1);
    EXPECT_EQ(tv.kind, EstimateKind::kExact);
    EXPECT_LE(rel(tv.value, reference), 1e-13) << m0 << " " << v0 << " " << m1 << " " << v1;
    EXPECT_LE(rel(gaussian_tv(p1, p0).value, reference), 1e-13);
  }
  // Equal variances: erf(|dm| / (2 sqrt(2 v))).
  const GaussianLaw e0{Vector::Constant(1, 0.0), Matrix::Constant(1, 1, 2.0)};
  const GaussianLaw e1{Vector::Constant(1, 0.7), Matrix::Constant(1, 1, 2.0)};
  EXPECT_DOUBLE_EQ(gaussian_tv(e0, e1).value, std::erf(0.7 / (2.0 * std::sqrt(4.0))));
}

// Tiny TVs keep their relative accuracy. First order in (a, mu):
//   p0 - p1 ~ phi(y) (a y + mu (y^2 - 1)/2),  TV ~ (1/2) int phi |a y + mu (y^2 - 1)/2|,
// with relative correction O(a + mu).
TEST(GaussianDistances, TvOneDimensionTinyPerturbations) {
  const double phi1 = std::exp(-0.5) / std::sqrt(2.0 * std::numbers::pi);
  for (const double mu : {1e-6, 1e-10, 1e-13}) {
    EXPECT_NEAR(gaussian_tv_1d(0.0, mu) / (phi1 * mu), 1.0, 10 * mu + 1e-12) << mu;  // (1/2) E|mu (y^2-1)/2| = phi(1) mu
    EXPECT_NEAR(gaussian_tv_1d(0.0, -mu) / (phi1 * mu), 1.0, 10 * mu + 1e-12) << mu;
    // erf(x) = 2x/sqrt(pi) (1 - x^2/3 + ...), x = mu / (2 sqrt 2)
    EXPECT_NEAR(gaussian_tv_1d(mu, 0.0) / (mu / std::sqrt(2.0 * std::numbers::pi)), 1.0, mu * mu / 20 + 1e-14) << mu;
  }
  // Both: roots of (mu/2) y^2 + a y - mu/2; (1/2) int phi |q| by the same long-double quadrature.
  const double a = 3e-9, mu = 2e-9;
  const auto q = [&](long double y) {
    return std::exp(-0.5L * y * y) / std::sqrt(2.0L * std::numbers::pi_v<long double>) *
           std::fabs(a * y + 0.5L * mu * (y * y - 1.0L));
  };
  const long double disc = std::sqrt((long double)a * a + (long double)mu * mu);
  const long double r1 = (-a - disc) / mu, r2 = (-a + disc) / mu;
  using GK = boost::math::quadrature::gauss_kronrod<long double, 61>;
  const long double first_order =
      0.5L * (GK::integrate(q, -40.0L, r1, 12, 1e-17L) + GK::integrate(q, r1, r2, 12, 1e-17L) +
              GK::integrate(q, r2, 40.0L, 12, 1e-17L));
  EXPECT_NEAR(gaussian_tv_1d(a, mu) / static_cast<double>(first_order), 1.0, 1e-7);
}

TEST(GaussianDistances, TvTwoDimensionsProductCaseMatchesOneDimension) {
  // Only one coordinate differs: TV_2(N0, N1) = TV_1 of that coordinate.
  // (a) Diagonal inputs (exact): N((a, 0), diag(1 + mu, 1)) vs N(0, I), both coordinate orders.
  for (const auto& [a, mu] : std::vector<std::pair<double, double>>{
           {0.3, 0.2}, {0.0, -0.5}, {1e-7, 3e-7}, {2.0, 0.0}, {0.0, 1e-12}, {-4.0, 3.0}}) {
    const double mu_input = (1.0 + mu) - 1.0;  // what the rounded variance 1 + mu represents (exact)
    const double reference = gaussian_tv_1d(a, mu_input);
    const GaussianLaw identity{Vector::Zero(2), Matrix::Identity(2, 2)};
    const GaussianLaw first{Vector2d(a, 0.0), Vector2d(1.0 + mu, 1.0).asDiagonal()};
    const GaussianLaw second{Vector2d(0.0, a), Vector2d(1.0, 1.0 + mu).asDiagonal()};
    const Estimate tv = gaussian_tv(first, identity);
    EXPECT_EQ(tv.kind, EstimateKind::kExact);
    EXPECT_LE(rel(tv.value, reference), 1e-13) << a << " " << mu;
    EXPECT_LE(rel(gaussian_tv(identity, second).value, reference), 1e-13) << a << " " << mu;
    EXPECT_LE(tv.floor, 1e-11 * tv.value);
  }
  // (b) The same laws seen through x = scale-rotation t u (full covariances). The inputs are
  // rounded, which perturbs the pencil by ~u / |mu| relative: moderate mu only.
  const Matrix t = rotation(2, 0.4) * Matrix(Vector2d(0.7, 1.9).asDiagonal());
  for (const auto& [a, mu] : std::vector<std::pair<double, double>>{{0.3, 0.2}, {0.0, -0.5}, {1.0, 0.5}}) {
    const GaussianLaw p0{t * Vector2d(a, 0.0), symmetric(t * Vector2d(1.0 + mu, 1.0).asDiagonal() * t.transpose())};
    const GaussianLaw p1{Vector::Zero(2), symmetric(t * t.transpose())};
    EXPECT_LE(rel(gaussian_tv(p0, p1).value, gaussian_tv_1d(a, mu)), 1e-13) << a << " " << mu;
  }
}

TEST(GaussianDistances, TvTwoDimensionsQuadratureMatchesMonteCarlo) {
  const std::vector<std::pair<GaussianLaw, GaussianLaw>> cases{
      {{Vector2d(0.3, -0.2), spd(2, 0.5, 0.1)}, {Vector2d(0.0, 0.1), spd(2, 0.6, 0.9)}},
      {{Vector2d(0.0, 0.0), Vector2d(1.2, 0.8).asDiagonal()}, {Vector::Zero(2), Matrix::Identity(2, 2)}},
      {{Vector2d(1e-3, 0.0), Vector2d(1.0 + 2e-3, 1.0 - 1e-3).asDiagonal()}, {Vector::Zero(2), Matrix::Identity(2, 2)}},
      {{Vector2d(3.0, 1.0), Vector2d(0.05, 6.0).asDiagonal()}, {Vector::Zero(2), spd(2, 0.2, 3.0)}}};
  for (const auto& [p0, p1] : cases) {
    const Estimate exact = gaussian_tv(p0, p1);
    TvOptions mc_options;
    mc_options.max_exact_dim = 0;
    mc_options.samples = 200000;
    mc_options.seed = 7;
    const Estimate mc = gaussian_tv(p0, p1, mc_options);
    EXPECT_EQ(mc.kind, EstimateKind::kUnbiasedMonteCarlo);
    EXPECT_GT(mc.std_error, 0.0);
    EXPECT_LE(std::fabs(exact.value - mc.value), 5.0 * mc.std_error) << exact.value << " " << mc.value;
    // Convergence of the quadrature: a looser tolerance agrees within its error estimate,
    // and the reported budget is small.
    TvOptions loose;
    loose.quadrature_tolerance = 1e-8;
    const Estimate coarse = gaussian_tv(p0, p1, loose);
    EXPECT_LE(std::fabs(coarse.value - exact.value), coarse.floor + 1e-14 * exact.value);
    EXPECT_LE(exact.floor, 1e-10 * exact.value);
  }
}

TEST(GaussianDistances, TvMonteCarloInThreeDimensionsMatchesProductFormula) {
  // Only the first coordinate differs: TV_3 = TV_1.
  const GaussianLaw p0{Vector3d(0.2, 0.0, 0.0), Vector3d(1.3, 2.0, 0.5).asDiagonal()};
  const GaussianLaw p1{Vector::Zero(3), Vector3d(1.0, 2.0, 0.5).asDiagonal()};
  TvOptions options;
  options.samples = 100000;
  options.seed = 11;
  const Estimate mc = gaussian_tv(p0, p1, options);
  EXPECT_EQ(mc.kind, EstimateKind::kUnbiasedMonteCarlo);
  EXPECT_LE(std::fabs(mc.value - gaussian_tv_1d(0.2 / std::sqrt(1.0), 0.3)), 5.0 * mc.std_error);
  // Reproducible: same seed, same number; another seed, another number.
  EXPECT_EQ(gaussian_tv(p0, p1, options).value, mc.value);
  options.seed = 12;
  EXPECT_NE(gaussian_tv(p0, p1, options).value, mc.value);
}

TEST(GaussianDistances, RejectsInvalidInput) {
  const GaussianLaw good{Vector::Zero(2), Matrix::Identity(2, 2)};
  const GaussianLaw indefinite{Vector::Zero(2), Vector2d(1.0, -1.0).asDiagonal()};
  const GaussianLaw wrong_size{Vector::Zero(3), Matrix::Identity(3, 3)};
  Matrix nan_cov = Matrix::Identity(2, 2);
  nan_cov(0, 1) = std::nan("");
  EXPECT_THROW(gaussian_kl(good, indefinite), InvalidArgument);
  EXPECT_THROW(gaussian_kl(indefinite, good), InvalidArgument);
  EXPECT_THROW(gaussian_w2(indefinite, good), InvalidArgument);
  EXPECT_THROW(gaussian_tv(good, wrong_size), InvalidArgument);
  EXPECT_THROW(gaussian_hellinger(good, GaussianLaw{Vector::Zero(2), nan_cov}), InvalidArgument);
}

}  // namespace
}  // namespace dmconv
