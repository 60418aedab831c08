// Grid posteriors (posterior/grid_posterior.hpp) against closed forms:
//
//   prior N(m0, v0), y = a x + N(0, s^2):  pi_eta = N(m, v),  v = 1 / (1/v0 + a^2 / G),
//   m = v (m0 / v0 + a y / G),  G = s^2 + eta^2 a^2   (the smoothed likelihood is N(y; a x, G)),
//
// computed both through the likelihood's closed-form smoothing and through the Gauss–Hermite rule
// (a wrapper hiding the closed form). The piecewise-constant law has the midpoint-rule moments of
// the density plus the within-cell variance h^2/12; the midpoint sums of a Gaussian that is many
// cells wide are exact to rounding (Poisson summation: error ~ exp(-2 pi^2 sd^2 / h^2)), so the
// moments are checked to 1e-9 after adding h^2/12. Also: the Gauss–Hermite rule itself, the
// refinement error's order, exact sampling, the exact 1-D W2, and the x -> -x symmetry of a
// phase-retrieval posterior. The likelihoods are small test classes (the production ones live in
// posterior/likelihoods/).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "posterior/grid_posterior.hpp"
#include "support/test_likelihoods.hpp"
#include "targets/gaussian.hpp"
#include "targets/gaussian_mixture.hpp"
#include "targets/uniform_box.hpp"

namespace dmconv::posterior {
namespace {

using test_support::TestLinearGaussian;
using test_support::TestPhaseRetrieval;

// Forwards everything but the closed-form smoothing, forcing the Gauss–Hermite path.
class NoClosedForm final : public Likelihood {
 public:
  explicit NoClosedForm(const Likelihood& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  std::string describe() const override { return inner_.describe(); }
  int dim() const override { return inner_.dim(); }
  int observations() const override { return inner_.observations(); }
  Vector simulate(const Vector& x, const RandomStreams& s, StreamTag t) const override { return inner_.simulate(x, s, t); }
  void check_observation(const Vector& y) const override { inner_.check_observation(y); }
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override {
    inner_.negative_log_likelihood(y, x, out);
  }
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override { inner_.gradient(y, x, out); }

 private:
  const Likelihood& inner_;
};

// y_i = sign(a_i^T x + N(0, s^2)): L = -sum_i log Phi(y_i a_i^T x / s). The closed-form smoothing
// Phi(y_i a_i^T x / sqrt(s^2 + eta^2 |a_i|^2)) per factor is exact only when the a_i are orthogonal
// (the factors then see independent components of W); the test uses orthogonal a_i.
class TestProbit final : public Likelihood {
 public:
  TestProbit(Matrix a, double sigma) : a_(std::move(a)), sigma_(sigma) {}
  std::string name() const override { return "test_probit"; }
  std::string describe() const override { return "test"; }
  int dim() const override { return static_cast<int>(a_.cols()); }
  int observations() const override { return static_cast<int>(a_.rows()); }
  Vector simulate(const Vector& x, const RandomStreams&, StreamTag) const override {
    return (a_ * x).unaryExpr([](double v) { return v >= 0 ? 1.0 : -1.0; });
  }
  void check_observation(const Vector& y) const override { require(y.size() == a_.rows(), "test_probit: wrong y size"); }
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override {
    evaluate(y, x, sigma_ * sigma_, out);
    out = -out;
  }
  void gradient(const Vector&, ConstMatrixRef, MatrixRef out) const override { out.setZero(); }
  bool smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x, VectorRef out) const override {
    evaluate(y, x, sigma_ * sigma_, out, eta);
    return true;
  }

 private:
  static double log_phi(double z) { return std::log(0.5 * std::erfc(-z / std::numbers::sqrt2)); }
  void evaluate(const Vector& y, ConstMatrixRef x, double variance, VectorRef out, double eta = 0.0) const {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      double sum = 0;
      for (Eigen::Index i = 0; i < a_.rows(); ++i)
        sum += log_phi(y(i) * a_.row(i).dot(x.col(j)) / std::sqrt(variance + eta * eta * a_.row(i).squaredNorm()));
      out(j) = sum;
    }
  }
  Matrix a_;
  double sigma_;
};

struct GaussianCase {
  double m0 = 0.5, v0 = 1.5, a = 1.2, s = 0.5, y = 1.3;
  GaussianTarget prior{GaussianComponent::isotropic(Vector::Constant(1, 0.5), 1.5, "test")};
  TestLinearGaussian likelihood{Matrix::Constant(1, 1, 1.2), 0.5};
  Vector observation = Vector::Constant(1, 1.3);
  // Exact pi_eta = N(mean, variance).
  void exact(double eta, double& mean, double& variance) const {
    const double g = s * s + eta * eta * a * a;
    variance = 1.0 / (1.0 / v0 + a * a / g);
    mean = variance * (m0 / v0 + a * y / g);
  }
};

// Mean and variance of the piecewise-constant law (centre moments plus h^2/12 within cells).
void law_moments(const GridLaw& law, double& mean, double& variance) {
  mean = 0;
  double second = 0;
  for (int i = 0; i < law.points; ++i) {
    mean += law.mass(i) * law.center(0, i);
    second += law.mass(i) * law.center(0, i) * law.center(0, i);
  }
  variance = second - mean * mean + law.spacing(0) * law.spacing(0) / 12.0;
}

TEST(GridPosteriorHermite, MatchesKnownRules) {
  const double root_pi = std::sqrt(std::numbers::pi);
  const GaussHermiteRule two = gauss_hermite_rule(2), three = gauss_hermite_rule(3);
  EXPECT_NEAR(two.nodes[1], 1 / std::numbers::sqrt2, 1e-15);
  EXPECT_EQ(two.nodes[0], -two.nodes[1]);
  EXPECT_NEAR(two.weights[0], root_pi / 2, 1e-15);
  EXPECT_EQ(three.nodes[1], 0.0);
  EXPECT_NEAR(three.nodes[2], std::sqrt(1.5), 1e-15);
  EXPECT_NEAR(three.weights[1], 2 * root_pi / 3, 1e-15);
  EXPECT_NEAR(three.weights[2], root_pi / 6, 1e-15);
  for (int n : {1, 7, 48, 100, 256}) {
    const GaussHermiteRule rule = gauss_hermite_rule(n);
    double w = 0, t2 = 0, t4 = 0, cosine = 0;
    for (int i = 0; i < n; ++i) {
      const double t = rule.nodes[static_cast<std::size_t>(i)], wi = rule.weights[static_cast<std::size_t>(i)];
      w += wi;
      t2 += wi * t * t;
      t4 += wi * t * t * t * t;
      cosine += wi * std::cos(t);
      if (i > 0) {
        EXPECT_LT(rule.nodes[static_cast<std::size_t>(i - 1)], t);
      }
    }
    SCOPED_TRACE("n = " + std::to_string(n));
    EXPECT_NEAR(w, root_pi, 1e-14);
    if (n >= 2) {
      EXPECT_NEAR(t2, root_pi / 2, 1e-14);
    }
    if (n >= 3) {
      EXPECT_NEAR(t4, 3 * root_pi / 4, 1e-13);
    }
    if (n >= 20) {
      EXPECT_NEAR(cosine, root_pi * std::exp(-0.25), 1e-14);  // ∫ cos t e^{-t^2} dt
    }
  }
  // The outermost weight of the 48-point rule, ~5.0e-40 (relative accuracy matters in log space):
  // w_n = 2^{n-1} n! sqrt(pi) / (n^2 H_{n-1}(t_n)^2) evaluated here through lgamma and the
  // three-term recurrence of the physicists' polynomials, scaled to avoid overflow.
  const GaussHermiteRule rule = gauss_hermite_rule(48);
  const double t = rule.nodes.back();
  double previous = 0, current = 1, log_scale = 0;  // H_k(t) = current * e^{log_scale}
  for (int k = 0; k < 47; ++k) {
    const double next = 2 * t * current - 2 * k * previous;
    previous = current;
    current = next;
    const double scale = std::abs(current);
    current /= scale;
    previous /= scale;
    log_scale += std::log(scale);
  }
  const double log_w = 47 * std::log(2.0) + std::lgamma(49.0) + 0.5 * std::log(std::numbers::pi) -
                       2 * std::log(48.0) - 2 * (std::log(std::abs(current)) + log_scale);
  EXPECT_NEAR(std::log(rule.weights.back()) / log_w, 1.0, 1e-12);
  EXPECT_THROW(gauss_hermite_rule(0), InvalidArgument);
  EXPECT_THROW(gauss_hermite_rule(257), InvalidArgument);
}

TEST(GridPosterior, LinearGaussianMatchesClosedFormPosterior) {
  const GaussianCase c;
  const NoClosedForm hidden(c.likelihood);
  GridOptions options;  // 1024 cells on the default box m0 -+ 10 sd: h ~ 0.024, posterior sd ~ 0.39
  for (double eta : {0.0, 0.3}) {
    double exact_mean = 0, exact_variance = 0;
    c.exact(eta, exact_mean, exact_variance);
    const GridLaw closed = grid_posterior(c.prior, c.likelihood, c.observation, eta, options);
    const GridLaw hermite = grid_posterior(c.prior, hidden, c.observation, eta, options);
    const double h = closed.spacing(0);
    EXPECT_NEAR(closed.lo[0], c.m0 - 10 * std::sqrt(c.v0), 1e-15);
    EXPECT_NEAR(closed.hi[0], c.m0 + 10 * std::sqrt(c.v0), 1e-15);
    for (const GridLaw* law : {&closed, &hermite}) {
      SCOPED_TRACE(std::string(law == &closed ? "closed form" : "Gauss–Hermite") + ", eta = " + std::to_string(eta));
      double mean = 0, variance = 0;
      law_moments(*law, mean, variance);
      EXPECT_NEAR(law->mass.sum(), 1.0, 1e-13);
      EXPECT_NEAR(mean, exact_mean, 1e-9);
      EXPECT_NEAR(variance, exact_variance + h * h / 12, 1e-9);  // the within-cell variance is the grid error
      EXPECT_LT(law->refinement_error, 1e-3);
    }
    EXPECT_LT(closed.tv(hermite), 1e-10);
  }
  // eta matters: pi_0.3 differs from pi_0 by far more than the grid error.
  const GridLaw law0 = grid_posterior(c.prior, c.likelihood, c.observation, 0.0, options);
  const GridLaw law3 = grid_posterior(c.prior, c.likelihood, c.observation, 0.3, options);
  EXPECT_GT(law0.tv(law3), 100 * (law0.refinement_error + law3.refinement_error));
}

// The refinement error (TV between the grid law and its half-spacing refinement folded back) is
// O(h^2): per cell the fine pair's mass differs from the midpoint mass by ~h^3 f''/16 relative
// to h f. Measured ratios per halving: 4.00 (printed).
TEST(GridPosterior, RefinementErrorIsSecondOrder) {
  const GaussianCase c;
  GridOptions options;
  std::vector<double> errors;
  for (int points : {128, 256, 512, 1024}) {
    options.points = points;
    errors.push_back(grid_posterior(c.prior, c.likelihood, c.observation, 0.3, options).refinement_error);
  }
  for (std::size_t k = 1; k < errors.size(); ++k) {
    const double ratio = errors[k - 1] / errors[k];
    std::cout << "[GridPosterior] refinement error " << errors[k - 1] << " -> " << errors[k] << ", ratio " << ratio
              << '\n';
    EXPECT_NEAR(ratio, 4.0, 0.2);
  }
}

TEST(GridPosterior, SamplesAreExact) {
  const GaussianCase c;
  GridOptions options;
  options.points = 200;
  options.lo = {-1.5};
  options.hi = {2.5};
  const GridLaw law = grid_posterior(c.prior, c.likelihood, c.observation, 0.3, options);
  const RandomStreams streams(11, 0);
  const StreamTag tag(StreamPurpose::kTest, 1);
  const Eigen::Index n = 100000;
  Matrix samples(1, n);
  law.sample(streams, 0, tag, samples);
  double mean = 0, variance = 0;
  law_moments(law, mean, variance);
  const double sample_mean = samples.mean();
  const double sample_variance = (samples.array() - sample_mean).square().sum() / (n - 1);
  EXPECT_NEAR(sample_mean, mean, 5 * std::sqrt(variance / n));
  EXPECT_NEAR(sample_variance, variance, 5 * variance * std::sqrt(2.0 / n));  // ~Gaussian fourth moment
  // E (1/2) sum_c |n_c/n - m_c| ≈ (1/2) sum_c sqrt(2 m_c (1 - m_c) / (pi n)) for multinomial counts.
  double expected = 0;
  for (Eigen::Index i = 0; i < law.mass.size(); ++i)
    expected += 0.5 * std::sqrt(2 * law.mass(i) * (1 - law.mass(i)) / (std::numbers::pi * n));
  const double tv = law.histogram_tv(samples);
  std::cout << "[GridPosterior] histogram TV of 1e5 exact samples " << tv << " (expected ~" << expected << ")\n";
  EXPECT_GT(tv, 0.7 * expected);
  EXPECT_LT(tv, 1.3 * expected);
  EXPECT_LE(samples.maxCoeff(), 2.5);
  EXPECT_GE(samples.minCoeff(), -1.5);
  // Within its cell a sample is uniform (the h^2/12 of within-cell variance is far below the
  // moment checks' resolution, so it is checked on the fractional positions directly).
  const Eigen::ArrayXd position = (samples.row(0).array() - law.lo[0]) / law.spacing(0);
  const Eigen::ArrayXd fraction = position - position.floor();
  EXPECT_NEAR(fraction.mean(), 0.5, 5 * std::sqrt(1.0 / (12 * n)));
  EXPECT_NEAR((fraction - 0.5).square().mean(), 1.0 / 12, 5 * std::sqrt(1.0 / (180 * n)));  // Var((U - 1/2)^2) = 1/180
  // Each column depends only on its own particle's streams.
  Matrix single(1, 1);
  for (Eigen::Index j : {0, 17, 99999}) {
    law.sample(streams, static_cast<std::uint64_t>(j), tag, single);
    EXPECT_EQ(single(0, 0), samples(0, j));
  }
  // Samples outside the box count as mass the law does not have.
  Matrix outside = samples.leftCols(1000);
  outside.leftCols(100).setConstant(10.0);
  EXPECT_NEAR(law.histogram_tv(outside) - law.histogram_tv(samples.leftCols(1000)), 0.1, 0.1);
  EXPECT_GE(law.histogram_tv(outside), 0.1);
}

TEST(GridPosterior, W2SquaredIsExact) {
  // One cell [a, a + h] with all the mass against one sample x: ∫_0^1 (x - a - h u)^2 du.
  GridLaw single;
  single.points = 4;
  single.lo = {0.0};
  single.hi = {4.0};
  single.mass = Vector::Zero(4);
  single.mass(2) = 1.0;  // uniform on [2, 3]
  const double x = 0.3;
  EXPECT_NEAR(single.w2_squared_1d({x}), (x - 2) * (x - 2) - (x - 2) + 1.0 / 3, 1e-14);
  // n samples at the midpoints of the n quantile pieces of U[2, 3]: W2^2 = 1 / (12 n^2).
  std::vector<double> midpoints;
  for (int k = 0; k < 10; ++k) midpoints.push_back(2 + (k + 0.5) / 10);
  EXPECT_NEAR(single.w2_squared_1d(midpoints), 1.0 / 1200, 1e-15);

  // Samples of the grid law itself: W2^2 small and falling with n. Shifting the samples by delta
  // adds exactly delta^2 + 2 delta (mean of samples - mean of the law).
  const GaussianCase c;
  GridOptions options;
  options.points = 256;
  const GridLaw law = grid_posterior(c.prior, c.likelihood, c.observation, 0.0, options);
  Matrix samples(1, 100000);
  law.sample(RandomStreams(5, 0), 0, StreamTag(StreamPurpose::kTest, 2), samples);
  std::vector<double> previous;
  double last = 1e9;
  for (Eigen::Index n : {100, 10000, 100000}) {
    const std::vector<double> head(samples.data(), samples.data() + n);
    const double w2 = law.w2_squared_1d(head);
    std::cout << "[GridPosterior] W2^2(" << n << " own samples, law) = " << w2 << '\n';
    EXPECT_LT(w2, last);
    EXPECT_LT(w2, 20.0 / static_cast<double>(n));  // variance ~0.15: W2^2 ~ var (log log n) / n
    last = w2;
  }
  double law_mean = 0, law_variance = 0;
  law_moments(law, law_mean, law_variance);
  const std::vector<double> head(samples.data(), samples.data() + 10000);
  const double base = law.w2_squared_1d(head);
  const double sample_mean = samples.leftCols(10000).mean();
  for (double delta : {0.05, -0.7, 3.0}) {
    std::vector<double> shifted = head;
    for (double& v : shifted) v += delta;
    EXPECT_NEAR(law.w2_squared_1d(shifted), base + delta * delta + 2 * delta * (sample_mean - law_mean), 1e-11)
        << "delta = " << delta;
  }
  EXPECT_THROW(law.w2_squared_1d({}), InvalidArgument);
  EXPECT_THROW(law.w2_squared_1d({std::nan("")}), InvalidArgument);
}

// A symmetric prior (mixture of N(mu, S) and N(-mu, S)) and phase-retrieval measurements give a
// posterior symmetric under x -> -x; the Gauss–Hermite rule and the box are symmetric, so the
// cell masses must be too, to rounding.
TEST(GridPosterior, PhaseRetrievalPosteriorIsSymmetric) {
  Matrix s(2, 2);
  s << 0.4, 0.1, 0.1, 0.3;
  const GaussianMixtureTarget prior({0.5, 0.5}, {GaussianComponent::full(Vector{{1.0, 0.5}}, s, "test"),
                                                 GaussianComponent::full(Vector{{-1.0, -0.5}}, s, "test")});
  Matrix a(2, 2);
  a << 1.0, 0.3, -0.4, 1.0;
  const TestPhaseRetrieval likelihood(a, 0.3);
  const Vector y{{1.15, 0.2}};  // ~ |A x*| at x* = (1, 0.5)
  GridOptions options;
  options.points = 64;
  options.hermite_points = 12;
  for (double eta : {0.0, 0.25}) {
    const GridLaw law = grid_posterior(prior, likelihood, y, eta, options);
    EXPECT_EQ(law.lo[0], -law.hi[0]);
    EXPECT_EQ(law.lo[1], -law.hi[1]);
    double asymmetry = 0, half = 0;
    for (int i1 = 0; i1 < law.points; ++i1)
      for (int i0 = 0; i0 < law.points; ++i0) {
        const double m = law.mass(i0 + law.points * i1);
        asymmetry = std::max(asymmetry, std::abs(m - law.mass((law.points - 1 - i0) + law.points * (law.points - 1 - i1))));
        if (law.center(0, i0) > 0) half += m;
      }
    SCOPED_TRACE("eta = " + std::to_string(eta));
    EXPECT_LT(asymmetry, 1e-12 * law.mass.maxCoeff());
    EXPECT_NEAR(half, 0.5, 1e-12);
    std::cout << "[GridPosterior] phase retrieval eta = " << eta << ": refinement error " << law.refinement_error
              << '\n';
    EXPECT_LT(law.refinement_error, 0.05);
  }
}

// 2-D tensor rule: the probit likelihood with orthogonal a_i has an exact closed-form smoothing;
// the Gauss–Hermite path must reproduce it.
TEST(GridPosterior, TensorHermiteMatchesClosedFormIn2D) {
  const GaussianTarget prior(GaussianComponent::isotropic(Vector{{0.2, -0.1}}, 1.0, "test"));
  Matrix a(2, 2);
  a << 0.6, 0.6, -1.0, 1.0;  // orthogonal rows
  // Gauss–Hermite integrates t -> Phi(y (c + b t) / sigma), b = sqrt(2) eta |a_i|, whose sharpness
  // b / sigma sets the rule's error: 1.1e-5 with 24 nodes at b / sigma = 3.5 (sigma = 0.4, |a_2| =
  // sqrt(8)); here b / sigma <= 1.
  const TestProbit likelihood(a, 1.0);
  const NoClosedForm hidden(likelihood);
  const Vector y{{1.0, -1.0}};
  GridOptions options;
  options.points = 48;
  options.hermite_points = 24;
  const GridLaw closed = grid_posterior(prior, likelihood, y, 0.5, options);
  const GridLaw hermite = grid_posterior(prior, hidden, y, 0.5, options);
  const GridLaw unsmoothed = grid_posterior(prior, likelihood, y, 0.0, options);
  std::cout << "[GridPosterior] probit 2-D: TV(closed form, Gauss–Hermite) = " << closed.tv(hermite)
            << ", TV(pi_0.5, pi_0) = " << closed.tv(unsmoothed) << '\n';
  EXPECT_LT(closed.tv(hermite), 1e-6);
  EXPECT_GT(closed.tv(unsmoothed), 0.01);
}

TEST(GridPosterior, RejectsInvalidInput) {
  const GaussianCase c;
  const auto expect_invalid = [&](GridOptions options, double eta, const std::string& fragment) {
    try {
      grid_posterior(c.prior, c.likelihood, c.observation, eta, options);
      ADD_FAILURE() << "no exception for " << fragment;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  GridOptions options;
  options.points = 1;
  expect_invalid(options, 0.0, "points = 1");
  options.points = 64;
  options.hermite_points = 0;
  expect_invalid(options, 0.0, "hermite_points = 0");
  options.hermite_points = 8;
  options.lo = {1.0};
  options.hi = {1.0};
  expect_invalid(options, 0.0, "lo < hi");
  options.lo = {0.0, 0.0};
  options.hi = {1.0, 1.0};
  expect_invalid(options, 0.0, "both empty, or both of size d = 1");
  options.lo.clear();
  options.hi.clear();
  expect_invalid(options, -0.1, "eta = -0.1");
  expect_invalid(options, std::nan(""), "eta = nan");
  // No box and no Gaussian-mixture view: the rule is named.
  const UniformBoxTarget uniform(1.0, 1);
  try {
    grid_posterior(uniform, c.likelihood, c.observation, 0.0, options);
    ADD_FAILURE() << "no exception without a box";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no Gaussian-mixture view"), std::string::npos) << e.what();
  }
  options.lo = {-1.0};
  options.hi = {1.0};
  const GridLaw on_box = grid_posterior(uniform, c.likelihood, c.observation, 0.0, options);
  EXPECT_NEAR(on_box.mass.sum(), 1.0, 1e-13);
  options.points = 32;
  const GridLaw coarser = grid_posterior(uniform, c.likelihood, c.observation, 0.0, options);
  EXPECT_THROW((void)on_box.tv(coarser), InvalidArgument);
  EXPECT_DOUBLE_EQ(on_box.tv(on_box), 0.0);
  // The posterior vanishes on a box far from the prior's support.
  options.lo = {5.0};
  options.hi = {6.0};
  EXPECT_THROW(grid_posterior(uniform, c.likelihood, c.observation, 0.0, options), InvalidArgument);
  // d = 3 is beyond grids.
  EXPECT_THROW(GridOptions{}.validate(3), InvalidArgument);
}

}  // namespace
}  // namespace dmconv::posterior
