// PCS (posterior/pcs.hpp; docs/theory.md §4.7) against the exact proximal law
//   pi_PCS(z | x) ∝ exp(-L(z; y) - ||z - x||^2 / (2 eta^2)):
//
//   linear-Gaussian L = ||y - A z||^2 / (2 sigma^2):  N(P^{-1}(A^T y / sigma^2 + x / eta^2), P^{-1}),
//                                                    P = A^T A / sigma^2 + I / eta^2;
//   L = (y - |z|)^2 / (2 sigma^2) in 1-D:             moments and CDF by Boost.Math quadrature.
//
// Without Metropolis, on a 1-D quadratic the chain is the linear recursion
//   z' = rho z + b + s W,   rho = 1 - r (1 + eta^2 a^2 / sigma^2),   b = r (x + eta^2 a y / sigma^2),
// so after i steps from z = x it is exactly N(mu + rho^i (x - mu), s^2 (1 - rho^{2i}) / (1 - rho^2)),
// mu = b / (1 - rho): the mean is unbiased and the variance s^2 / (1 - rho^2) exceeds 1/P by O(step).
// The likelihoods here are written for the tests (column by column, fixed summation order), so
// nothing depends on the registered likelihoods.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "posterior/likelihood.hpp"
#include "posterior/pcs.hpp"
#include "support/sample_moments.hpp"

namespace dmconv::posterior {
namespace {

const StreamTag kTag(StreamPurpose::kTest, 91);

// L = ||y - A x||^2 / (2 sigma^2), column by column with plain loops.
class LinearGaussianTest final : public Likelihood {
 public:
  LinearGaussianTest(Matrix a, double sigma) : a_(std::move(a)), sigma_(sigma) {}
  using Likelihood::gradient;
  using Likelihood::negative_log_likelihood;
  std::string name() const override { return "linear_gaussian_test"; }
  std::string describe() const override { return "test linear-Gaussian likelihood"; }
  int dim() const override { return static_cast<int>(a_.cols()); }
  int observations() const override { return static_cast<int>(a_.rows()); }
  Vector simulate(const Vector& x_star, const RandomStreams&, StreamTag) const override { return a_ * x_star; }
  void check_observation(const Vector&) const override {}
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      double sum = 0.0;
      for (Eigen::Index i = 0; i < a_.rows(); ++i) {
        const double r = residual(y, x, i, j);
        sum += r * r;
      }
      out(j) = sum / (2.0 * sigma_ * sigma_);
    }
  }
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      for (Eigen::Index k = 0; k < x.rows(); ++k) out(k, j) = 0.0;
      for (Eigen::Index i = 0; i < a_.rows(); ++i) {
        const double r = residual(y, x, i, j);  // A x - y
        for (Eigen::Index k = 0; k < x.rows(); ++k) out(k, j) += a_(i, k) * r / (sigma_ * sigma_);
      }
    }
  }
  std::optional<LinearGaussianView> linear_gaussian() const override { return LinearGaussianView{&a_, sigma_}; }

  const Matrix& a() const { return a_; }
  double sigma() const { return sigma_; }

 private:
  double residual(const Vector& y, ConstMatrixRef x, Eigen::Index i, Eigen::Index j) const {
    double ax = 0.0;
    for (Eigen::Index k = 0; k < x.rows(); ++k) ax += a_(i, k) * x(k, j);
    return ax - y(i);
  }
  Matrix a_;
  double sigma_;
};

// L = (y - |x|)^2 / (2 sigma^2) in 1-D (phase retrieval with a = 1): non-quadratic, bimodal proximal law.
class AbsTest final : public Likelihood {
 public:
  explicit AbsTest(double sigma) : sigma_(sigma) {}
  std::string name() const override { return "abs_test"; }
  std::string describe() const override { return "test |x| likelihood"; }
  int dim() const override { return 1; }
  int observations() const override { return 1; }
  Vector simulate(const Vector& x_star, const RandomStreams&, StreamTag) const override { return x_star.cwiseAbs(); }
  void check_observation(const Vector&) const override {}
  void negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const override {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const double r = y(0) - std::abs(x(0, j));
      out(j) = r * r / (2.0 * sigma_ * sigma_);
    }
  }
  void gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const override {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const double v = x(0, j);
      const double sign = v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : 0.0);
      out(0, j) = -(y(0) - std::abs(v)) * sign / (sigma_ * sigma_);
    }
  }
  double sigma() const { return sigma_; }

 private:
  double sigma_;
};

struct Gaussian {
  Vector mean;
  Matrix covariance;
};

Gaussian proximal_law(const LinearGaussianTest& likelihood, const Vector& y, const Vector& x, double eta) {
  const auto d = static_cast<Eigen::Index>(x.size());
  const double s2 = likelihood.sigma() * likelihood.sigma();
  const Matrix precision = likelihood.a().transpose() * likelihood.a() / s2 + Matrix::Identity(d, d) / (eta * eta);
  const Matrix covariance = precision.inverse();
  return {covariance * (likelihood.a().transpose() * y / s2 + x / (eta * eta)), covariance};
}

Vector vec(std::initializer_list<double> values) {
  Vector v(static_cast<Eigen::Index>(values.size()));
  Eigen::Index i = 0;
  for (double value : values) v(i++) = value;
  return v;
}

using test_support::moments_of;
using test_support::SampleMoments;

void expect_gaussian_law(const Matrix& samples, const Gaussian& exact, const std::string& what) {
  const SampleMoments m = moments_of(samples);
  for (Eigen::Index a = 0; a < samples.rows(); ++a) {
    EXPECT_LT(std::abs(m.mean(a) - exact.mean(a)), 5.0 * m.mean_se(a))
        << what << ": mean(" << a << ") = " << m.mean(a) << ", exact " << exact.mean(a) << ", SE " << m.mean_se(a);
    for (Eigen::Index b = 0; b < samples.rows(); ++b)
      EXPECT_LT(std::abs(m.covariance(a, b) - exact.covariance(a, b)), 5.0 * m.covariance_se(a, b))
          << what << ": cov(" << a << "," << b << ") = " << m.covariance(a, b) << ", exact "
          << exact.covariance(a, b) << ", SE " << m.covariance_se(a, b);
  }
}

LinearGaussianTest likelihood_2d() {
  Matrix a(2, 2);
  a << 1.0, 0.5, -0.3, 0.8;
  return LinearGaussianTest(a, 0.5);
}

// (1) MALA leaves the proximal law invariant: after enough iterations from z = x the draws are exact,
// with the constant and with the (position-dependent) residual step rule.
TEST(PcsLinearGaussian, MetropolisMatchesTheProximalLaw) {
  const LinearGaussianTest likelihood = likelihood_2d();
  const Vector y = vec({0.6, -0.2});
  const Vector x = vec({0.2, 0.4});
  const double eta = 0.5;
  const Eigen::Index n = 20000;
  const Gaussian exact = proximal_law(likelihood, y, x, eta);
  const RandomStreams streams(31, 0);
  for (const auto rule : {PcsOptions::StepRule::kConstant, PcsOptions::StepRule::kResidual}) {
    PcsOptions options;
    options.iterations = 150;
    options.step_scale = 0.5;
    options.step_rule = rule;
    options.regulariser = 0.5;
    options.noise_scale = likelihood.sigma();
    options.metropolis = true;
    Matrix out(2, n);
    double acceptance = -1.0;
    pcs_sample(likelihood, y, eta, options, x.replicate(1, n), streams, 0, kTag, out, &acceptance);
    const bool constant = rule == PcsOptions::StepRule::kConstant;
    EXPECT_GT(acceptance, 0.5) << (constant ? "constant" : "residual");
    EXPECT_LT(acceptance, 1.0) << (constant ? "constant" : "residual");
    expect_gaussian_law(out, exact, constant ? "MALA, constant step" : "MALA, residual step");
  }
}

// (2) Without Metropolis: the exact law of the linear recursion (opening comment) is reproduced,
// its variance bias is real at step_scale 0.2, and it shrinks at 0.05.
TEST(PcsLinearGaussian, UnadjustedBiasMatchesTheRecursionAndShrinksWithTheStep) {
  const double a = 1.0, sigma = 0.5, eta = 0.5, y0 = 0.8, x0 = 0.1;
  const LinearGaussianTest likelihood(Matrix::Constant(1, 1, a), sigma);
  const Vector y = Vector::Constant(1, y0);
  const double exact_variance = 1.0 / (a * a / (sigma * sigma) + 1.0 / (eta * eta));
  const Eigen::Index n = 40000;
  const RandomStreams streams(32, 0);
  double stationary_bias[2];
  int index = 0;
  for (const double step_scale : {0.2, 0.05}) {
    PcsOptions options;
    options.iterations = 150;
    options.step_scale = step_scale;
    options.noise_scale = sigma;
    Matrix out(1, n);
    double acceptance = -1.0;
    pcs_sample(likelihood, y, eta, options, Matrix::Constant(1, n, x0), streams, 0, kTag, out, &acceptance);
    EXPECT_EQ(acceptance, 1.0);

    const double gamma = step_scale * std::min(sigma * sigma, eta * eta);
    const double r = -std::expm1(-gamma / (eta * eta));
    const double s2 = eta * eta * -std::expm1(-2.0 * gamma / (eta * eta));
    const double rho = 1.0 - r * (1.0 + eta * eta * a * a / (sigma * sigma));
    const double b = r * (x0 + eta * eta * a * y0 / (sigma * sigma));
    const double mu = b / (1.0 - rho);
    const double rho_i = std::pow(rho, options.iterations);
    const double mean_i = mu + rho_i * (x0 - mu);
    const double variance_i = s2 * (1.0 - rho_i * rho_i) / (1.0 - rho * rho);
    stationary_bias[index++] = s2 / (1.0 - rho * rho) - exact_variance;

    const double mean = out.mean();
    const double variance = (out.array() - mean).square().sum() / static_cast<double>(n - 1);
    const double variance_se = variance_i * std::sqrt(2.0 / static_cast<double>(n));
    EXPECT_LT(std::abs(mean - mean_i), 5.0 * std::sqrt(variance_i / static_cast<double>(n))) << step_scale;
    EXPECT_LT(std::abs(variance - variance_i), 5.0 * variance_se) << "step_scale " << step_scale << ": variance "
                                                                  << variance << ", recursion " << variance_i;
    if (step_scale == 0.2) {
      EXPECT_GT(std::abs(variance - exact_variance), 5.0 * variance_se)
          << "the ULA variance bias at step_scale 0.2 should be visible: " << variance << " vs " << exact_variance;
    }
  }
  EXPECT_GT(stationary_bias[1], 0.0);
  EXPECT_LT(stationary_bias[1], 0.3 * stationary_bias[0]);
}

// (2b) pcs_affine_kernel is the law of the unadjusted chain: in 1-D the recursion of the opening
// comment (an independent closed form), in 2-D the moments of the sampler's own draws; it tends to
// the proximal law as the step shrinks; the residual rule and MALA have no such kernel.
TEST(PcsLinearGaussian, AffineKernelIsTheLawOfTheUnadjustedChain) {
  {
    const double a = 1.0, sigma = 0.5, eta = 0.5, y0 = 0.8, x0 = 0.1, step_scale = 0.2;
    const LinearGaussianTest likelihood(Matrix::Constant(1, 1, a), sigma);
    PcsOptions options;
    options.iterations = 7;
    options.step_scale = step_scale;
    options.noise_scale = sigma;
    const GaussianChain kernel = *pcs_affine_kernel(*likelihood.linear_gaussian(), Vector::Constant(1, y0), eta, options);
    const double gamma = step_scale * std::min(sigma * sigma, eta * eta);
    const double r = -std::expm1(-gamma / (eta * eta));
    const double s2 = eta * eta * -std::expm1(-2.0 * gamma / (eta * eta));
    const double rho = 1.0 - r * (1.0 + eta * eta * a * a / (sigma * sigma));
    const double mu = r * (x0 + eta * eta * a * y0 / (sigma * sigma)) / (1.0 - rho);
    const double rho_i = std::pow(rho, options.iterations);
    EXPECT_NEAR(kernel.M(0, 0) * x0 + kernel.b(0), mu + rho_i * (x0 - mu), 1e-14);
    EXPECT_NEAR(kernel.Q(0, 0), s2 * (1.0 - rho_i * rho_i) / (1.0 - rho * rho), 1e-14);
  }
  const LinearGaussianTest likelihood = likelihood_2d();
  const Vector y = vec({0.6, -0.2});
  const Vector x = vec({0.2, 0.4});
  const double eta = 0.5;
  PcsOptions options;
  options.iterations = 6;
  options.step_scale = 0.4;
  options.noise_scale = likelihood.sigma();
  const GaussianChain kernel = *pcs_affine_kernel(*likelihood.linear_gaussian(), y, eta, options);
  const Eigen::Index n = 100000;
  Matrix out(2, n);
  pcs_sample(likelihood, y, eta, options, x.replicate(1, n), RandomStreams(33, 0), 0, kTag, out);
  expect_gaussian_law(out, Gaussian{kernel.M * x + kernel.b, kernel.Q}, "unadjusted PCS, 6 iterations");

  const Gaussian exact = proximal_law(likelihood, y, x, eta);
  double previous_error = 0.0;
  for (const double step_scale : {0.1, 0.01}) {
    options.step_scale = step_scale;
    options.iterations = static_cast<int>(40.0 / step_scale);
    const GaussianChain converged = *pcs_affine_kernel(*likelihood.linear_gaussian(), y, eta, options);
    const double error = (converged.Q - exact.covariance).norm() + (converged.M * x + converged.b - exact.mean).norm();
    if (previous_error > 0.0) {
      EXPECT_NEAR(previous_error / error, 10.0, 2.0) << "order gamma";
    }
    previous_error = error;
  }
  EXPECT_LT(previous_error, 0.01 * exact.covariance.norm());

  options.metropolis = true;
  EXPECT_FALSE(pcs_affine_kernel(*likelihood.linear_gaussian(), y, eta, options).has_value());
  options.metropolis = false;
  options.step_rule = PcsOptions::StepRule::kResidual;
  EXPECT_FALSE(pcs_affine_kernel(*likelihood.linear_gaussian(), y, eta, options).has_value());
}

// (3) MALA on L = (y - |z|)^2 / (2 sigma^2): moments and CDF of the exact proximal density by quadrature.
TEST(PcsNonGaussian, MetropolisMatchesTheQuadratureLaw) {
  const double sigma = 0.5, eta = 0.6, y0 = 0.8, x0 = 0.2;
  const AbsTest likelihood(sigma);
  const auto log_density = [&](double z) {
    return -(y0 - std::abs(z)) * (y0 - std::abs(z)) / (2.0 * sigma * sigma) - (z - x0) * (z - x0) / (2.0 * eta * eta);
  };
  // Integrals split at the kink z = 0 (and the CDF point t); the tails beyond +-10 are below e^-100.
  const auto integral = [&](auto weight, double lo, double hi) {
    const auto f = [&](double z) { return weight(z) * std::exp(log_density(z)); };
    using boost::math::quadrature::gauss_kronrod;
    double total = 0.0;
    if (lo < 0.0 && hi > 0.0) {
      total += gauss_kronrod<double, 61>::integrate(f, lo, 0.0, 15, 1e-13);
      total += gauss_kronrod<double, 61>::integrate(f, 0.0, hi, 15, 1e-13);
    } else {
      total += gauss_kronrod<double, 61>::integrate(f, lo, hi, 15, 1e-13);
    }
    return total;
  };
  const double normaliser = integral([](double) { return 1.0; }, -10.0, 10.0);
  const double mean = integral([](double z) { return z; }, -10.0, 10.0) / normaliser;
  const double variance = integral([&](double z) { return (z - mean) * (z - mean); }, -10.0, 10.0) / normaliser;
  const double fourth = integral([&](double z) { return std::pow(z - mean, 4); }, -10.0, 10.0) / normaliser;

  const Eigen::Index n = 20000;
  PcsOptions options;
  options.iterations = 200;
  options.step_scale = 0.5;
  options.noise_scale = sigma;
  options.metropolis = true;
  Matrix out(1, n);
  double acceptance = -1.0;
  pcs_sample(likelihood, Vector::Constant(1, y0), eta, options, Matrix::Constant(1, n, x0), RandomStreams(33, 0), 0,
             kTag, out, &acceptance);
  EXPECT_GT(acceptance, 0.5);
  EXPECT_LT(acceptance, 1.0);
  const auto count = static_cast<double>(n);
  const double sample_mean = out.mean();
  const double sample_variance = (out.array() - sample_mean).square().sum() / (count - 1.0);
  EXPECT_LT(std::abs(sample_mean - mean), 5.0 * std::sqrt(variance / count)) << sample_mean << " vs " << mean;
  EXPECT_LT(std::abs(sample_variance - variance), 5.0 * std::sqrt((fourth - variance * variance) / count))
      << sample_variance << " vs " << variance;
  for (const double t : {-0.8, -0.2, 0.0, 0.5, 1.1}) {
    const double p = integral([](double) { return 1.0; }, -10.0, t) / normaliser;
    const double empirical = (out.array() <= t).cast<double>().mean();
    EXPECT_LT(std::abs(empirical - p), 5.0 * std::sqrt(p * (1.0 - p) / count)) << "CDF at " << t << ": " << empirical
                                                                               << " vs " << p;
  }
}

// (4) The formulas and streams step by step: one and two iterations by hand.
TEST(PcsSteps, OneUnadjustedStepIsTheFormula) {
  const LinearGaussianTest likelihood = likelihood_2d();
  const Vector y = vec({0.6, -0.2});
  Matrix x(2, 3);
  x << 0.2, -1.0, 0.7, 0.4, 0.3, -0.5;
  const double eta = 0.45;
  const RandomStreams streams(40, 2);
  for (const auto rule : {PcsOptions::StepRule::kConstant, PcsOptions::StepRule::kResidual}) {
    PcsOptions options;
    options.iterations = 2;
    options.step_scale = 0.3;
    options.step_rule = rule;
    options.regulariser = 0.7;
    options.noise_scale = 0.6;
    Matrix out(2, 3);
    pcs_sample(likelihood, y, eta, options, x, streams, 5, kTag, out);
    for (Eigen::Index j = 0; j < 3; ++j) {
      Vector z = x.col(j);
      for (int i = 0; i < 2; ++i) {
        const Vector g = likelihood.gradient(y, z);
        double gamma = 0.3 * std::min(0.36, eta * eta);
        if (rule == PcsOptions::StepRule::kResidual) gamma /= 0.7 + g.norm() * 0.36;
        const double r = 1.0 - std::exp(-gamma / (eta * eta));
        const double sd = eta * std::sqrt(1.0 - std::exp(-2.0 * gamma / (eta * eta)));
        Vector w(2);
        streams.normals(5 + static_cast<std::uint64_t>(j), kTag.sub(static_cast<std::uint64_t>(2 * i)), w.data(), 2);
        z = z + r * (x.col(j) - z) - eta * eta * r * g + sd * w;
      }
      EXPECT_NEAR((out.col(j) - z).norm(), 0.0, 1e-13) << "column " << j;
    }
  }
}

// One MALA step: proposal, acceptance probability and the uniform of tag.sub(1), by hand.
TEST(PcsSteps, OneMetropolisStepIsTheFormula) {
  const AbsTest likelihood(0.4);
  const Vector y = Vector::Constant(1, 0.9);
  const Eigen::Index n = 400;
  Matrix x(1, n);
  for (Eigen::Index j = 0; j < n; ++j) x(0, j) = -2.0 + 4.0 * static_cast<double>(j) / static_cast<double>(n);
  const double eta = 0.7;
  const RandomStreams streams(41, 0);
  PcsOptions options;
  options.iterations = 1;
  options.step_scale = 2.0;  // large steps: many rejections
  options.noise_scale = 0.4;
  options.metropolis = true;
  Matrix out(1, n);
  double acceptance = -1.0;
  pcs_sample(likelihood, y, eta, options, x, streams, 0, kTag, out, &acceptance);
  const double gamma = 2.0 * std::min(0.16, eta * eta);
  const double r = 1.0 - std::exp(-gamma / (eta * eta));
  const double s2 = eta * eta * (1.0 - std::exp(-2.0 * gamma / (eta * eta)));
  const auto nll = [&](double z) { return (0.9 - std::abs(z)) * (0.9 - std::abs(z)) / (2.0 * 0.16); };
  const auto grad = [&](double z) { return -(0.9 - std::abs(z)) * (z > 0 ? 1.0 : (z < 0 ? -1.0 : 0.0)) / 0.16; };
  int accepted = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    const double x0 = x(0, j);
    double w = 0.0;
    streams.normals(static_cast<std::uint64_t>(j), kTag.sub(0), &w, 1);
    const double proposal = x0 - eta * eta * r * grad(x0) + std::sqrt(s2) * w;
    const double back_mean = proposal + r * (x0 - proposal) - eta * eta * r * grad(proposal);
    const double log_alpha = (-nll(proposal) - (proposal - x0) * (proposal - x0) / (2 * eta * eta)) -
                             (x0 - back_mean) * (x0 - back_mean) / (2 * s2) - (-nll(x0)) + w * w / 2;
    const double u = streams.uniform(static_cast<std::uint64_t>(j), kTag.sub(1), 0);
    if (std::abs(std::log(u) - log_alpha) < 1e-9) continue;  // too close to call
    const bool accept = std::log(u) < log_alpha;
    accepted += accept ? 1 : 0;
    EXPECT_NEAR(out(0, j), accept ? proposal : x0, 1e-13) << "particle " << j;
  }
  EXPECT_GT(accepted, 20);
  EXPECT_LT(accepted, n - 20);
  EXPECT_NEAR(acceptance, static_cast<double>(accepted) / static_cast<double>(n), 2.0 / static_cast<double>(n));
}

TEST(PcsStreams, ColumnsAreBitwiseIndependentOfBatchAndOffsetAndOutMayAliasX) {
  const LinearGaussianTest likelihood = likelihood_2d();
  const Vector y = vec({0.6, -0.2});
  Matrix x(2, 6);
  x << 0.2, -1.0, 0.7, 0.4, 0.3, -0.5, 1.1, 0.0, -0.3, 0.9, -0.8, 0.25;
  const RandomStreams streams(42, 1);
  for (const bool metropolis : {false, true}) {
    PcsOptions options;
    options.iterations = 25;
    options.step_scale = 0.4;
    options.step_rule = PcsOptions::StepRule::kResidual;
    options.noise_scale = 0.5;
    options.metropolis = metropolis;
    Matrix batch(2, 6);
    pcs_sample(likelihood, y, 0.5, options, x, streams, 50, kTag, batch);
    Matrix middle(2, 3);
    pcs_sample(likelihood, y, 0.5, options, x.middleCols(2, 3), streams, 52, kTag, middle);
    for (Eigen::Index j = 0; j < 6; ++j) {
      Matrix single(2, 1);
      pcs_sample(likelihood, y, 0.5, options, x.col(j), streams, 50 + static_cast<std::uint64_t>(j), kTag, single);
      EXPECT_TRUE((single.col(0).array() == batch.col(j).array()).all()) << metropolis << " column " << j;
      if (j >= 2 && j < 5) {
        EXPECT_TRUE((middle.col(j - 2).array() == batch.col(j).array()).all()) << metropolis << " " << j;
      }
    }
    Matrix aliased = x;
    pcs_sample(likelihood, y, 0.5, options, aliased, streams, 50, kTag, aliased);
    EXPECT_TRUE((aliased.array() == batch.array()).all()) << metropolis << ": out aliasing x";
    Matrix more(2, 6);
    options.iterations = 26;
    pcs_sample(likelihood, y, 0.5, options, x, streams, 50, kTag, more);
    EXPECT_FALSE((more.array() == batch.array()).all()) << metropolis << ": the 26th iteration must move the chain";
  }
}

// (5) Options and arguments are refused with the option, its value and the rule.
TEST(PcsOptionsValidate, NamesOptionValueAndRule) {
  const auto message_of = [](auto change) {
    PcsOptions options;
    change(options);
    try {
      options.validate();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_EQ(message_of([](PcsOptions&) {}), "no exception");
  EXPECT_EQ(message_of([](PcsOptions& o) { o.iterations = 32767; }), "no exception");
  const auto expect_message = [&](const std::string& message, std::initializer_list<const char*> parts) {
    for (const char* part : parts) EXPECT_NE(message.find(part), std::string::npos) << message << " lacks " << part;
  };
  expect_message(message_of([](PcsOptions& o) { o.iterations = 0; }), {"iterations = 0", "[1, 32767]"});
  expect_message(message_of([](PcsOptions& o) { o.iterations = 32768; }), {"iterations = 32768", "[1, 32767]"});
  expect_message(message_of([](PcsOptions& o) { o.step_scale = 0.0; }), {"step_scale = 0", "positive"});
  expect_message(message_of([](PcsOptions& o) { o.step_scale = std::nan(""); }), {"step_scale = nan", "positive"});
  expect_message(message_of([](PcsOptions& o) { o.regulariser = -1.0; }), {"regulariser = -1", "positive"});
  expect_message(message_of([](PcsOptions& o) { o.noise_scale = INFINITY; }), {"noise_scale = inf", "finite"});

  const AbsTest likelihood(0.5);
  Matrix x = Matrix::Zero(1, 2), out(1, 2);
  PcsOptions options;
  EXPECT_THROW(pcs_sample(likelihood, Vector::Ones(1), 0.0, options, x, RandomStreams(1, 1), 0, kTag, out),
               InvalidArgument);
  Matrix wrong(2, 2);
  EXPECT_THROW(pcs_sample(likelihood, Vector::Ones(1), 0.5, options, x, RandomStreams(1, 1), 0, kTag, wrong),
               InvalidArgument);
  options.iterations = 0;
  EXPECT_THROW(pcs_sample(likelihood, Vector::Ones(1), 0.5, options, x, RandomStreams(1, 1), 0, kTag, out),
               InvalidArgument);
}

}  // namespace
}  // namespace dmconv::posterior
