// Tests of the likelihoods of posterior/ (docs/theory.md §4.7; Xu & Chi, arXiv 2403.17042):
// registry (examples build, parameter rules), e^{-L} is a normalised law of y (quadrature over y, or
// the sum over y = +-1), gradients against central differences of L, the smoothed closed forms
// against quadrature of E e^{-L(x + eta W)} written here, one_bit's log Phi and inverse Mills ratio
// against 50-digit Boost.Math references far into the tail, simulated observations against their
// laws (z-scores), the seeded sensing matrices, check_observation's rules and column independence.
#include <gtest/gtest.h>

#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "posterior/likelihood.hpp"
#include "posterior/likelihoods/linear_gaussian.hpp"
#include "posterior/likelihoods/one_bit.hpp"
#include "posterior/likelihoods/phase_retrieval.hpp"

namespace dmconv::posterior {
namespace {

using boost::math::quadrature::gauss_kronrod;
using BigFloat = boost::multiprecision::cpp_bin_float_50;

std::unique_ptr<Likelihood> make(const std::string& name, const ParamTable& params) {
  return likelihood_registry().make(name, params);
}

double nll_at(const Likelihood& likelihood, const Vector& y, const Vector& x) {
  return likelihood.negative_log_likelihood(y, x)(0);
}

// Standard normal CDF written independently of the code under test (plain erfc, fine for |u| < 30).
double phi_cdf(double u) { return 0.5 * std::erfc(-u / std::sqrt(2.0)); }

// The likelihoods the generic tests run on: every registered model, one_bit with a dither.
std::vector<std::pair<std::string, ParamTable>> models() {
  return {{"linear_gaussian", {{"dim", 3}, {"observations", 5}, {"matrix", "random"}, {"sigma_y", 0.4}}},
          {"linear_gaussian", {{"dim", 2}, {"matrix", "scaled_identity"}, {"scale", 1.7}, {"sigma_y", 0.3}}},
          {"phase_retrieval", {{"dim", 3}, {"observations", 6}, {"sigma_y", 0.5}}},
          {"one_bit", {{"dim", 3}, {"observations", 6}, {"sigma", 0.4}, {"dither", 0.5}}}};
}

// ------------------------------------------------------------------------------------------
// Registry and parameters.

TEST(LikelihoodRegistry, EveryExampleBuildsAndEvaluates) {
  const Registry<Likelihood>& registry = likelihood_registry();
  EXPECT_EQ(registry.kind(), "likelihood");
  ASSERT_EQ(registry.entries().size(), 3u);
  for (const auto& entry : registry.entries()) {
    SCOPED_TRACE(entry.name);
    EXPECT_FALSE(entry.description.empty());
    EXPECT_FALSE(entry.source.empty());
    const std::unique_ptr<Likelihood> likelihood = registry.make_example(entry.name);
    EXPECT_EQ(likelihood->name(), entry.name);
    EXPECT_FALSE(likelihood->describe().empty());
    const Vector x_star = Vector::LinSpaced(likelihood->dim(), -0.5, 0.8);
    const Vector y = likelihood->simulate(x_star, RandomStreams(3, 0), StreamTag(StreamPurpose::kTest, 0));
    EXPECT_EQ(y.size(), likelihood->observations());
    EXPECT_NO_THROW(likelihood->check_observation(y));
    EXPECT_TRUE(std::isfinite(nll_at(*likelihood, y, x_star)));
    EXPECT_TRUE(likelihood->gradient(y, x_star).allFinite());
  }
}

TEST(LikelihoodRegistry, RejectsBadParametersNamingTheKey) {
  auto key_of_error = [](const std::string& name, const ParamTable& params) -> std::string {
    try {
      likelihood_registry().make(name, params);
    } catch (const ParameterError& error) {
      return error.key();
    }
    return "(no error)";
  };
  EXPECT_EQ(key_of_error("linear_gaussian", {{"dim", 2}, {"colour", 1}}), "colour");
  EXPECT_EQ(key_of_error("linear_gaussian", {{"dim", 2}, {"observations", 3}}), "observations");  // identity: m = d
  EXPECT_EQ(key_of_error("linear_gaussian", {{"dim", 2}, {"observations", 3}, {"matrix", "scaled_identity"}}),
            "observations");
  EXPECT_EQ(key_of_error("linear_gaussian", {{"dim", 2}, {"scale", 2.0}}), "scale");  // identity has no scale
  EXPECT_EQ(key_of_error("linear_gaussian", {{"dim", 2}, {"matrix_seed", 4}}), "matrix_seed");
  EXPECT_EQ(key_of_error("linear_gaussian", {{"dim", 2}, {"sigma_y", 0.0}}), "sigma_y");
  EXPECT_EQ(key_of_error("linear_gaussian", {{"dim", 0}}), "dim");
  EXPECT_EQ(key_of_error("phase_retrieval", {{"dim", 2}, {"observations", 0}}), "observations");
  EXPECT_EQ(key_of_error("one_bit", {{"dim", 2}, {"sigma", -1.0}}), "sigma");
  EXPECT_EQ(key_of_error("one_bit", {{"dim", 2}, {"dither", -0.1}}), "dither");
  EXPECT_EQ(key_of_error("one_bit", {{"dim", 2}, {"sigma_y", 0.5}}), "sigma_y");  // one_bit's noise is "sigma"
  EXPECT_THROW(likelihood_registry().find("gaussian"), InvalidArgument);
}

TEST(LikelihoodRegistry, ObservationsDefaultToDim) {
  for (const std::string name : {"linear_gaussian", "phase_retrieval", "one_bit"}) {
    const auto likelihood = make(name, {{"dim", 4}});
    EXPECT_EQ(likelihood->dim(), 4) << name;
    EXPECT_EQ(likelihood->observations(), 4) << name;
  }
}

TEST(LikelihoodRegistry, MatricesAreTheDeclaredOnes) {
  const auto identity = make("linear_gaussian", {{"dim", 3}});
  EXPECT_EQ(*identity->linear_gaussian()->A, Matrix::Identity(3, 3));
  EXPECT_EQ(identity->linear_gaussian()->sigma_y, 0.5);
  const auto scaled = make("linear_gaussian", {{"dim", 2}, {"matrix", "scaled_identity"}, {"scale", -1.5}});
  EXPECT_EQ(*scaled->linear_gaussian()->A, -1.5 * Matrix::Identity(2, 2));
  EXPECT_FALSE(make("phase_retrieval", {{"dim", 2}})->linear_gaussian().has_value());
  EXPECT_FALSE(make("one_bit", {{"dim", 2}})->linear_gaussian().has_value());
}

// A = iid N(0, 1/m): 400 x 50 entries have mean 0 and variance 1/m (z-scores), and the same seed gives
// the same matrix, another seed another.
TEST(LikelihoodRegistry, RandomMatrixHasEntriesOfVarianceOneOverM) {
  const int m = 400, d = 50;
  const auto likelihood = make("linear_gaussian", {{"dim", d}, {"observations", m}, {"matrix", "random"}});
  const Matrix& A = *likelihood->linear_gaussian()->A;
  const double n = static_cast<double>(A.size());
  const double mean = A.mean();
  const double variance = (A.array() - mean).square().sum() / (n - 1.0);
  EXPECT_LT(std::abs(mean) / std::sqrt(1.0 / m / n), 5.0);
  EXPECT_LT(std::abs(variance * m - 1.0) / std::sqrt(2.0 / n), 5.0);
  const auto same = make("linear_gaussian", {{"dim", d}, {"observations", m}, {"matrix", "random"}});
  EXPECT_EQ(*same->linear_gaussian()->A, A);
  const auto other =
      make("linear_gaussian", {{"dim", d}, {"observations", m}, {"matrix", "random"}, {"matrix_seed", 2}});
  EXPECT_GT((*other->linear_gaussian()->A - A).norm(), 1.0);
}

// Sensing vectors a_i ~ N(0, I_d): unit variance, and the first rows do not change when m grows.
TEST(LikelihoodRegistry, SensingVectorsAreStandardAndStableInM) {
  const auto small = make("phase_retrieval", {{"dim", 5}, {"observations", 3}});
  const auto large = make("phase_retrieval", {{"dim", 5}, {"observations", 2000}});
  const Matrix& a_small = dynamic_cast<const PhaseRetrievalLikelihood&>(*small).vectors();
  const Matrix& a_large = dynamic_cast<const PhaseRetrievalLikelihood&>(*large).vectors();
  EXPECT_EQ(a_small, a_large.topRows(3));
  const double n = static_cast<double>(a_large.size());
  EXPECT_LT(std::abs(a_large.array().square().mean() - 1.0) / std::sqrt(2.0 / n), 5.0);
  const auto bits = make("one_bit", {{"dim", 5}, {"observations", 2000}, {"dither", 0.7}});
  const auto& one_bit = dynamic_cast<const OneBitLikelihood&>(*bits);
  EXPECT_EQ(one_bit.vectors(), a_large);  // the same seed gives the same a_i
  const double dither_variance = one_bit.dithers().array().square().mean();
  EXPECT_LT(std::abs(dither_variance / 0.49 - 1.0) / std::sqrt(2.0 / 2000.0), 5.0);
  const auto undithered = make("one_bit", {{"dim", 5}, {"observations", 10}});
  EXPECT_EQ(dynamic_cast<const OneBitLikelihood&>(*undithered).dithers(), Vector::Zero(10));
}

// ------------------------------------------------------------------------------------------
// The models.

// L by hand for y = a x + N(0, sigma^2) in 1-D, and a full 2-D case with an explicit matrix.
TEST(Likelihood, LinearGaussianByHand) {
  const auto likelihood = make("linear_gaussian", {{"dim", 1}, {"matrix", "scaled_identity"}, {"scale", 2.0},
                                                   {"sigma_y", 0.25}});
  const double x = 0.3, y = -0.4, a = 2.0, sigma = 0.25;
  const double expected = (y - a * x) * (y - a * x) / (2 * sigma * sigma) + 0.5 * std::log(2 * std::numbers::pi * sigma * sigma);
  EXPECT_NEAR(nll_at(*likelihood, Vector::Constant(1, y), Vector::Constant(1, x)), expected, 1e-13);
  EXPECT_NEAR(likelihood->gradient(Vector::Constant(1, y), Vector::Constant(1, x))(0, 0),
              -a * (y - a * x) / (sigma * sigma), 1e-12);
}

// e^{-L(x; .)} is a density of y (m = 1): quadrature over y gives 1 for linear_gaussian and
// phase_retrieval; for one_bit the two outcomes' probabilities add to 1.
TEST(Likelihood, ExpMinusLIsALawOfY) {
  const Vector x = (Vector(2) << 0.7, -1.1).finished();
  for (const std::string name : {"linear_gaussian", "phase_retrieval"}) {
    const auto likelihood =
        make(name, name == "linear_gaussian"
                       ? ParamTable{{"dim", 2}, {"observations", 1}, {"matrix", "random"}, {"sigma_y", 0.3}}
                       : ParamTable{{"dim", 2}, {"observations", 1}, {"sigma_y", 0.3}});
    const double mass = gauss_kronrod<double, 61>::integrate(
        [&](double y) { return std::exp(-nll_at(*likelihood, Vector::Constant(1, y), x)); },
        -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(), 15, 1e-13);
    EXPECT_NEAR(mass, 1.0, 1e-10) << name;
  }
  const auto one_bit = make("one_bit", {{"dim", 2}, {"observations", 1}, {"dither", 0.4}});
  const double total = std::exp(-nll_at(*one_bit, Vector::Constant(1, 1.0), x)) +
                       std::exp(-nll_at(*one_bit, Vector::Constant(1, -1.0), x));
  EXPECT_NEAR(total, 1.0, 1e-14);
}

TEST(Likelihood, GradientMatchesCentralDifferences) {
  for (const auto& [name, params] : models()) {
    SCOPED_TRACE(name);
    const auto likelihood = make(name, params);
    const int d = likelihood->dim();
    const Vector x_star = Vector::LinSpaced(d, -0.9, 1.2);
    const Vector y = likelihood->simulate(x_star, RandomStreams(5, 0), StreamTag(StreamPurpose::kTest, 1));
    Matrix points(d, 3);
    points.col(0) = x_star;
    points.col(1) = Vector::LinSpaced(d, 0.4, -0.3);
    points.col(2) = Vector::LinSpaced(d, 2.0, -1.5);
    const Matrix gradient = likelihood->gradient(y, points);
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < d; ++i) {
        const double h = 1e-5;
        Vector plus = points.col(j), minus = points.col(j);
        plus(i) += h;
        minus(i) -= h;
        const double difference = (nll_at(*likelihood, y, plus) - nll_at(*likelihood, y, minus)) / (2 * h);
        EXPECT_NEAR(gradient(i, j), difference, 1e-6 * (1.0 + std::abs(difference))) << "point " << j << " coordinate " << i;
      }
  }
}

// phase_retrieval at a kink: a term with a_i^T x = 0 contributes 0 (x = 0 makes every term vanish).
TEST(Likelihood, PhaseRetrievalGradientIsZeroAtTheKink) {
  const auto likelihood = make("phase_retrieval", {{"dim", 3}, {"observations", 4}});
  const Vector y = Vector::Constant(4, 0.8);
  EXPECT_EQ(likelihood->gradient(y, Vector::Zero(3)), Matrix::Zero(3, 1));
}

// log E e^{-L(x + eta W)} by nested Gauss-Kronrod quadrature over W in [-10, 10]^2 (d = 2).
double smoothed_by_quadrature(const Likelihood& likelihood, const Vector& y, const Vector& x, double eta) {
  auto inner = [&](double w1) {
    return gauss_kronrod<double, 61>::integrate(
        [&](double w2) {
          const Vector point = x + eta * (Vector(2) << w1, w2).finished();
          const double density = std::exp(-0.5 * (w1 * w1 + w2 * w2)) / (2 * std::numbers::pi);
          return density * std::exp(-nll_at(likelihood, y, point));
        },
        -10.0, 10.0, 12, 1e-13);
  };
  return std::log(gauss_kronrod<double, 61>::integrate(inner, -10.0, 10.0, 12, 1e-13));
}

// one_bit's closed form holds for orthogonal sensing vectors (m = 1, or constructed so); with
// coupled a_i^T W (m = 3 random vectors) there is none and the call says so (eta > 0).
TEST(Likelihood, SmoothedClosedFormsMatchQuadrature) {
  std::vector<std::pair<std::string, std::shared_ptr<const Likelihood>>> smoothed = {
      {"linear_gaussian", make("linear_gaussian", {{"dim", 2}, {"observations", 3}, {"matrix", "random"}, {"sigma_y", 0.5}})},
      {"one_bit m = 1", make("one_bit", {{"dim", 2}, {"observations", 1}, {"sigma", 0.5}, {"dither", 0.4}})},
      {"one_bit orthogonal",
       std::make_shared<OneBitLikelihood>((Matrix(2, 2) << 1.2, 0.0, 0.0, -0.7).finished(),
                                          (Vector(2) << 0.3, -0.2).finished(), 0.5, "orthogonal test vectors")}};
  for (const auto& [name, likelihood] : smoothed) {
    const Vector x_star = (Vector(2) << 0.6, -0.4).finished();
    const Vector y = likelihood->simulate(x_star, RandomStreams(8, 0), StreamTag(StreamPurpose::kTest, 2));
    Matrix points(2, 2);
    points.col(0) = (Vector(2) << 0.3, -0.8).finished();
    points.col(1) = (Vector(2) << -1.2, 0.5).finished();
    for (const double eta : {0.3, 1.1}) {
      SCOPED_TRACE(name + " eta = " + std::to_string(eta));
      Vector closed(2);
      ASSERT_TRUE(likelihood->smoothed_log_likelihood(y, eta, points, closed));
      for (int j = 0; j < 2; ++j)
        EXPECT_NEAR(closed(j), smoothed_by_quadrature(*likelihood, y, points.col(j), eta), 1e-9) << "point " << j;
    }
    // eta = 0: no smoothing, -L itself.
    Vector unsmoothed(2);
    ASSERT_TRUE(likelihood->smoothed_log_likelihood(y, 0.0, points, unsmoothed));
    const Vector nll = likelihood->negative_log_likelihood(y, points);
    EXPECT_NEAR(unsmoothed(0), -nll(0), 1e-12);
    EXPECT_NEAR(unsmoothed(1), -nll(1), 1e-12);
  }
  const auto phase = make("phase_retrieval", {{"dim", 2}});
  Vector out(1);
  EXPECT_FALSE(phase->smoothed_log_likelihood(Vector::Ones(2), 0.5, Vector::Zero(2), out));
  const auto coupled = make("one_bit", {{"dim", 2}, {"observations", 3}});
  EXPECT_FALSE(coupled->smoothed_log_likelihood(Vector::Ones(3), 0.5, Vector::Zero(2), out));
  EXPECT_TRUE(coupled->smoothed_log_likelihood(Vector::Ones(3), 0.0, Vector::Zero(2), out));
  EXPECT_NEAR(out(0), -nll_at(*coupled, Vector::Ones(3), Vector::Zero(2)), 1e-14);
}

// log Phi(u) = log(erfc(-u/sqrt 2)/2) and phi(u)/Phi(u) in 50-digit arithmetic.
BigFloat big_phi(double u) {
  const BigFloat x = BigFloat(u);
  return boost::math::erfc(-x / boost::multiprecision::sqrt(BigFloat(2))) / 2;
}
// For u > 0, log(1 - Q(u)) through log1p: 1 - Q(20) is 1 even in 50 digits.
double reference_log_cdf(double u) {
  if (u <= 0.0) return static_cast<double>(boost::multiprecision::log(big_phi(u)));
  const BigFloat x = BigFloat(u);
  return static_cast<double>(boost::multiprecision::log1p(-boost::math::erfc(x / boost::multiprecision::sqrt(BigFloat(2))) / 2));
}
double reference_inverse_mills(double u) {
  const BigFloat x = BigFloat(u);
  const BigFloat density = boost::multiprecision::exp(-x * x / 2) / boost::multiprecision::sqrt(2 * boost::math::constants::pi<BigFloat>());
  return static_cast<double>(density / big_phi(u));
}

TEST(Likelihood, OneBitLogPhiAndMillsRatioAreAccurateInTheFarTail) {
  for (const double u : {-40.0, -38.6, -30.0, -12.0, -8.0000001, -8.0, -7.9999999, -5.0000001, -5.0, -4.9999999, -2.0, -0.3, 0.0, 1.5, 5.0, 8.0, 20.0}) {
    SCOPED_TRACE("u = " + std::to_string(u));
    // Where erfc is evaluated (u >= -8), rounding u/sqrt 2 alone moves Phi(u) or Q(u) by ~u^2 eps
    // relative (their logarithmic derivative is ~|u|); the continued fraction (u < -8) has no such loss.
    const double eps = std::numeric_limits<double>::epsilon();
    const double tolerance = u < -8.0 ? 8 * eps : (8 + u * u) * eps;
    const double log_cdf = reference_log_cdf(u);
    EXPECT_LE(std::abs(log_normal_cdf(u) - log_cdf), tolerance * std::abs(log_cdf));
    const double mills = reference_inverse_mills(u);
    EXPECT_LE(std::abs(inverse_mills_ratio(u) - mills), tolerance * std::abs(mills));
  }
  // Through the model: u = a x / sigma = -40 where Phi(u) ~ 1e-350 underflows a double.
  const auto likelihood = make("one_bit", {{"dim", 1}, {"observations", 1}, {"sigma", 1.0}});
  const double a = dynamic_cast<const OneBitLikelihood&>(*likelihood).vectors()(0, 0);
  const double x = -40.0 / a;
  const double u = a * x;
  const Vector y = Vector::Constant(1, 1.0);
  const double nll = nll_at(*likelihood, y, Vector::Constant(1, x));
  EXPECT_LE(std::abs(nll + reference_log_cdf(u)), 8 * std::numeric_limits<double>::epsilon() * std::abs(reference_log_cdf(u)));
  const double gradient = likelihood->gradient(y, Vector::Constant(1, x))(0, 0);
  EXPECT_LE(std::abs(gradient + reference_inverse_mills(u) * a), 8 * std::numeric_limits<double>::epsilon() * std::abs(gradient));
}

// Simulated observations follow the model: standardised residuals of linear_gaussian and
// phase_retrieval have mean 0 and variance 1; one_bit's count of +1 matches sum_i Phi(u_i).
TEST(Likelihood, SimulatedObservationsFollowTheModel) {
  const int m = 20000;
  const Vector x_star = (Vector(3) << 0.5, -0.2, 0.9).finished();
  const RandomStreams streams(11, 2);
  const StreamTag tag(StreamPurpose::kPosteriorTruth, 1);
  for (const std::string name : {"linear_gaussian", "phase_retrieval"}) {
    SCOPED_TRACE(name);
    const auto likelihood = make(name, name == "linear_gaussian"
                                           ? ParamTable{{"dim", 3}, {"observations", m}, {"matrix", "random"}, {"sigma_y", 0.3}}
                                           : ParamTable{{"dim", 3}, {"observations", m}, {"sigma_y", 0.3}});
    const Vector y = likelihood->simulate(x_star, streams, tag);
    Vector clean;
    if (name == "linear_gaussian") clean = *likelihood->linear_gaussian()->A * x_star;
    else clean = (dynamic_cast<const PhaseRetrievalLikelihood&>(*likelihood).vectors() * x_star).cwiseAbs();
    const Vector residual = (y - clean) / 0.3;
    EXPECT_LT(std::abs(residual.mean()) * std::sqrt(m), 5.0);
    EXPECT_LT(std::abs(residual.squaredNorm() / m - 1.0) / std::sqrt(2.0 / m), 5.0);
    // Another tag gives another draw.
    EXPECT_NE(likelihood->simulate(x_star, streams, StreamTag(StreamPurpose::kPosteriorTruth, 2)), y);
  }
  const auto likelihood = make("one_bit", {{"dim", 3}, {"observations", m}, {"sigma", 0.6}, {"dither", 0.5}});
  const auto& model = dynamic_cast<const OneBitLikelihood&>(*likelihood);
  const Vector y = likelihood->simulate(x_star, streams, tag);
  EXPECT_NO_THROW(likelihood->check_observation(y));
  double excess = 0.0, variance = 0.0;
  for (int i = 0; i < m; ++i) {
    const double p = phi_cdf((model.vectors().row(i).dot(x_star) + model.dithers()(i)) / 0.6);
    excess += (y(i) > 0 ? 1.0 : 0.0) - p;
    variance += p * (1 - p);
  }
  EXPECT_LT(std::abs(excess) / std::sqrt(variance), 5.0);
}

TEST(Likelihood, CheckObservationNamesTheRule) {
  auto message_of = [](const Likelihood& likelihood, const Vector& y) -> std::string {
    try {
      likelihood.check_observation(y);
    } catch (const InvalidArgument& error) {
      return error.what();
    }
    return "(no error)";
  };
  const auto linear = make("linear_gaussian", {{"dim", 3}});
  EXPECT_NE(message_of(*linear, Vector::Zero(2)).find("must have m = 3"), std::string::npos);
  Vector bad = Vector::Zero(3);
  bad(1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(message_of(*linear, bad).find("y(1)"), std::string::npos);
  EXPECT_NE(message_of(*linear, bad).find("finite"), std::string::npos);
  const auto phase = make("phase_retrieval", {{"dim", 2}, {"observations", 2}});
  EXPECT_EQ(message_of(*phase, Vector::Constant(2, -0.5)), "(no error)");  // negative: noise can do that
  EXPECT_NE(message_of(*phase, Vector::Constant(2, std::numeric_limits<double>::infinity())).find("finite"),
            std::string::npos);
  const auto one_bit = make("one_bit", {{"dim", 2}, {"observations", 2}});
  EXPECT_EQ(message_of(*one_bit, (Vector(2) << 1.0, -1.0).finished()), "(no error)");
  EXPECT_NE(message_of(*one_bit, (Vector(2) << 1.0, 0.5).finished()).find("must be -1 or +1"), std::string::npos);
  EXPECT_NE(message_of(*one_bit, Vector::Ones(3)).find("must have m = 2"), std::string::npos);
}

// A column's L and gradient are bitwise those of the column evaluated alone, and
// negative_log_likelihood_and_gradient gives bitwise the two separate calls.
TEST(Likelihood, ColumnsAreIndependentOfTheBatch) {
  auto cases = models();
  // Probit arguments from -40 to 40 across 9 observations: far-tail, erfc and padding lanes mix.
  // 300 columns: the one-bit likelihood works in chunks of 128 columns with the far-tail entries
  // of a chunk packed together, so a column's tail lanes land in different packs in the batch.
  cases.push_back({"one_bit", {{"dim", 2}, {"observations", 9}, {"sigma", 0.05}, {"dither", 0.5}}});
  for (const auto& [name, params] : cases) {
    SCOPED_TRACE(name);
    const auto likelihood = make(name, params);
    const int d = likelihood->dim();
    const Vector y = likelihood->simulate(Vector::Ones(d), RandomStreams(1, 0), StreamTag(StreamPurpose::kTest, 3));
    constexpr int kColumns = 300;
    Matrix batch(d, kColumns);
    for (int j = 0; j < kColumns; ++j)
      batch.col(j) = Vector::LinSpaced(d, -1.0 + 0.3 * (j % 7) + 0.001 * j, 0.7 - 0.2 * (j % 5) - 0.002 * j);
    const Vector nll = likelihood->negative_log_likelihood(y, batch);
    const Matrix gradient = likelihood->gradient(y, batch);
    Vector both_nll(kColumns);
    Matrix both_gradient(d, kColumns);
    likelihood->negative_log_likelihood_and_gradient(y, batch, both_nll, both_gradient);
    EXPECT_EQ(both_nll, nll);
    EXPECT_EQ(both_gradient, gradient);
    Vector smoothed(kColumns);
    const bool has_smoothed = likelihood->smoothed_log_likelihood(y, 0.4, batch, smoothed);
    for (int j = 0; j < kColumns; ++j) {
      const Vector single = batch.col(j);
      EXPECT_EQ(nll_at(*likelihood, y, single), nll(j));
      EXPECT_EQ(likelihood->gradient(y, single), gradient.col(j));
      if (has_smoothed) {
        Vector alone(1);
        likelihood->smoothed_log_likelihood(y, 0.4, single, alone);
        EXPECT_EQ(alone(0), smoothed(j));
      }
    }
  }
}

}  // namespace
}  // namespace dmconv::posterior
