// Conformance suite for analytic targets (core/target.hpp), instantiated over every entry of
// target_registry() (with its example parameters) plus extra, harder instances built through
// the same registry factories. Each instance is tested at three noise levels:
//   small  1 - abar = 1e-4   (next to the data; components at full anisotropy)
//   medium abar = 0.5
//   large  abar = 1e-6       (next to N(0, I))
//
// Generic properties (any target): score = grad log_density (central differences), Jacobian
// = grad score and symmetric, structured Jacobian = dense Jacobian, Stein's identity for the
// exact samples (E s(X) = 0, E s(X) X^T = -I), bitwise batch invariance.
// Closed-form properties (targets that the test can read as a Gaussian mixture): log_density,
// score and Jacobian against docs/theory.md §8.1 evaluated independently in long double here,
// normalisation by quadrature (d <= 2), sample moments within 5 SE, and a KS test (p = 1e-6)
// of random 1-D projections against the exact projected mixture CDF.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/quadrature/gauss.hpp>
#include <cmath>
#include <cstring>
#include <memory>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/target.hpp"
#include "targets/gaussian_component.hpp"
#include "targets/gaussian_mixture.hpp"
#include "targets/registry.hpp"

namespace dmconv {
namespace {

using ld = long double;
using MatrixL = Eigen::Matrix<ld, Eigen::Dynamic, Eigen::Dynamic>;
using VectorL = Eigen::Matrix<ld, Eigen::Dynamic, 1>;

constexpr int kSamples = 200000;
constexpr double kZ = 5.0;           // Monte Carlo: |estimate - exact| <= 5 SE
constexpr double kKsPValue = 1e-6;   // sample laws: reject at p = 1e-6

// ------------------------------------------------------------------------------------------
// The instances.

struct TargetCase {
  std::string label;
  std::string entry;  // registry name
  ParamTable params;
};

void PrintTo(const TargetCase& c, std::ostream* os) { *os << c.label; }

ParamValue Rows(const std::vector<std::vector<double>>& rows) {
  ParamValue::List list;
  for (const auto& row : rows) list.emplace_back(row);
  return list;
}

ParamValue MatrixList(const std::vector<std::vector<std::vector<double>>>& matrices) {
  ParamValue::List list;
  for (const auto& m : matrices) list.push_back(Rows(m));
  return list;
}

std::vector<TargetCase> AllCases() {
  std::vector<TargetCase> cases;
  for (const auto& entry : target_registry().entries()) cases.push_back({"registry_" + entry.name, entry.name, entry.example});
  // Unequal weights, anisotropic full covariances, non-zero means, d = 3.
  cases.push_back({"mixture_full_d3", "gaussian_mixture",
                   {{"weights", std::vector<double>{0.55, 0.3, 0.15}},
                    {"means", Rows({{1.0, -1.0, 0.5}, {-1.5, 0.5, 2.0}, {0.3, 2.0, -1.2}})},
                    {"covariances", MatrixList({{{0.8, 0.3, -0.1}, {0.3, 0.5, 0.2}, {-0.1, 0.2, 0.3}},
                                                {{0.2, -0.15, 0.05}, {-0.15, 1.5, 0.4}, {0.05, 0.4, 0.6}},
                                                {{1.2, 0.5, 0.3}, {0.5, 0.4, 0.1}, {0.3, 0.1, 0.25}}})}}});
  // Diagonal covariances, d = 4.
  cases.push_back({"mixture_diagonal_d4", "gaussian_mixture",
                   {{"weights", std::vector<double>{0.7, 0.3}},
                    {"means", Rows({{1.0, 0.0, -1.0, 2.0}, {-1.0, 1.5, 0.5, -0.5}})},
                    {"variances", Rows({{0.2, 1.0, 0.5, 2.0}, {1.5, 0.1, 0.8, 0.3}})}}});
  // Isotropic components, d = 5, K = 3.
  cases.push_back({"mixture_isotropic_d5", "gaussian_mixture",
                   {{"weights", std::vector<double>{0.2, 0.5, 0.3}},
                    {"means", Rows({{2.0, 0.0, 0.0, -1.0, 1.0}, {-1.0, 1.0, 0.5, 0.0, -0.5}, {0.0, -2.0, 1.0, 1.0, 0.0}})},
                    {"variance", std::vector<double>{0.3, 1.2, 0.6}}}});
  // 1-D bimodal isotropic mixture (normalisation by quadrature, well separated modes).
  cases.push_back({"mixture_isotropic_d1", "gaussian_mixture",
                   {{"weights", std::vector<double>{0.35, 0.65}},
                    {"means", Rows({{-2.0}, {1.5}})},
                    {"variance", std::vector<double>{0.25, 0.6}}}});
  // Gaussian with a full, anisotropic covariance, d = 3.
  cases.push_back({"gaussian_full_d3", "gaussian",
                   {{"mean", std::vector<double>{0.5, -1.0, 2.0}},
                    {"covariance", Rows({{2.0, 0.6, -0.3}, {0.6, 0.4, 0.05}, {-0.3, 0.05, 0.2}})}}});
  // Gaussian with a diagonal covariance, d = 3.
  cases.push_back({"gaussian_diagonal_d3", "gaussian",
                   {{"mean", std::vector<double>{-0.5, 0.25, 1.0}}, {"variances", std::vector<double>{0.05, 0.7, 3.0}}}});
  // Uniform boxes (docs/theory.md §8.2): d = 1 and d = 3, and a product with a uniform_box factor.
  cases.push_back({"uniform_box_d1", "uniform_box", {{"half_width", 1.0}, {"dim", 1}}});
  cases.push_back({"uniform_box_d3", "uniform_box", {{"half_width", 0.7}, {"dim", 3}}});
  cases.push_back({"product_uniform_box_d2", "product",
                   {{"dim", 2}, {"factor", std::string("uniform_box")}, {"half_width", 1.5}}});
  // Heavy-tailed control (targets/student_t.hpp): no closed-form reference here, generic checks
  // only. Stein's identity holds for every nu > 0 (p_t and x p_t vanish at infinity), and its
  // 5-SE test is valid because s*(x) and x s*(x) are bounded (s* ~ -(nu + 1)/x in the tails),
  // so the summands have finite variance whatever nu (Var X itself is finite for nu > 2: 2.5, 3
  // and the registry example 4). Moderate nu keeps the 200000 samples' extreme |x| moderate
  // (~1e3 at nu = 2.5), where the score is well resolved; nu = 1 (Cauchy) is covered in
  // student_t_test.cpp against the Voigt profile.
  cases.push_back({"student_t_nu3", "student_t", {{"degrees_of_freedom", 3.0}, {"scale", 1.0}}});
  cases.push_back({"product_student_t_d3", "product",
                   {{"dim", 3}, {"factor", std::string("student_t")}, {"degrees_of_freedom", 2.5}, {"scale", 1.0}}});
  // Spheres (docs/theory.md §8.3): the circle of radius 1.5 and S^7 of radius 2 (generic checks only:
  // ReadMixture returns nullopt, so the mixture closed-form checks skip, as for uniform_box).
  cases.push_back({"sphere_d2", "sphere", {{"radius", 1.5}, {"dim", 2}}});
  cases.push_back({"sphere_d8", "sphere", {{"radius", 2.0}, {"dim", 8}}});
  return cases;
}

struct LevelCase {
  std::string label;
  NoiseLevel level;
};

void PrintTo(const LevelCase& c, std::ostream* os) { *os << c.label; }

const std::vector<LevelCase> kLevels = {
    {"small", NoiseLevel::from_one_minus_abar(1e-4)},
    {"medium", NoiseLevel(0.5, 0.5)},
    {"large", NoiseLevel::from_abar(1e-6)},
};

// ------------------------------------------------------------------------------------------
// Independent reference: the test reads the parameters itself (registry key conventions of
// targets/registry.cpp) and evaluates docs/theory.md §8.1 in long double.

struct Mixture {
  std::vector<double> weights;
  std::vector<Vector> means;
  std::vector<Matrix> covariances;
  bool any_full = false;
  int dim() const { return static_cast<int>(means.front().size()); }
};

std::optional<Mixture> ReadMixture(const TargetCase& c) {
  const std::string ctx = "test reference";
  const ParamTable& p = c.params;
  Mixture m;
  if (c.entry == "gaussian") {
    m.weights = {1.0};
    m.means = {p.vector(ctx, "mean")};
    const auto d = m.means[0].size();
    if (p.has("covariance")) {
      m.covariances = {p.matrix(ctx, "covariance")};
      m.any_full = true;
    } else if (p.has("variances")) {
      m.covariances = {Matrix(p.vector(ctx, "variances").asDiagonal())};
    } else {
      m.covariances = {p.number(ctx, "variance") * Matrix::Identity(d, d)};
    }
    return m;
  }
  if (c.entry == "gaussian_mixture") {
    const Vector w = p.vector(ctx, "weights");
    const Matrix means = p.matrix(ctx, "means");
    const auto d = means.cols();
    for (Eigen::Index k = 0; k < w.size(); ++k) {
      m.weights.push_back(w(k));
      m.means.push_back(means.row(k).transpose());
    }
    if (p.has("covariances")) {
      m.covariances = p.matrices(ctx, "covariances");
      m.any_full = true;
    } else if (p.has("variances")) {
      const Matrix v = p.matrix(ctx, "variances");
      for (Eigen::Index k = 0; k < w.size(); ++k) m.covariances.push_back(Matrix(v.row(k).transpose().asDiagonal()));
    } else {
      const Vector v = p.vector(ctx, "variance");
      for (Eigen::Index k = 0; k < w.size(); ++k) m.covariances.push_back(v(k) * Matrix::Identity(d, d));
    }
    return m;
  }
  return std::nullopt;  // a target the reference does not know: generic checks only
}

double StandardNormalCdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// p_t = sum_k pi_k N(m_k, C_k), m_k = sqrt(a) mu_k, C_k = a Sigma_k + (1-a) I (docs/theory.md §8.1).
class ReferenceAtLevel {
 public:
  ReferenceAtLevel(const Mixture& mixture, const NoiseLevel& level) : mixture_(mixture) {
    const ld a = level.abar(), b = level.one_minus_abar();
    const int d = mixture.dim();
    min_eig_ = 1e300;
    max_eig_ = 0;
    for (std::size_t k = 0; k < mixture.weights.size(); ++k) {
      const VectorL m = std::sqrt(a) * mixture.means[k].cast<ld>();
      MatrixL C = a * mixture.covariances[k].cast<ld>() + b * MatrixL::Identity(d, d);
      Eigen::LLT<MatrixL> llt(C);
      EXPECT_EQ(llt.info(), Eigen::Success);
      const ld log_det = 2 * llt.matrixLLT().diagonal().array().log().sum();
      m_.push_back(m);
      C_.push_back(C);
      P_.push_back(llt.solve(MatrixL::Identity(d, d)));
      log_pi_norm_.push_back(std::log(ld(mixture.weights[k])) -
                             0.5L * (d * std::log(2 * std::numbers::pi_v<ld>) + log_det));
      Eigen::SelfAdjointEigenSolver<Matrix> eig(C.cast<double>());
      min_eig_ = std::min(min_eig_, eig.eigenvalues().minCoeff());
      max_eig_ = std::max(max_eig_, eig.eigenvalues().maxCoeff());
    }
  }

  // log p_t(x), s*(x) and J*(x) at one point, log-sum-exp in long double.
  void Evaluate(const Vector& x_double, ld& log_p, VectorL& score, MatrixL& jacobian) const {
    const VectorL x = x_double.cast<ld>();
    const std::size_t K = m_.size();
    std::vector<ld> log_terms(K);
    std::vector<VectorL> g(K);
    for (std::size_t k = 0; k < K; ++k) {
      const VectorL r = x - m_[k];
      g[k] = -P_[k] * r;
      log_terms[k] = log_pi_norm_[k] - 0.5L * r.dot(P_[k] * r);
    }
    const ld top = *std::max_element(log_terms.begin(), log_terms.end());
    ld total = 0;
    for (ld t : log_terms) total += std::exp(t - top);
    log_p = top + std::log(total);
    const int d = static_cast<int>(x.size());
    score = VectorL::Zero(d);
    jacobian = MatrixL::Zero(d, d);
    for (std::size_t k = 0; k < K; ++k) {
      const ld w = std::exp(log_terms[k] - log_p);
      score += w * g[k];
      jacobian += w * (g[k] * g[k].transpose() - P_[k]);
    }
    jacobian -= score * score.transpose();
  }

  // Moments of p_t: mean sqrt(a) sum pi mu, covariance a (sum pi (Sigma + mu mu^T) - mbar mbar^T) + (1-a) I.
  Vector Mean(const NoiseLevel& level) const {
    Vector mbar = Vector::Zero(mixture_.dim());
    for (std::size_t k = 0; k < m_.size(); ++k) mbar += mixture_.weights[k] * mixture_.means[k];
    return level.sqrt_abar() * mbar;
  }
  Matrix Covariance(const NoiseLevel& level) const {
    const int d = mixture_.dim();
    Vector mbar = Vector::Zero(d);
    Matrix second = Matrix::Zero(d, d);
    for (std::size_t k = 0; k < m_.size(); ++k) {
      mbar += mixture_.weights[k] * mixture_.means[k];
      second += mixture_.weights[k] * (mixture_.covariances[k] + mixture_.means[k] * mixture_.means[k].transpose());
    }
    return level.abar() * (second - mbar * mbar.transpose()) + level.one_minus_abar() * Matrix::Identity(d, d);
  }
  // CDF of u^T X_t: sum_k pi_k Phi((y - u^T m_k) / sqrt(u^T C_k u)).
  // Phi(z) = erfc(-z/sqrt 2)/2 (libm; Boost's normal cdf is the same function with policy
  // checks, 10x slower over the 1.8e6 evaluations per test; the KS helper test below checks
  // the two agree).
  double ProjectedCdf(const VectorL& u, double y) const {
    double total = 0;
    for (std::size_t k = 0; k < m_.size(); ++k) {
      const double mean = static_cast<double>(u.dot(m_[k]));
      const double sd = static_cast<double>(std::sqrt(u.dot(C_[k] * u)));
      total += mixture_.weights[k] * StandardNormalCdf((y - mean) / sd);
    }
    return total;
  }

  double min_eig() const { return min_eig_; }  // over all C_k
  double max_eig() const { return max_eig_; }
  const std::vector<VectorL>& component_means() const { return m_; }

 private:
  const Mixture& mixture_;
  std::vector<VectorL> m_;
  std::vector<MatrixL> C_, P_;
  std::vector<ld> log_pi_norm_;
  double min_eig_, max_eig_;
};

// Asymptotic Kolmogorov distribution with Stephens' finite-n correction:
// P(D_n > d) ~ Q((sqrt(n) + 0.12 + 0.11/sqrt(n)) d),  Q(l) = 2 sum_{k>=1} (-1)^{k-1} e^{-2 k^2 l^2}.
double KolmogorovPValue(double statistic, std::size_t n) {
  const double root = std::sqrt(static_cast<double>(n));
  const double lambda = (root + 0.12 + 0.11 / root) * statistic;
  if (lambda < 0.2) return 1.0;
  double sum = 0;
  for (int k = 1; k <= 200; ++k) sum += (k % 2 ? 2.0 : -2.0) * std::exp(-2.0 * k * k * lambda * lambda);
  return std::clamp(sum, 0.0, 1.0);
}

// Two-sided one-sample KS statistic of `values` against `cdf`.
template <class Cdf>
double KsStatistic(std::vector<double> values, Cdf&& cdf) {
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  double worst = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double F = cdf(values[i]);
    worst = std::max({worst, (static_cast<double>(i) + 1) / n - F, F - static_cast<double>(i) / n});
  }
  return worst;
}

bool BitwiseEqual(const Matrix& a, const Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}
bool BitwiseEqual(const Vector& a, const Vector& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

const RandomStreams kStreams(20240611, 3);

// ------------------------------------------------------------------------------------------

class TargetConformance : public testing::TestWithParam<std::tuple<TargetCase, LevelCase>> {
 protected:
  void SetUp() override {
    target_ = target_registry().make(Case().entry, Case().params);
    ASSERT_NE(target_, nullptr);
    mixture_ = ReadMixture(Case());
    if (mixture_) {
      ASSERT_EQ(mixture_->dim(), target_->dim());
      reference_.emplace(*mixture_, Level());
    }
  }
  const TargetCase& Case() const { return std::get<0>(GetParam()); }
  const NoiseLevel& Level() const { return std::get<1>(GetParam()).level; }
  int d() const { return target_->dim(); }

  // Smallest component variance at this level: the length scale of p_t. Without a reference,
  // 1 - abar bounds it below (p_t is smoothed by N(0, (1-abar) I)).
  double LengthScale2() const { return reference_ ? reference_->min_eig() : Level().one_minus_abar(); }

  // Evaluation points: exact samples of p_t, midpoints between pairs (mixed responsibilities)
  // and two points pushed into the tails.
  Matrix Points() const {
    const Matrix draws = target_->sample(Level(), kStreams, 0, 8, StreamTag(StreamPurpose::kTest, 1));
    Matrix points(d(), 14);
    points.leftCols(8) = draws;
    for (int j = 0; j < 4; ++j) points.col(8 + j) = 0.5 * (draws.col(2 * j) + draws.col(2 * j + 1));
    points.col(12) = 1.8 * draws.col(0);
    points.col(13) = 1.5 * draws.col(3);
    return points;
  }

  std::unique_ptr<Target> target_;
  std::optional<Mixture> mixture_;
  std::optional<ReferenceAtLevel> reference_;
};

// (a) s*(x) = grad log p_t(x). Central differences with step 1e-5 sqrt(c_min): truncation
// ~ (h^2/c) relative = 1e-10, rounding ~ eps |log p| / h < 1e-8 of the score scale.
// Tolerance 1e-6 relative to |s_i|, with the floor 1/sqrt(c_min) (the score's natural scale).
TEST_P(TargetConformance, ScoreIsTheGradientOfLogDensity) {
  const Matrix points = Points();
  const Matrix score = target_->score(Level(), points);
  const double step = 1e-5 * std::sqrt(LengthScale2());
  const double floor = 1.0 / std::sqrt(LengthScale2());
  for (Eigen::Index j = 0; j < points.cols(); ++j) {
    for (int i = 0; i < d(); ++i) {
      Matrix pair(d(), 2);
      pair.col(0) = points.col(j);
      pair.col(1) = points.col(j);
      pair(i, 0) += step;
      pair(i, 1) -= step;
      const Vector log_p = target_->log_density(Level(), pair);
      const double fd = (log_p(0) - log_p(1)) / (pair(i, 0) - pair(i, 1));
      EXPECT_NEAR(score(i, j), fd, 1e-6 * (std::fabs(score(i, j)) + floor)) << "point " << j << ", coordinate " << i;
    }
  }
}

// (b) J*(x) = grad s*(x) by central differences (same step and error budget as (a), one
// derivative order up: floor 1/c_min), and J* is symmetric (it is a Hessian) to 1e-12.
TEST_P(TargetConformance, JacobianIsTheGradientOfScoreAndSymmetric) {
  const Matrix points = Points();
  const double step = 1e-5 * std::sqrt(LengthScale2());
  const double floor = 1.0 / LengthScale2();
  for (Eigen::Index j = 0; j < points.cols(); ++j) {
    const Vector x = points.col(j);
    const Matrix J = target_->score_jacobian(Level(), x);
    ASSERT_EQ(J.rows(), d());
    ASSERT_EQ(J.cols(), d());
    const double scale = J.cwiseAbs().maxCoeff();
    EXPECT_LE((J - J.transpose()).cwiseAbs().maxCoeff(), 1e-12 * scale) << "point " << j;
    for (int i = 0; i < d(); ++i) {
      Matrix pair(d(), 2);
      pair.col(0) = x;
      pair.col(1) = x;
      pair(i, 0) += step;
      pair(i, 1) -= step;
      const Matrix s = target_->score(Level(), pair);
      const Vector fd = (s.col(0) - s.col(1)) / (pair(i, 0) - pair(i, 1));
      for (int r = 0; r < d(); ++r)
        EXPECT_NEAR(J(r, i), fd(r), 1e-6 * (scale + floor)) << "point " << j << ", entry (" << r << ", " << i << ")";
    }
  }
}

// (c) The diagonal-plus-low-rank form, when offered, is the same matrix (1e-12 relative to
// the size of the summed terms: max_k |g_k|^2 + |C_k^{-1}| bounds the cancellation).
// It is offered exactly when no component has a full covariance.
TEST_P(TargetConformance, StructuredJacobianMatchesDense) {
  const Matrix points = Points();
  for (Eigen::Index j = 0; j < points.cols(); ++j) {
    const Vector x = points.col(j);
    const auto structured = target_->score_jacobian_structured(Level(), x);
    if (mixture_) {
      EXPECT_EQ(structured.has_value(), !mixture_->any_full) << "point " << j;
    }
    if (!structured) continue;
    const Matrix dense = structured->dense();
    const Matrix J = target_->score_jacobian(Level(), x);
    ASSERT_EQ(dense.rows(), d());
    ASSERT_EQ(dense.cols(), d());
    ASSERT_EQ(structured->diagonal.size(), d());
    ASSERT_EQ(structured->factor.rows(), d());
    ASSERT_EQ(structured->core.rows(), structured->factor.cols());
    ASSERT_EQ(structured->core.cols(), structured->factor.cols());
    // Both forms sum terms of size |C_k^{-1}| and w_k |g_k|^2 <= max_k |g_k|^2 that cancel down
    // to |J|; rounding is relative to the terms.
    const double terms = structured->diagonal.cwiseAbs().maxCoeff() +
                         (structured->factor.cols() > 0 ? structured->factor.colwise().squaredNorm().maxCoeff() : 0.0);
    EXPECT_LE((dense - J).cwiseAbs().maxCoeff(), 1e-12 * std::max(J.cwiseAbs().maxCoeff(), terms)) << "point " << j;
  }
}

// (d, part 1) log_density, score and Jacobian against docs/theory.md §8.1 evaluated here in long
// double. Double-precision evaluation through Cholesky factors: relative error ~ d cond(C)
// eps ~ 1e-13; tolerances 1e-12 (log density, floor 1) and 1e-11 (score and Jacobian, floors
// 1/sqrt(c_min) and 1/c_min).
TEST_P(TargetConformance, MatchesClosedFormsOfTheory) {
  if (!reference_) GTEST_SKIP() << "no closed-form reference for target '" << Case().entry << "'";
  const Matrix points = Points();
  const Vector log_p = target_->log_density(Level(), points);
  const Matrix score = target_->score(Level(), points);
  for (Eigen::Index j = 0; j < points.cols(); ++j) {
    ld ref_log_p;
    VectorL ref_score;
    MatrixL ref_jacobian;
    reference_->Evaluate(points.col(j), ref_log_p, ref_score, ref_jacobian);
    EXPECT_NEAR(log_p(j), static_cast<double>(ref_log_p), 1e-12 * (1 + std::fabs(static_cast<double>(ref_log_p))))
        << "point " << j;
    const double score_tol = 1e-11 * (ref_score.cast<double>().cwiseAbs().maxCoeff() + 1 / std::sqrt(reference_->min_eig()));
    EXPECT_LE((score.col(j) - ref_score.cast<double>()).cwiseAbs().maxCoeff(), score_tol) << "point " << j;
    const Matrix J = target_->score_jacobian(Level(), points.col(j));
    const double jac_tol = 1e-11 * (ref_jacobian.cast<double>().cwiseAbs().maxCoeff() + 1 / reference_->min_eig());
    EXPECT_LE((J - ref_jacobian.cast<double>()).cwiseAbs().maxCoeff(), jac_tol) << "point " << j;
  }
}

// (d, part 2) p_t integrates to 1, for d <= 2: tensor composite 20-point Gauss-Legendre with
// panels one narrowest-component standard deviation wide over centre +- (spread + 10 sd_max).
// Mass outside the box < 1e-20; quadrature error on a Gaussian over one-sd panels < 1e-15;
// summation rounding ~ N eps. Tolerance 1e-11.
TEST_P(TargetConformance, DensityIntegratesToOne) {
  if (!reference_) GTEST_SKIP() << "no reference scales for target '" << Case().entry << "'";
  if (d() > 2) GTEST_SKIP() << "quadrature only for d <= 2 (d = " << d() << ")";
  using Rule = boost::math::quadrature::gauss<double, 20>;
  const auto& abscissa = Rule::abscissa();
  const auto& weight = Rule::weights();
  // 1-D nodes and weights for each axis.
  std::vector<std::vector<double>> nodes(static_cast<std::size_t>(d())), weights(static_cast<std::size_t>(d()));
  const double panel = std::sqrt(reference_->min_eig());
  for (int axis = 0; axis < d(); ++axis) {
    double lo = 1e300, hi = -1e300;
    for (const VectorL& m : reference_->component_means()) {
      lo = std::min(lo, static_cast<double>(m(axis)));
      hi = std::max(hi, static_cast<double>(m(axis)));
    }
    lo -= 10 * std::sqrt(reference_->max_eig());
    hi += 10 * std::sqrt(reference_->max_eig());
    const int panels = static_cast<int>(std::ceil((hi - lo) / panel));
    const double width = (hi - lo) / panels;
    for (int p = 0; p < panels; ++p) {
      const double centre = lo + (p + 0.5) * width;
      for (std::size_t q = 0; q < abscissa.size(); ++q) {
        // Boost stores the 10 positive abscissae of the (even, zero-free) 20-point rule.
        for (double sign : {-1.0, 1.0}) {
          nodes[axis].push_back(centre + sign * abscissa[q] * width / 2);
          weights[axis].push_back(weight[q] * width / 2);
        }
      }
    }
  }
  ld total = 0;
  if (d() == 1) {
    Matrix x(1, static_cast<Eigen::Index>(nodes[0].size()));
    for (std::size_t i = 0; i < nodes[0].size(); ++i) x(0, static_cast<Eigen::Index>(i)) = nodes[0][i];
    const Vector log_p = target_->log_density(Level(), x);
    for (std::size_t i = 0; i < nodes[0].size(); ++i) total += weights[0][i] * std::exp(ld(log_p(static_cast<Eigen::Index>(i))));
  } else {
    Matrix x(2, static_cast<Eigen::Index>(nodes[0].size()));
    for (std::size_t i = 0; i < nodes[0].size(); ++i) x(0, static_cast<Eigen::Index>(i)) = nodes[0][i];
    for (std::size_t k = 0; k < nodes[1].size(); ++k) {
      x.row(1).setConstant(nodes[1][k]);
      const Vector log_p = target_->log_density(Level(), x);
      ld row = 0;
      for (std::size_t i = 0; i < nodes[0].size(); ++i) row += weights[0][i] * std::exp(ld(log_p(static_cast<Eigen::Index>(i))));
      total += weights[1][k] * row;
    }
  }
  EXPECT_NEAR(static_cast<double>(total), 1.0, 1e-11);
}

// (e) Exact sampling, 200000 draws of p_t:
//   * Stein's identity (any target): E s(X) = 0 and E s(X) X^T = -I, each entry within 5 SE
//     (SE from the sample variance of the summand);
//   * sample mean and covariance against the closed-form moments within 5 SE (covariance SE
//     from the sample fourth moments);
//   * KS tests (p = 1e-6) of three random projections u^T X against the exact projected CDF.
TEST_P(TargetConformance, ExactSamplesFollowTheLaw) {
  // Drawn and scored in parallel chunks (first_particle offsets; batch invariance is (f)).
  constexpr int kChunks = 16;
  static_assert(kSamples % kChunks == 0);
  constexpr Eigen::Index kChunk = kSamples / kChunks;
  Matrix X(d(), kSamples), S(d(), kSamples);
#pragma omp parallel for schedule(static)
  for (int c = 0; c < kChunks; ++c) {
    target_->sample(Level(), kStreams, static_cast<std::uint64_t>(c * kChunk), StreamTag(StreamPurpose::kTargetSample, 11),
                    X.middleCols(c * kChunk, kChunk));
    target_->score(Level(), X.middleCols(c * kChunk, kChunk), S.middleCols(c * kChunk, kChunk));
  }
  ASSERT_TRUE(X.allFinite());
  ASSERT_TRUE(S.allFinite());
  const double n = kSamples;

  // Stein: integration by parts against p_t.
  {
    for (int i = 0; i < d(); ++i) {
      const double mean = S.row(i).mean();
      const double se = std::sqrt((S.row(i).array() - mean).square().sum() / (n - 1) / n);
      EXPECT_NEAR(mean, 0.0, kZ * se) << "E s_" << i;
      for (int k = 0; k < d(); ++k) {
        const Eigen::ArrayXd product = (S.row(i).array() * X.row(k).array()).transpose();
        const double m = product.mean();
        const double se_m = std::sqrt((product - m).square().sum() / (n - 1) / n);
        EXPECT_NEAR(m, i == k ? -1.0 : 0.0, kZ * se_m) << "E s_" << i << " x_" << k;
      }
    }
  }
  if (!reference_) return;

  // Moments.
  const Vector mean = X.rowwise().mean();
  const Matrix centred = X.colwise() - mean;
  const Matrix cov = centred * centred.transpose() / n;
  const Vector exact_mean = reference_->Mean(Level());
  const Matrix exact_cov = reference_->Covariance(Level());
  for (int i = 0; i < d(); ++i) {
    EXPECT_NEAR(mean(i), exact_mean(i), kZ * std::sqrt(cov(i, i) / n)) << "mean " << i;
    for (int k = 0; k <= i; ++k) {
      const Eigen::ArrayXd product = (centred.row(i).array() * centred.row(k).array()).transpose();
      const double se = std::sqrt((product - cov(i, k)).square().mean() / n);
      EXPECT_NEAR(cov(i, k), exact_cov(i, k), kZ * se) << "covariance (" << i << ", " << k << ")";
    }
  }

  // KS of random projections.
  for (int p = 0; p < 3; ++p) {
    Vector u(d());
    kStreams.normals(static_cast<std::uint64_t>(p), StreamTag(StreamPurpose::kTest, 2), u.data(), d());
    u.normalize();
    const Eigen::RowVectorXd projected = u.transpose() * X;
    std::vector<double> values(projected.data(), projected.data() + projected.size());
    const VectorL ul = u.cast<ld>();
    const double D = KsStatistic(values, [&](double y) { return reference_->ProjectedCdf(ul, y); });
    const double p_value = KolmogorovPValue(D, values.size());
    EXPECT_GE(p_value, kKsPValue) << "projection " << p << ": D = " << D << ", u = " << u.transpose();
  }
}

// (f) Batch invariance, bitwise: a 37-column batch equals the columns evaluated one by one
// and in sub-batches of 5 and 16 (written into sub-blocks of the output); sample() over
// particles [first, first + 37) equals the concatenation of calls with first_particle offsets.
TEST_P(TargetConformance, ResultsDoNotDependOnTheBatch) {
  const Eigen::Index n = 37;
  const std::uint64_t first = 1000;
  const StreamTag tag(StreamPurpose::kTargetSample, 5);
  const Matrix x = target_->sample(Level(), kStreams, first, n, tag);
  const Matrix score = target_->score(Level(), x);
  const Vector log_p = target_->log_density(Level(), x);
  for (Eigen::Index chunk : {Eigen::Index{1}, Eigen::Index{5}, Eigen::Index{16}}) {
    Matrix score_chunks(d(), n), samples_chunks(d(), n);
    Vector log_p_chunks(n);
    for (Eigen::Index j = 0; j < n; j += chunk) {
      const Eigen::Index len = std::min(chunk, n - j);
      target_->score(Level(), x.middleCols(j, len), score_chunks.middleCols(j, len));
      target_->log_density(Level(), x.middleCols(j, len), log_p_chunks.segment(j, len));
      target_->sample(Level(), kStreams, first + static_cast<std::uint64_t>(j), tag, samples_chunks.middleCols(j, len));
    }
    EXPECT_TRUE(BitwiseEqual(score, score_chunks)) << "score, chunk " << chunk << "\n" << (score - score_chunks);
    EXPECT_TRUE(BitwiseEqual(log_p, log_p_chunks)) << "log_density, chunk " << chunk << "\n" << (log_p - log_p_chunks).transpose();
    EXPECT_TRUE(BitwiseEqual(x, samples_chunks)) << "sample, chunk " << chunk;
  }
  // Fresh-object wrappers agree with the in-place forms, and the Jacobian of a column does
  // not depend on where the column came from.
  for (Eigen::Index j : {Eigen::Index{0}, Eigen::Index{17}, Eigen::Index{36}}) {
    const Vector column = x.col(j);
    EXPECT_TRUE(BitwiseEqual(target_->score_jacobian(Level(), x.col(j)), target_->score_jacobian(Level(), column)));
  }
}

// score_is_affine() promises s*_t(x) = J x + c with a constant J (exact Gaussian law
// propagation relies on it): then J is the same at every point and s(x) - s(y) = J (x - y)
// (rounding of a d-term product: 1e-12 relative to |J| |x - y|). A mixture of two or more
// distinct components is never affine.
TEST_P(TargetConformance, AffineScoreClaimIsTrue) {
  if (mixture_) {
    EXPECT_EQ(target_->score_is_affine(), mixture_->weights.size() == 1);
  }
  if (!target_->score_is_affine()) return;
  const Matrix points = Points();
  const Matrix score = target_->score(Level(), points);
  const Matrix J = target_->score_jacobian(Level(), points.col(0));
  for (Eigen::Index j = 1; j < points.cols(); ++j) {
    EXPECT_TRUE(BitwiseEqual(target_->score_jacobian(Level(), points.col(j)), J)) << "point " << j;
    const Vector dx = points.col(j) - points.col(0);
    const Vector predicted = J * dx;
    const double tol = 1e-12 * (J.cwiseAbs() * dx.cwiseAbs()).maxCoeff() + 1e-12 * score.cwiseAbs().maxCoeff();
    EXPECT_LE((score.col(j) - score.col(0) - predicted).cwiseAbs().maxCoeff(), tol) << "point " << j;
  }
}

// ------------------------------------------------------------------------------------------
// Optional parts of the Target interface (moments(), score_jacobian_apply()). They are being
// added to core/target.hpp concurrently with this suite; the checks are written against the
// documented contract and compile to a skip when the method is absent (requires-expressions
// on a dependent type), so the suite builds at either revision.

// moments(level), when it returns a value: the closed-form mean and covariance of p_t
// (docs/theory.md §8.1, evaluated by the reference); both are O(1) sums: relative 1e-13 with floor 1.
template <class T>
bool CheckMoments(const T& target, const NoiseLevel& level, const ReferenceAtLevel* reference) {
  if constexpr (requires { target.moments(level); }) {
    const auto moments = target.moments(level);
    if (!moments || reference == nullptr) return false;
    const Vector mean = reference->Mean(level);
    const Matrix covariance = reference->Covariance(level);
    EXPECT_EQ(moments->mean.size(), mean.size());
    EXPECT_EQ(moments->covariance.rows(), covariance.rows());
    EXPECT_LE((moments->mean - mean).cwiseAbs().maxCoeff(), 1e-13 * (1 + mean.cwiseAbs().maxCoeff()));
    EXPECT_LE((moments->covariance - covariance).cwiseAbs().maxCoeff(), 1e-13 * (1 + covariance.cwiseAbs().maxCoeff()));
    return true;
  } else {
    return false;
  }
}

// score_jacobian_apply(level, x, v, out): out.col(j m + i) = J*(x_j) v.col(j m + i). Against
// the dense Jacobian (1e-12 relative to |J| |v|, a d-term product), and bitwise independent
// of the batch (one call for 37 particles vs calls on sub-batches of 1, 5 and 16).
template <class T>
bool CheckJacobianApply(const T& target, const NoiseLevel& level, const Matrix& x) {
  if constexpr (requires(MatrixRef out) { target.score_jacobian_apply(level, x, x, out); }) {
    const Eigen::Index n = x.cols(), d = x.rows(), m = 2;
    Matrix v(d, n * m);
    kStreams.fill_normals(0, StreamTag(StreamPurpose::kTest, 21), v);
    Matrix out(d, n * m);
    target.score_jacobian_apply(level, x, v, out);
    for (Eigen::Index j = 0; j < n; ++j) {
      const Matrix J = target.score_jacobian(level, x.col(j));
      const Matrix expected = J * v.middleCols(j * m, m);
      const double scale = J.cwiseAbs().maxCoeff() * v.middleCols(j * m, m).cwiseAbs().maxCoeff() * static_cast<double>(d);
      EXPECT_LE((out.middleCols(j * m, m) - expected).cwiseAbs().maxCoeff(), 1e-12 * scale) << "particle " << j;
    }
    for (Eigen::Index chunk : {Eigen::Index{1}, Eigen::Index{5}, Eigen::Index{16}}) {
      Matrix chunked(d, n * m);
      for (Eigen::Index j = 0; j < n; j += chunk) {
        const Eigen::Index len = std::min(chunk, n - j);
        target.score_jacobian_apply(level, x.middleCols(j, len), v.middleCols(j * m, len * m),
                                    chunked.middleCols(j * m, len * m));
      }
      EXPECT_TRUE(BitwiseEqual(out, chunked)) << "score_jacobian_apply, chunk " << chunk;
    }
    // The fused call gives the two separate calls' bits.
    Matrix fused_score(d, n), fused_product(d, n * m), score(d, n);
    target.score_and_jacobian_apply(level, x, v, fused_score, fused_product);
    target.score(level, x, score);
    EXPECT_TRUE(BitwiseEqual(fused_score, score)) << "score_and_jacobian_apply: score";
    EXPECT_TRUE(BitwiseEqual(fused_product, out)) << "score_and_jacobian_apply: products";
    return true;
  } else {
    return false;
  }
}

TEST_P(TargetConformance, OptionalMomentsMatchClosedForm) {
  if (!CheckMoments(*target_, Level(), reference_ ? &*reference_ : nullptr))
    GTEST_SKIP() << "moments() not available for this target/revision";
}

TEST_P(TargetConformance, OptionalJacobianApplyMatchesDenseAndIsBatchInvariant) {
  const Matrix x = target_->sample(Level(), kStreams, 500, 37, StreamTag(StreamPurpose::kTest, 22));
  if (!CheckJacobianApply(*target_, Level(), x)) GTEST_SKIP() << "score_jacobian_apply() not available in this revision";
}

// log_abs_det_linear_step(level, x, a, c, out): out(j) = log |det(a I + c J*(x_j))|, against a
// dense LU of M = a I + c J (a rounding error dM of M moves log|det M| by tr(M^-1 dM), at most
// d eps cond(M): tolerance 1e-13 d cond(M), cond by SVD; the sphere at small noise has a large
// radial curvature and cond(M) ~ 10), for a
// step that contracts (a = 1.05, c = 0.02, as DDIM's coefficients at moderate T) and one whose
// matrix has a negative eigenvalue (c = -3); and the fused call gives the two calls' bits.
TEST_P(TargetConformance, LogAbsDetLinearStepMatchesDenseAndFusedCallIsBitwise) {
  const Matrix x = target_->sample(Level(), kStreams, 700, 23, StreamTag(StreamPurpose::kTest, 24));
  const Eigen::Index n = x.cols();
  for (const auto& [a, c] : {std::pair{1.05, 0.02}, std::pair{1.0, -3.0}}) {
    Vector log_det(n);
    target_->log_abs_det_linear_step(Level(), x, a, c, log_det);
    for (Eigen::Index j = 0; j < n; ++j) {
      Matrix step = c * target_->score_jacobian(Level(), x.col(j));
      step.diagonal().array() += a;
      const double expected = step.partialPivLu().matrixLU().diagonal().array().abs().log().sum();
      const Vector singular = step.jacobiSvd().singularValues();
      const double condition = singular(0) / singular(singular.size() - 1);
      EXPECT_NEAR(log_det(j), expected, 1e-13 * d() * condition)
          << "a = " << a << ", c = " << c << ", particle " << j << ", cond " << condition;
    }
    Matrix fused_score(d(), n), score(d(), n);
    Vector fused_log_det(n);
    target_->score_and_log_abs_det_linear_step(Level(), x, a, c, fused_score, fused_log_det);
    target_->score(Level(), x, score);
    EXPECT_TRUE(BitwiseEqual(fused_score, score)) << "score_and_log_abs_det_linear_step: score";
    EXPECT_TRUE(BitwiseEqual(fused_log_det, log_det)) << "score_and_log_abs_det_linear_step: log det";
  }
}

// ------------------------------------------------------------------------------------------
// Capability queries (Target::gaussian_mixture, product_factor, support_radius): what a target
// claims must be true of the law it evaluates, and the targets built for a capability must
// claim it (estimators and the LSI analysis rely on the queries alone).

// The Gaussian-mixture view describes p_t: log sum_k w_k N(x; sqrt(a) mu_k, a Sigma_k + (1-a) I),
// formed here from the view in long double, equals the target's log density.
TEST_P(TargetConformance, CapabilityGaussianMixtureViewIsTheLaw) {
  const GaussianMixtureView* view = target_->gaussian_mixture();
  if (Case().entry == "gaussian" || Case().entry == "gaussian_mixture") {
    ASSERT_NE(view, nullptr);
  }
  if (view == nullptr) GTEST_SKIP() << "no Gaussian-mixture view";
  ASSERT_GE(view->size(), 1);
  const NoiseLevel& level = Level();
  const Matrix points = Points();
  const Vector log_p = target_->log_density(level, points);
  ld total_weight = 0;
  for (int k = 0; k < view->size(); ++k) total_weight += view->weight(k);
  EXPECT_NEAR(static_cast<double>(total_weight), 1.0, 1e-12);
  for (Eigen::Index j = 0; j < points.cols(); ++j) {
    ld sum = 0;
    for (int k = 0; k < view->size(); ++k) {
      ASSERT_EQ(view->mean(k).size(), d());
      MatrixL c = (static_cast<ld>(level.abar()) * view->covariance(k).cast<ld>());
      c.diagonal().array() += static_cast<ld>(level.one_minus_abar());
      const VectorL r = points.col(j).cast<ld>() - std::sqrt(static_cast<ld>(level.abar())) * view->mean(k).cast<ld>();
      const Eigen::LLT<MatrixL> llt(c);
      const VectorL z = llt.matrixL().solve(r);
      const ld log_det = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
      sum += static_cast<ld>(view->weight(k)) *
             std::exp(-0.5L * (z.squaredNorm() + log_det + d() * std::log(2 * std::numbers::pi_v<ld>)));
    }
    EXPECT_NEAR(log_p(j), static_cast<double>(std::log(sum)), 1e-9 * (1.0 + std::fabs(log_p(j)))) << "point " << j;
  }
}

// The product factor q: log p_t(x) = sum_i log q_t(x_i), and q is 1-D.
TEST_P(TargetConformance, CapabilityProductFactorIsTheLaw) {
  const Target* factor = target_->product_factor();
  if (Case().entry == "product") {
    ASSERT_NE(factor, nullptr);
  }
  if (factor == nullptr) GTEST_SKIP() << "not a product";
  ASSERT_EQ(factor->dim(), 1);
  const Matrix points = Points();
  const Vector log_p = target_->log_density(Level(), points);
  for (Eigen::Index j = 0; j < points.cols(); ++j) {
    double sum = 0.0;
    for (int i = 0; i < d(); ++i) sum += factor->log_density(Level(), points.block(i, j, 1, 1))(0);
    EXPECT_NEAR(log_p(j), sum, 1e-11 * (1.0 + std::fabs(sum))) << "point " << j;
  }
}

// The support radius R: exact data samples satisfy |X_0| <= R, and R is not loose by 2x (the
// largest of 4000 samples reaches R / 2: the box's corner directions give |x| ~ A sqrt(d/3)).
TEST_P(TargetConformance, CapabilitySupportRadiusBoundsTheData) {
  const std::optional<double> radius = target_->support_radius();
  if (Case().entry == "uniform_box" || Case().entry == "sphere") {
    ASSERT_TRUE(radius.has_value());
  }
  if (!radius) GTEST_SKIP() << "no known support radius";
  ASSERT_TRUE(std::isfinite(*radius));
  ASSERT_GT(*radius, 0.0);
  const Matrix x0 = target_->sample(NoiseLevel::data(), kStreams, 0, 4000, StreamTag(StreamPurpose::kTest, 23));
  const double largest = x0.colwise().norm().maxCoeff();
  EXPECT_LE(largest, *radius * (1.0 + 1e-12));
  EXPECT_GE(largest, 0.5 * *radius);
}

std::string CaseName(const testing::TestParamInfo<std::tuple<TargetCase, LevelCase>>& param_info) {
  return std::get<0>(param_info.param).label + "_" + std::get<1>(param_info.param).label;
}

INSTANTIATE_TEST_SUITE_P(Targets, TargetConformance, testing::Combine(testing::ValuesIn(AllCases()), testing::ValuesIn(kLevels)),
                         CaseName);

// ------------------------------------------------------------------------------------------
// The KS helper itself: accepts the law the samples came from, rejects a shift of 0.02 sd
// (with n = 200000 the statistic then sits near 0.008, sqrt(n) D ~ 3.6, p ~ 1e-11).
TEST(TargetConformanceHelpers, KolmogorovSmirnovAcceptsTheTrueLawAndRejectsAShift) {
  std::vector<double> values(kSamples);
  kStreams.normals(0, StreamTag(StreamPurpose::kTest, 9), values.data(), kSamples);
  static const boost::math::normal_distribution<double> standard;
  const double D0 = KsStatistic(values, StandardNormalCdf);
  EXPECT_GE(KolmogorovPValue(D0, values.size()), kKsPValue);
  const double D1 = KsStatistic(values, [](double y) { return StandardNormalCdf(y - 0.02); });
  EXPECT_LT(KolmogorovPValue(D1, values.size()), kKsPValue);
  // Q(1.3581) = 0.05 and Q(1.9495) = 0.001 (standard Kolmogorov table), large-n limit.
  EXPECT_NEAR(KolmogorovPValue(1.3581 / std::sqrt(1e12), 1000000000000), 0.05, 1e-4);
  EXPECT_NEAR(KolmogorovPValue(1.9495 / std::sqrt(1e12), 1000000000000), 0.001, 1e-5);
  for (double z : {-8.0, -3.0, -0.5, 0.0, 0.7, 2.0, 6.0}) {
    EXPECT_NEAR(StandardNormalCdf(z), boost::math::cdf(standard, z), 1e-15 + 1e-14 * boost::math::cdf(standard, z)) << z;
  }
}

// ------------------------------------------------------------------------------------------
// (g) Invalid inputs: InvalidArgument naming the key or component and the rule.

template <class Statement>
void ExpectInvalid(Statement&& statement, const std::vector<std::string>& fragments) {
  try {
    statement();
    ADD_FAILURE() << "no InvalidArgument thrown (expected a message with '" << fragments.front() << "')";
  } catch (const InvalidArgument& error) {
    const std::string message = error.what();
    for (const std::string& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos) << "message: " << message << "\nmissing: " << fragment;
  }
}

ParamTable ValidMixture() {
  return {{"weights", std::vector<double>{0.4, 0.6}},
          {"means", Rows({{0.0, 1.0}, {2.0, -1.0}})},
          {"covariances", MatrixList({{{1.0, 0.2}, {0.2, 0.5}}, {{0.3, 0.0}, {0.0, 0.3}}})}};
}

void ExpectMixtureInvalid(const std::string& key, const ParamValue& value, const std::vector<std::string>& fragments) {
  ParamTable p = ValidMixture();
  p.set(key, value);
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", p); }, fragments);
}

TEST(TargetValidation, ValidMixtureIsAccepted) {
  EXPECT_NO_THROW((void)target_registry().make("gaussian_mixture", ValidMixture()));
}

TEST(TargetValidation, MixtureWeights) {
  ExpectMixtureInvalid("weights", std::vector<double>{0.5, 0.4}, {"weights sum to 0.9", "not 1"});
  ExpectMixtureInvalid("weights", std::vector<double>{1.2, -0.2}, {"weights = [1.2, -0.2]", "must be positive", "entry 1 = -0.2"});
  ExpectMixtureInvalid("weights", std::vector<double>{1.0, 0.0}, {"weights = [1, 0]", "must be positive", "entry 1 = 0"});
  ExpectMixtureInvalid("weights", std::vector<double>{0.2, 0.3, 0.5}, {"means = [[0, 1], [2, -1]]: has 2 rows", "'weights' has 3 entries"});
  ExpectMixtureInvalid("weights", 1.0, {"weights = 1", "must be a list of finite numbers"});
}

TEST(TargetValidation, MixtureCovariances) {
  ExpectMixtureInvalid("covariances", MatrixList({{{1.0, 0.2}, {0.2, 0.5}}, {{1.0, 2.0}, {2.0, 1.0}}}),
                       {"component 1", "not positive definite"});
  ExpectMixtureInvalid("covariances", MatrixList({{{1.0, 0.3}, {0.2, 0.5}}, {{0.3, 0.0}, {0.0, 0.3}}}),
                       {"component 0", "not symmetric"});
  ExpectMixtureInvalid("covariances", MatrixList({{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {{0.3, 0.0}, {0.0, 0.3}}}),
                       {"component 0", "covariance is 3x3 but the mean has 2 coordinates"});
  ExpectMixtureInvalid("covariances", MatrixList({{{1.0, 0.2}, {0.2, 0.5}}}),
                       {"covariances = [[[1, 0.2], [0.2, 0.5]]]: describes 1 components", "'weights' has 2"});
  ExpectMixtureInvalid("covariances", MatrixList({{{1.0, 0.2}, {0.2, 0.5}}, {{0.3, 0.0}, {0.0, std::nan("")}}}),
                       {"covariances = [[[1, 0.2], [0.2, 0.5]], [[0.3, 0], [0, nan]]]", "finite numbers"});
}

TEST(TargetValidation, MixtureVariances) {
  ParamTable p{{"weights", std::vector<double>{0.4, 0.6}}, {"means", Rows({{0.0, 1.0}, {2.0, -1.0}})},
                 {"variances", Rows({{1.0, -0.5}, {1.0, 1.0}})}};
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", p); },
                {"variances = [[1, -0.5], [1, 1]]", "entry [0][1] = -0.5", "must be positive"});
  p.set("variances", Rows({{1.0, 0.5, 2.0}, {1.0, 1.0, 1.0}}));
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", p); },
                {"component 0", "variances have 3 entries but the mean has 2"});
  ParamTable iso{{"weights", std::vector<double>{0.4, 0.6}}, {"means", Rows({{0.0, 1.0}, {2.0, -1.0}})},
                 {"variance", std::vector<double>{1.0, -2.0}}};
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", iso); },
                {"variance = [1, -2]", "entry 1 = -2", "must be positive"});
  iso.set("variance", std::vector<double>{1.0});
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", iso); },
                {"variance = [1]: describes 1 components", "'weights' has 2"});
}

TEST(TargetValidation, MixtureKeys) {
  ParamTable missing{{"means", Rows({{0.0}})}, {"variance", std::vector<double>{1.0}}};
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", missing); },
                {"weights = (missing): is required but missing"});
  ParamTable no_cov{{"weights", std::vector<double>{1.0}}, {"means", Rows({{0.0}})}};
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", no_cov); },
                {"covariances = (missing): exactly one of 'covariances', 'variances', 'variance'", "found 0"});
  ParamTable two_cov = ValidMixture();
  two_cov.set("variance", std::vector<double>{1.0, 1.0});
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", two_cov); }, {"exactly one of", "found 2"});
  ParamTable unknown = ValidMixture();
  unknown.set("weigths", std::vector<double>{0.4, 0.6});
  ExpectInvalid([&] { (void)target_registry().make("gaussian_mixture", unknown); },
                {"weigths = [0.4, 0.6]: unknown key; valid keys are: covariances, means, variance, variances, weights"});
  ExpectMixtureInvalid("means", Rows({{0.0, 1.0}, {2.0}}), {"means = [[0, 1], [2]]", "equally long rows"});
  ExpectInvalid([&] { (void)target_registry().make("no_such_target", {}); }, {"unknown target 'no_such_target'", "gaussian"});
}

TEST(TargetValidation, GaussianParameters) {
  const auto make = [](const ParamTable& p) { (void)target_registry().make("gaussian", p); };
  ExpectInvalid([&] { make({{"mean", std::vector<double>{0.0, 1.0}}, {"covariance", Rows({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}})}}); },
                {"target 'gaussian'", "covariance is 3x3 but the mean has 2 coordinates"});
  ExpectInvalid([&] { make({{"mean", std::vector<double>{0.0, 1.0}}, {"covariance", Rows({{1, 0}, {0, -1}})}}); },
                {"target 'gaussian'", "not positive definite"});
  ExpectInvalid([&] { make({{"mean", std::vector<double>{0.0, 1.0}}, {"variances", std::vector<double>{1.0, -0.1}}}); },
                {"variances = [1, -0.1]", "every entry must be positive (> 0) (entry 1 = -0.1)"});
  ExpectInvalid([&] { make({{"mean", std::vector<double>{0.0, 1.0}}, {"variance", 0.0}}); },
                {"variance = 0", "must be positive"});
  ExpectInvalid([&] { make({{"variance", 1.0}}); }, {"mean = (missing): is required but missing"});
  ExpectInvalid([&] { make({{"mean", std::vector<double>{0.0}}}); }, {"exactly one of 'covariance', 'variances', 'variance'"});
  ExpectInvalid([&] { make({{"mean", std::vector<double>{0.0}}, {"variance", 1.0}, {"scale", 2.0}}); },
                {"scale = 2: unknown key; valid keys are: covariance, mean, variance, variances"});
  ExpectInvalid([&] { make({{"mean", std::vector<double>{}}, {"variances", std::vector<double>{}}}); }, {"target 'gaussian'"});
}

TEST(TargetValidation, MixtureConstructorChecksComponents) {
  const auto c2 = GaussianComponent::isotropic(Vector::Zero(2), 1.0, "c2");
  const auto c3 = GaussianComponent::isotropic(Vector::Zero(3), 1.0, "c3");
  ExpectInvalid([&] { GaussianMixtureTarget({0.5, 0.5}, {c2, c3}); }, {"component 1 has dimension 3", "component 0 has 2"});
  ExpectInvalid([&] { GaussianMixtureTarget({0.5, 0.5}, {c2}); }, {"2 weights given for 1 components"});
  ExpectInvalid([&] { GaussianMixtureTarget({}, {}); }, {"at least one component"});
  // Weights sum to 1 within 1e-12 (documented tolerance): 1 + 1e-13 passes, 1 + 1e-11 fails.
  EXPECT_NO_THROW(GaussianMixtureTarget({0.5, 0.5 + 1e-13}, {c2, c2}));
  ExpectInvalid([&] { GaussianMixtureTarget({0.5, 0.5 + 1e-11}, {c2, c2}); }, {"weights sum to", "tolerance 1e-12"});
}

}  // namespace
}  // namespace dmconv
