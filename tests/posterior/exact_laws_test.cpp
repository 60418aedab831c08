// Tests of the closed-form laws of posterior/ (docs/theory.md §4.7, §5.7, §8.1): GaussianMixtureLaw
// (log-density, moments and projections by hand, validation, exact sampling checked by z-scores
// against standard errors, bitwise column independence), posteriors of Gaussian-mixture priors
// under linear-Gaussian likelihoods against hand formulas and against quadrature of
// p_data(x) e^{-L(x)} (with the smoothing convolution integrated numerically for pi_eta), the
// denoising posterior, the two exact Gibbs samplers (Monte Carlo moments against independent
// formulas) and the exact Gibbs chain (contraction rho(eta) of the scalar case, pi_eta as its fixed point).
#include <gtest/gtest.h>

#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/target.hpp"
#include "posterior/exact_laws.hpp"
#include "posterior/likelihoods/linear_gaussian.hpp"
#include "posterior/mixture_law.hpp"

namespace dmconv::posterior {
namespace {

using boost::math::quadrature::gauss_kronrod;
constexpr double kInf = std::numeric_limits<double>::infinity();

double normal_density(double x, double mean, double variance) {
  return std::exp(-0.5 * (x - mean) * (x - mean) / variance) / std::sqrt(2 * std::numbers::pi * variance);
}
double normal_cdf_here(double u) { return 0.5 * std::erfc(-u / std::sqrt(2.0)); }

// Integral over the real line, split at the given points (peaks of the integrand).
template <class F>
double integrate(F f, std::vector<double> cuts = {}) {
  cuts.insert(cuts.begin(), -kInf);
  cuts.push_back(kInf);
  double sum = 0.0;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) sum += gauss_kronrod<double, 61>::integrate(f, cuts[i], cuts[i + 1], 15, 1e-14);
  return sum;
}

GaussianMixtureLaw mixture_1d(std::vector<double> weights, std::vector<double> means, std::vector<double> variances) {
  GaussianMixtureLaw law;
  law.weights = std::move(weights);
  for (std::size_t k = 0; k < means.size(); ++k) {
    law.means.push_back(Vector::Constant(1, means[k]));
    law.covariances.push_back(Matrix::Constant(1, 1, variances[k]));
  }
  return law;
}

// Three 2-D components with correlated covariances.
GaussianMixtureLaw mixture_2d() {
  GaussianMixtureLaw law;
  law.weights = {0.2, 0.5, 0.3};
  law.means = {(Vector(2) << -1.5, 0.5).finished(), (Vector(2) << 1.0, 1.0).finished(),
               (Vector(2) << 0.5, -2.0).finished()};
  law.covariances = {(Matrix(2, 2) << 0.3, 0.1, 0.1, 0.5).finished(), (Matrix(2, 2) << 0.6, -0.25, -0.25, 0.4).finished(),
                     (Matrix(2, 2) << 0.2, 0.0, 0.0, 0.9).finished()};
  return law;
}

// A seeded matrix with iid N(0, 1) entries (any fixed matrix of full rank would do).
Matrix test_matrix(int rows, int cols, std::uint64_t seed) { return gaussian_sensing_matrix(rows, cols, 1.0, seed); }

Matrix spd_3d() { return (Matrix(3, 3) << 1.2, 0.3, -0.2, 0.3, 0.8, 0.1, -0.2, 0.1, 0.5).finished(); }

// Largest |z-score| of the sample mean and of every sample covariance entry (centred at the true
// mean), each against its standard error estimated from the sample.
double largest_z_score(const Matrix& samples, const Vector& mean, const Matrix& covariance) {
  const double n = static_cast<double>(samples.cols());
  const Matrix centred = samples.colwise() - mean;
  double worst = 0.0;
  for (Eigen::Index i = 0; i < samples.rows(); ++i) {
    worst = std::max(worst, std::abs(centred.row(i).mean()) / std::sqrt(covariance(i, i) / n));
    for (Eigen::Index k = 0; k <= i; ++k) {
      const Eigen::ArrayXd products = centred.row(i).array() * centred.row(k).array();
      const double average = products.mean();
      const double se = std::sqrt((products - average).square().sum() / (n - 1.0) / n);
      worst = std::max(worst, std::abs(average - covariance(i, k)) / se);
    }
  }
  return worst;
}

// Largest binomial z-score of the empirical CDF of theta^T X at the law's quartile-ish points.
double largest_cdf_z_score(const Matrix& samples, const GaussianMixtureLaw& law, const Vector& theta) {
  const estimators::Mixture1d projected = law.project(theta);
  auto cdf = [&](double q) {
    double sum = 0.0;
    for (std::size_t k = 0; k < projected.weights.size(); ++k)
      sum += projected.weights[k] * normal_cdf_here((q - projected.means[k]) / projected.sds[k]);
    return sum;
  };
  const Eigen::RowVectorXd values = theta.transpose() * samples;
  const double n = static_cast<double>(samples.cols());
  const double centre = theta.dot(law.moments().mean);
  const double spread = std::sqrt(theta.dot(law.moments().covariance * theta));
  double worst = 0.0;
  for (const double t : {-1.5, -0.7, 0.0, 0.4, 1.2}) {
    const double q = centre + t * spread;
    const double p = cdf(q);
    const double fraction = (values.array() <= q).cast<double>().mean();
    worst = std::max(worst, std::abs(fraction - p) / std::sqrt(p * (1 - p) / n));
  }
  return worst;
}

// ------------------------------------------------------------------------------------------
// GaussianMixtureLaw.

TEST(MixtureLaw, LogDensityByHand) {
  const GaussianMixtureLaw law = mixture_1d({0.3, 0.7}, {-2.0, 1.5}, {0.25, 0.5});
  const Matrix points = (Matrix(1, 4) << -2.0, 0.0, 1.7, 9.0).finished();
  Vector log_density(4);
  law.log_density(points, log_density);
  for (int j = 0; j < 4; ++j) {
    const double x = points(0, j);
    const double expected = std::log(0.3 * normal_density(x, -2.0, 0.25) + 0.7 * normal_density(x, 1.5, 0.5));
    EXPECT_NEAR(log_density(j), expected, 1e-13 * std::max(1.0, std::abs(expected)));
  }
  // Far out, where both densities underflow, the log-sum-exp keeps the value: at x = -60 the wider
  // second component dominates (61.5^2 / (2 * 0.5) < 58^2 / (2 * 0.25); the other term is e^-2946 times smaller).
  const Matrix far = Matrix::Constant(1, 1, -60.0);
  Vector far_value(1);
  law.log_density(far, far_value);
  EXPECT_NEAR(far_value(0), std::log(0.7) - 0.5 * std::log(2 * std::numbers::pi * 0.5) - 61.5 * 61.5 / (2 * 0.5), 1e-9);
  // It integrates to 1.
  const double mass = integrate([&](double x) {
    Vector v(1);
    law.log_density(Matrix::Constant(1, 1, x), v);
    return std::exp(v(0));
  }, {-2.0, 1.5});
  EXPECT_NEAR(mass, 1.0, 1e-12);
  // 2-D single component against the explicit inverse and determinant.
  GaussianMixtureLaw gaussian;
  gaussian.weights = {1.0};
  gaussian.means = {(Vector(2) << 0.4, -0.3).finished()};
  gaussian.covariances = {(Matrix(2, 2) << 0.7, 0.2, 0.2, 0.3).finished()};
  const Vector x = (Vector(2) << 1.1, 0.2).finished();
  const Vector r = x - gaussian.means[0];
  const Matrix& c = gaussian.covariances[0];
  const double expected = -0.5 * (2 * std::log(2 * std::numbers::pi) + std::log(c.determinant()) + r.dot(c.inverse() * r));
  Vector value(1);
  gaussian.log_density(x, value);
  EXPECT_NEAR(value(0), expected, 1e-13);
}

TEST(MixtureLaw, MomentsProjectionAndGaussianByHand) {
  const GaussianMixtureLaw law = mixture_1d({0.3, 0.7}, {-2.0, 1.5}, {0.25, 0.5});
  const double mean = 0.3 * -2.0 + 0.7 * 1.5;
  const double second = 0.3 * (0.25 + 4.0) + 0.7 * (0.5 + 2.25);
  EXPECT_NEAR(law.moments().mean(0), mean, 1e-15);
  EXPECT_NEAR(law.moments().covariance(0, 0), second - mean * mean, 1e-14);
  const GaussianMixtureLaw law2 = mixture_2d();
  const Vector theta = (Vector(2) << 0.6, -0.8).finished();
  const estimators::Mixture1d projected = law2.project(theta);
  ASSERT_EQ(projected.weights.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(projected.weights[k], law2.weights[k]);
    EXPECT_NEAR(projected.means[k], 0.6 * law2.means[k](0) - 0.8 * law2.means[k](1), 1e-15);
    const Matrix& c = law2.covariances[k];
    EXPECT_NEAR(projected.sds[k], std::sqrt(0.36 * c(0, 0) - 2 * 0.48 * c(0, 1) + 0.64 * c(1, 1)), 1e-15);
  }
  EXPECT_THROW(law2.as_gaussian(), InvalidArgument);
  const GaussianLaw single = mixture_1d({1.0}, {0.4}, {2.0}).as_gaussian();
  EXPECT_EQ(single.mean(0), 0.4);
  EXPECT_EQ(single.covariance(0, 0), 2.0);
}

TEST(MixtureLaw, ValidateNamesTheBrokenRule) {
  auto message_of = [](const GaussianMixtureLaw& law) -> std::string {
    try {
      law.validate("prior");
    } catch (const InvalidArgument& error) {
      return error.what();
    }
    return "(valid)";
  };
  EXPECT_EQ(message_of(mixture_2d()), "(valid)");
  EXPECT_NE(message_of(GaussianMixtureLaw{}).find("at least one component"), std::string::npos);
  GaussianMixtureLaw law = mixture_2d();
  law.weights = {0.2, 0.5, 0.31};
  EXPECT_NE(message_of(law).find("sum to 1"), std::string::npos);
  law.weights = {0.5, 0.6, -0.1};
  EXPECT_NE(message_of(law).find("weight -0.1"), std::string::npos);
  law = mixture_2d();
  law.covariances[1](0, 1) = 0.1;
  EXPECT_NE(message_of(law).find("symmetric"), std::string::npos);
  law = mixture_2d();
  law.covariances[2] = (Matrix(2, 2) << 1.0, 2.0, 2.0, 1.0).finished();
  EXPECT_NE(message_of(law).find("positive definite"), std::string::npos);
  law = mixture_2d();
  law.means[1] = Vector::Zero(3);
  EXPECT_NE(message_of(law).find("component 1"), std::string::npos);
  law = mixture_2d();
  law.covariances.pop_back();
  EXPECT_NE(message_of(law).find("counts must agree"), std::string::npos);
  EXPECT_EQ(message_of(law).rfind("prior: ", 0), 0u);
}

TEST(MixtureLaw, SamplesFollowTheLaw) {
  const GaussianMixtureLaw law = mixture_2d();
  const int n = 200000;
  Matrix samples(2, n);
  law.sample(RandomStreams(7, 1), 0, StreamTag(StreamPurpose::kTest, 4), samples);
  const GaussianLaw moments = law.moments();
  EXPECT_LT(largest_z_score(samples, moments.mean, moments.covariance), 5.0);
  EXPECT_LT(largest_cdf_z_score(samples, law, (Vector(2) << 1.0, 0.0).finished()), 5.0);
  EXPECT_LT(largest_cdf_z_score(samples, law, (Vector(2) << 0.6, -0.8).finished()), 5.0);
}

TEST(MixtureLaw, ColumnsDependOnTheirParticleOnly) {
  const GaussianMixtureLaw law = mixture_2d();
  const RandomStreams streams(3, 0);
  const StreamTag tag(StreamPurpose::kTest, 5);
  Matrix alone(2, 3), batch(2, 7);
  law.sample(streams, 10, tag, alone);
  law.sample(streams, 8, tag, batch);
  EXPECT_EQ(alone, batch.middleCols(2, 3));
  // Writing into a block of a larger matrix (other alignment) gives the same bits.
  Matrix wide = Matrix::Zero(3, 9);
  law.sample(streams, 9, tag, wide.block(1, 1, 2, 4));
  EXPECT_EQ(alone, wide.block(1, 2, 2, 3));
}

// The sampling helpers: R R^T = Sigma also for a singular Sigma (LDLT path), an indefinite matrix
// is refused; the inverse CDF picks the first cumulative weight above u.
TEST(MixtureLaw, CovarianceRootAndComponentPick) {
  const Matrix definite = (Matrix(2, 2) << 0.7, 0.2, 0.2, 0.3).finished();
  const Matrix root = covariance_root(definite, "test");
  EXPECT_LT((root * root.transpose() - definite).norm(), 1e-15);
  const Matrix singular = (Matrix(3, 3) << 1.0, 2.0, 0.0, 2.0, 4.0, 0.0, 0.0, 0.0, 0.5).finished();
  const Matrix singular_root = covariance_root(singular, "test");
  EXPECT_LT((singular_root * singular_root.transpose() - singular).norm(), 1e-14);
  EXPECT_THROW(covariance_root((Matrix(2, 2) << 1.0, 2.0, 2.0, 1.0).finished(), "test"), InvalidArgument);
  EXPECT_THROW(covariance_root((Matrix(2, 2) << 0.0, 1.0, 1.0, 0.0).finished(), "test"), InvalidArgument);
  const std::vector<double> cumulative = {0.2, 0.7, 1.0};
  EXPECT_EQ(component_of(cumulative, 0.0), 0);
  EXPECT_EQ(component_of(cumulative, 0.1999), 0);
  EXPECT_EQ(component_of(cumulative, 0.2), 1);
  EXPECT_EQ(component_of(cumulative, 0.9), 2);
  EXPECT_EQ(component_of(cumulative, 1.0), 2);  // rounding beyond the last cumulative weight
}

// ------------------------------------------------------------------------------------------
// Posteriors.

// Prior N(m0, v0), y = a x + N(0, s^2): v' = 1/(1/v0 + a^2/s^2), m' = v' (m0/v0 + a y/s^2).
TEST(ExactLaws, GaussianPosteriorByHand) {
  const double m0 = 0.7, v0 = 2.0, a = -1.3, s = 0.4, y = 0.25;
  const GaussianMixtureLaw posterior = linear_gaussian_posterior(mixture_1d({1.0}, {m0}, {v0}), Matrix::Constant(1, 1, a),
                                                                 Vector::Constant(1, y), Matrix::Constant(1, 1, s * s));
  const double variance = 1.0 / (1.0 / v0 + a * a / (s * s));
  const double mean = variance * (m0 / v0 + a * y / (s * s));
  ASSERT_EQ(posterior.size(), 1);
  EXPECT_NEAR(posterior.means[0](0), mean, 1e-14);
  EXPECT_NEAR(posterior.covariances[0](0, 0), variance, 1e-15);
  EXPECT_EQ(posterior.weights[0], 1.0);
  EXPECT_NO_THROW(posterior.validate("posterior"));
}

// Mixture prior, 1-D: component weights, means and variances of p_data(x) e^{-L(x)} by quadrature.
TEST(ExactLaws, MixturePosteriorMatchesQuadrature) {
  const std::vector<double> w = {0.25, 0.45, 0.3}, mu = {-2.0, 0.5, 3.0}, v = {0.3, 0.8, 0.15};
  const GaussianMixtureLaw prior = mixture_1d(w, mu, v);
  const double a = 1.3, s = 0.9, y = 1.7;
  const GaussianMixtureLaw posterior =
      linear_gaussian_posterior(prior, Matrix::Constant(1, 1, a), Vector::Constant(1, y), Matrix::Constant(1, 1, s * s));
  ASSERT_EQ(posterior.size(), 3);
  std::vector<double> mass(3), first(3), second(3);
  double total = 0.0;
  for (int k = 0; k < 3; ++k) {
    auto joint = [&](double x) { return w[k] * normal_density(x, mu[k], v[k]) * normal_density(y, a * x, s * s); };
    mass[k] = integrate(joint, {mu[k], y / a});
    first[k] = integrate([&](double x) { return x * joint(x); }, {mu[k], y / a}) / mass[k];
    second[k] = integrate([&](double x) { return x * x * joint(x); }, {mu[k], y / a}) / mass[k];
    total += mass[k];
  }
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE("component " + std::to_string(k));
    EXPECT_NEAR(posterior.weights[k], mass[k] / total, 1e-11);
    EXPECT_NEAR(posterior.means[k](0), first[k], 1e-10);
    EXPECT_NEAR(posterior.covariances[k](0, 0), second[k] - first[k] * first[k], 1e-10);
  }
  EXPECT_NO_THROW(posterior.validate("posterior"));
}

// pi_eta(x) ∝ p_data(x) (e^{-L} * N(0, eta^2))(x) in 1-D, with the convolution integrated numerically;
// eta = 0 gives the posterior.
TEST(ExactLaws, StationaryLawIsTheSmoothedPosterior) {
  const GaussianMixtureLaw prior = mixture_1d({0.4, 0.6}, {-1.0, 2.0}, {0.5, 0.3});
  const Matrix A = Matrix::Constant(1, 1, 0.8);
  const double s = 0.5, y = 0.9, eta = 0.7;
  const LinearGaussianView view{&A, s};
  const GaussianMixtureLaw pi_eta = stationary_law(prior, view, Vector::Constant(1, y), eta);
  auto smoothed_likelihood = [&](double x) {
    return integrate([&](double z) { return normal_density(y, 0.8 * z, s * s) * normal_density(z, x, eta * eta); },
                     {x, y / 0.8});
  };
  auto unnormalised = [&](double x) {
    Vector p(1);
    prior.log_density(Matrix::Constant(1, 1, x), p);
    return std::exp(p(0)) * smoothed_likelihood(x);
  };
  const double normaliser = integrate(unnormalised, {-1.0, 2.0});
  for (const double x : {-2.0, -0.5, 0.3, 1.8, 3.5}) {
    Vector value(1);
    pi_eta.log_density(Matrix::Constant(1, 1, x), value);
    EXPECT_NEAR(value(0), std::log(unnormalised(x) / normaliser), 1e-9) << "x = " << x;
  }
  const GaussianMixtureLaw pi = stationary_law(prior, view, Vector::Constant(1, y), 0.0);
  const GaussianMixtureLaw posterior =
      linear_gaussian_posterior(prior, A, Vector::Constant(1, y), Matrix::Constant(1, 1, s * s));
  for (int k = 0; k < 2; ++k) {
    EXPECT_NEAR(pi.weights[k], posterior.weights[k], 1e-15);
    EXPECT_NEAR(pi.means[k](0), posterior.means[k](0), 1e-15);
    EXPECT_NEAR(pi.covariances[k](0, 0), posterior.covariances[k](0, 0), 1e-15);
  }
}

// In 2-D with a 3 x 2 random A: log pi_eta - log p_data - (smoothed log-likelihood, checked against
// quadrature in likelihood_test) is the same constant at every x.
TEST(ExactLaws, StationaryLawIsPriorTimesSmoothedLikelihoodIn2d) {
  const GaussianMixtureLaw prior = mixture_2d();
  const LinearGaussianLikelihood likelihood(test_matrix(3, 2, 4), 0.6, "test");
  const Vector y = likelihood.simulate((Vector(2) << 0.4, -0.6).finished(), RandomStreams(2, 0), StreamTag(StreamPurpose::kTest, 6));
  const double eta = 0.8;
  const GaussianMixtureLaw pi_eta = stationary_law(prior, *likelihood.linear_gaussian(), y, eta);
  EXPECT_NO_THROW(pi_eta.validate("pi_eta"));
  Matrix points(2, 5);
  points << -2.0, 0.0, 1.0, 0.5, 3.0, 0.5, 1.0, -1.5, -2.5, 0.2;
  Vector log_pi(5), log_prior(5), smoothed(5);
  pi_eta.log_density(points, log_pi);
  prior.log_density(points, log_prior);
  ASSERT_TRUE(likelihood.smoothed_log_likelihood(y, eta, points, smoothed));
  const Vector constant = log_pi - log_prior - smoothed;
  for (int j = 1; j < 5; ++j) EXPECT_NEAR(constant(j), constant(0), 1e-11) << "point " << j;
}

// The law of X_0 given X_0 + eta W = z by quadrature (1-D), and the same law as the linear-Gaussian
// posterior with A = I, Gamma = eta^2 I (2-D).
TEST(ExactLaws, DenoisingPosteriorMatchesQuadrature) {
  const GaussianMixtureLaw prior = mixture_1d({0.3, 0.7}, {-2.0, 1.5}, {0.25, 0.5});
  const double z = 0.4, eta = 0.9;
  const GaussianMixtureLaw law = denoising_posterior(prior, Vector::Constant(1, z), eta);
  auto unnormalised = [&](double x) {
    Vector p(1);
    prior.log_density(Matrix::Constant(1, 1, x), p);
    return std::exp(p(0)) * normal_density(z, x, eta * eta);
  };
  const double normaliser = integrate(unnormalised, {-2.0, 1.5, z});
  for (const double x : {-2.5, -1.0, 0.4, 1.5, 2.7}) {
    Vector value(1);
    law.log_density(Matrix::Constant(1, 1, x), value);
    EXPECT_NEAR(value(0), std::log(unnormalised(x) / normaliser), 1e-10) << "x = " << x;
  }
  const GaussianMixtureLaw prior2 = mixture_2d();
  const Vector z2 = (Vector(2) << 0.3, -0.4).finished();
  const GaussianMixtureLaw law2 = denoising_posterior(prior2, z2, 0.6);
  const GaussianMixtureLaw direct = linear_gaussian_posterior(prior2, Matrix::Identity(2, 2), z2, 0.36 * Matrix::Identity(2, 2));
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(law2.weights[k], direct.weights[k], 1e-14);
    EXPECT_LT((law2.means[k] - direct.means[k]).norm(), 1e-14);
    EXPECT_LT((law2.covariances[k] - direct.covariances[k]).norm(), 1e-14);
  }
  EXPECT_THROW(denoising_posterior(prior2, z2, 0.0), InvalidArgument);
}

// A component with negligible posterior mass (its weight underflows) is dropped, the law stays valid.
TEST(ExactLaws, UnderflowingComponentsAreDropped) {
  const GaussianMixtureLaw prior = mixture_1d({0.5, 0.5}, {-50.0, 50.0}, {0.01, 0.01});
  const GaussianMixtureLaw law = denoising_posterior(prior, Vector::Constant(1, 50.0), 0.05);
  ASSERT_EQ(law.size(), 1);
  EXPECT_NEAR(law.means[0](0), 50.0, 1e-12);
  EXPECT_NO_THROW(law.validate("posterior"));
}

// ------------------------------------------------------------------------------------------
// Exact Gibbs samplers and chain.

// PCS: z ∝ exp(-|y - A z|^2/(2 s^2) - |z - x|^2/(2 eta^2)) is N(m, C) with, in the covariance form
// independent of the code's precision form, m = x + eta^2 A^T S^{-1} (y - A x),
// C = eta^2 I - eta^4 A^T S^{-1} A, S = s^2 I + eta^2 A A^T.
TEST(ExactLaws, ProximalSamplesHaveTheExactMoments) {
  const Matrix A = test_matrix(2, 3, 9);
  const double s = 0.4, eta = 0.7;
  const LinearGaussianView view{&A, s};
  const Vector y = (Vector(2) << 0.8, -1.1).finished();
  const Vector x = (Vector(3) << 0.2, -0.5, 1.0).finished();
  const Matrix S = s * s * Matrix::Identity(2, 2) + eta * eta * A * A.transpose();
  const Vector mean = x + eta * eta * A.transpose() * S.inverse() * (y - A * x);
  const Matrix covariance = eta * eta * Matrix::Identity(3, 3) - std::pow(eta, 4) * A.transpose() * S.inverse() * A;
  const int n = 200000;
  Matrix samples(3, n);
  sample_proximal_linear_gaussian(view, y, eta, x.replicate(1, n), RandomStreams(4, 0), 0,
                                  StreamTag(StreamPurpose::kTest, 7), samples);
  EXPECT_LT(largest_z_score(samples, mean, covariance), 5.0);
}

// DDS: draws given z against the moments of the closed-form denoising posterior, and the CDF of a
// projection against the mixture's (the per-column component weights matter there).
TEST(ExactLaws, DenoisingSamplesFollowTheDenoisingPosterior) {
  const GaussianMixtureLaw prior = mixture_2d();
  const double eta = 0.8;
  const int n = 200000;
  for (const Vector& z : {Vector((Vector(2) << 0.1, 0.2).finished()), Vector((Vector(2) << -1.8, 0.9).finished())}) {
    const GaussianMixtureLaw law = denoising_posterior(prior, z, eta);
    Matrix samples(2, n);
    sample_denoising_posterior(prior, eta, z.replicate(1, n), RandomStreams(6, 0), 0, StreamTag(StreamPurpose::kTest, 8),
                               samples);
    const GaussianLaw moments = law.moments();
    EXPECT_LT(largest_z_score(samples, moments.mean, moments.covariance), 5.0);
    EXPECT_LT(largest_cdf_z_score(samples, law, (Vector(2) << 0.8, 0.6).finished()), 5.0);
  }
}

TEST(ExactLaws, SamplerColumnsDependOnTheirParticleOnlyAndMayAlias) {
  const GaussianMixtureLaw prior = mixture_2d();
  const Matrix A = test_matrix(3, 2, 2);
  const LinearGaussianView view{&A, 0.5};
  const Vector y = (Vector(3) << 0.3, 0.1, -0.7).finished();
  const RandomStreams streams(5, 3);
  const StreamTag tag(StreamPurpose::kPosteriorChain, 4, 2);
  Matrix inputs(2, 7);
  for (int j = 0; j < 7; ++j) inputs.col(j) << -1.0 + 0.4 * j, 0.8 - 0.3 * j;
  for (const bool proximal : {false, true}) {
    SCOPED_TRACE(proximal ? "proximal" : "denoising");
    auto run = [&](const Matrix& in, std::uint64_t first, MatrixRef out) {
      if (proximal) sample_proximal_linear_gaussian(view, y, 0.6, in, streams, first, tag, out);
      else sample_denoising_posterior(prior, 0.6, in, streams, first, tag, out);
    };
    Matrix batch(2, 7), alone(2, 3);
    run(inputs, 20, batch);
    run(inputs.middleCols(2, 3), 22, alone);
    EXPECT_EQ(alone, batch.middleCols(2, 3));
    Matrix in_place = inputs;
    if (proximal) sample_proximal_linear_gaussian(view, y, 0.6, in_place, streams, 20, tag, in_place);
    else sample_denoising_posterior(prior, 0.6, in_place, streams, 20, tag, in_place);
    EXPECT_EQ(in_place, batch);
  }
}

// A = a I, Sigma_0 = v I: M = rho(eta) I with rho = 1/((1 + eta^2/v)(1 + a^2 eta^2/s^2)) (docs/theory.md §5.7).
TEST(ExactLaws, GibbsChainContractsAtRhoInTheScalarCase) {
  const double a = 1.7, s = 0.3, v = 2.5;
  const auto likelihood = likelihood_registry().make(
      "linear_gaussian", {{"dim", 3}, {"matrix", "scaled_identity"}, {"scale", a}, {"sigma_y", s}});
  const GaussianLaw prior{Vector::Constant(3, 0.2), v * Matrix::Identity(3, 3)};
  for (const double eta : {0.05, 0.4, 2.0}) {
    const GaussianChain chain = exact_gibbs_chain(prior, *likelihood->linear_gaussian(), Vector::Constant(3, 0.5), eta);
    const double rho = 1.0 / ((1.0 + eta * eta / v) * (1.0 + a * a * eta * eta / (s * s)));
    EXPECT_LT((chain.M - rho * Matrix::Identity(3, 3)).norm(), 1e-13 * std::max(rho, 1e-3)) << "eta = " << eta;
  }
}

// pi_eta (the closed form of stationary_law) is the fixed point of the chain: step(pi_eta) = pi_eta,
// and the chain started at the prior converges to it.
TEST(ExactLaws, StationaryLawIsTheFixedPointOfTheGibbsChain) {
  const Matrix A = test_matrix(2, 3, 12);
  const LinearGaussianView view{&A, 0.5};
  const Vector y = (Vector(2) << 1.2, -0.4).finished();
  const GaussianLaw prior{(Vector(3) << 0.5, -1.0, 0.3).finished(), spd_3d()};
  GaussianMixtureLaw prior_law;
  prior_law.weights = {1.0};
  prior_law.means = {prior.mean};
  prior_law.covariances = {prior.covariance};
  for (const double eta : {0.3, 1.5}) {
    SCOPED_TRACE("eta = " + std::to_string(eta));
    const GaussianChain chain = exact_gibbs_chain(prior, view, y, eta);
    const GaussianLaw pi_eta = stationary_law(prior_law, view, y, eta).as_gaussian();
    const GaussianLaw next = chain.step(pi_eta);
    EXPECT_LT((next.mean - pi_eta.mean).norm(), 1e-12);
    EXPECT_LT((next.covariance - pi_eta.covariance).norm(), 1e-12);
    GaussianLaw law = prior;
    for (int k = 0; k < 3000; ++k) law = chain.step(law);
    EXPECT_LT((law.mean - pi_eta.mean).norm(), 1e-9);
    EXPECT_LT((law.covariance - pi_eta.covariance).norm(), 1e-9);
    // Q is a covariance.
    EXPECT_GT(Eigen::SelfAdjointEigenSolver<Matrix>(chain.Q).eigenvalues().minCoeff(), 0.0);
  }
}

// One exact Gibbs sweep (PCS then DDS) from a fixed x has the law N(M x + b, Q) of the chain.
TEST(ExactLaws, GibbsChainIsTheLawOfTheTwoSamplers) {
  const Matrix A = test_matrix(2, 3, 13);
  const LinearGaussianView view{&A, 0.6};
  const Vector y = (Vector(2) << -0.3, 0.9).finished();
  const GaussianLaw prior{(Vector(3) << 0.1, 0.4, -0.6).finished(), spd_3d()};
  GaussianMixtureLaw prior_law;
  prior_law.weights = {1.0};
  prior_law.means = {prior.mean};
  prior_law.covariances = {prior.covariance};
  const double eta = 0.7;
  const Vector x = (Vector(3) << 1.0, -0.5, 0.3).finished();
  const int n = 200000;
  const RandomStreams streams(8, 0);
  Matrix z(3, n), next(3, n);
  sample_proximal_linear_gaussian(view, y, eta, x.replicate(1, n), streams, 0, StreamTag(StreamPurpose::kPosteriorChain, 1), z);
  sample_denoising_posterior(prior_law, eta, z, streams, 0, StreamTag(StreamPurpose::kPosteriorChain, 2), next);
  const GaussianChain chain = exact_gibbs_chain(prior, view, y, eta);
  EXPECT_LT(largest_z_score(next, chain.M * x + chain.b, chain.Q), 5.0);
}

// mixture_of copies a target's Gaussian-mixture view.
class TwoComponents final : public GaussianMixtureView {
 public:
  int size() const override { return 2; }
  double weight(int k) const override { return k == 0 ? 0.25 : 0.75; }
  const Vector& mean(int k) const override { return means_[k]; }
  Matrix covariance(int k) const override { return (k + 1.0) * Matrix::Identity(2, 2); }

 private:
  std::vector<Vector> means_ = {Vector::Constant(2, -1.0), Vector::Constant(2, 2.0)};
};

TEST(ExactLaws, MixtureOfCopiesTheView) {
  const TwoComponents view;
  const GaussianMixtureLaw law = mixture_of(view);
  ASSERT_EQ(law.size(), 2);
  EXPECT_EQ(law.weights, (std::vector<double>{0.25, 0.75}));
  EXPECT_EQ(law.means[1], Vector::Constant(2, 2.0));
  EXPECT_EQ(law.covariances[1], 2.0 * Matrix::Identity(2, 2));
  EXPECT_NO_THROW(law.validate("mixture_of"));
}

}  // namespace
}  // namespace dmconv::posterior
