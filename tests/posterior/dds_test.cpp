// DDS-DDPM and DDS-DDIM (posterior/dds.hpp; docs/theory.md §4.7, claim 18 of §7) against the exact
// denoising posterior of X_0 given X_0 + eta W = z:
//
//   Gaussian prior N(m0, v0):  N((v0 z + eta^2 m0) / (v0 + eta^2), v0 eta^2 / (v0 + eta^2))
//   mixture sum_k w_k N(mu_k, S_k):  sum_k pi_k N(mu_k + S_k (S_k + eta^2 I)^{-1} (z - mu_k),
//                                                   S_k - S_k (S_k + eta^2 I)^{-1} S_k),
//                                    pi_k ∝ w_k N(z; mu_k, S_k + eta^2 I).
//
// With the exact score of a Gaussian prior both maps are affine in their normals, so the output law
// is recovered exactly from a few probe particles (least squares on the regenerated normals); its
// error must fall like 1/J. Mixture priors are checked by Monte Carlo at large J.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/score_model.hpp"
#include "posterior/dds.hpp"
#include "targets/gaussian.hpp"
#include "targets/gaussian_component.hpp"
#include "targets/gaussian_mixture.hpp"
#include "support/sample_moments.hpp"

namespace dmconv::posterior {
namespace {

constexpr double kM0 = 0.7;
constexpr double kV0 = 0.5;
constexpr double kZ = 1.3;
constexpr double kEta = 0.4;
const StreamTag kTag(StreamPurpose::kTest, 77);

GaussianTarget gaussian_1d(double mean, double variance) {
  return GaussianTarget(GaussianComponent::isotropic(Vector::Constant(1, mean), variance, "prior"));
}

struct Law1d {
  double mean;
  double variance;
};

Law1d gaussian_posterior() {
  return {(kV0 * kZ + kEta * kEta * kM0) / (kV0 + kEta * kEta), kV0 * kEta * kEta / (kV0 + kEta * kEta)};
}

// W2 between 1-D Gaussians.
double w2(const Law1d& a, const Law1d& b) {
  return std::hypot(a.mean - b.mean, std::sqrt(a.variance) - std::sqrt(b.variance));
}

double normal_of(const RandomStreams& streams, std::uint64_t particle, StreamTag tag) {
  double value = 0.0;
  streams.normals(particle, tag, &value, 1);
  return value;
}

// DDS-DDPM's exact output law on a 1-D Gaussian prior: the map is beta + sum_{j=2..J} alpha_j W_j,
// W_j the normal of level j (tag.sub(j)). n > J probe particles with the same z, least squares on
// the regenerated normals; the residual must vanish (affinity and the stream contract at once).
Law1d ddpm_law(int levels) {
  const GaussianTarget prior = gaussian_1d(kM0, kV0);
  const ExactScore score(prior);
  const RandomStreams streams(5, 1);
  const Eigen::Index n = levels + 16;
  const Matrix z = Matrix::Constant(1, n, kZ);
  Matrix out(1, n);
  dds_ddpm(score, dds_levels(kEta, levels), z, streams, 0, kTag, out);
  Matrix design(n, levels);  // column 0: intercept; column j - 1: W_j, j = 2..J
  for (Eigen::Index p = 0; p < n; ++p) {
    design(p, 0) = 1.0;
    for (int j = 2; j <= levels; ++j)
      design(p, j - 1) = normal_of(streams, static_cast<std::uint64_t>(p), kTag.sub(static_cast<std::uint64_t>(j)));
  }
  const Vector rhs = out.row(0).transpose();
  const Vector coefficients = design.colPivHouseholderQr().solve(rhs);
  EXPECT_LT((design * coefficients - rhs).cwiseAbs().maxCoeff(), 1e-11) << "DDS-DDPM is not affine in the normals "
                                                                          << "of tag.sub(2..J) at J = " << levels;
  return {coefficients(0), coefficients.tail(levels - 1).squaredNorm()};
}

// DDS-DDIM's exact output law: out = beta + alpha V_0, V_0 the normal of tag.sub(0).
Law1d ddim_law(int levels) {
  const GaussianTarget prior = gaussian_1d(kM0, kV0);
  const ExactScore score(prior);
  const RandomStreams streams(5, 2);
  const Matrix z = Matrix::Constant(1, 3, kZ);
  Matrix out(1, 3);
  dds_ddim(score, dds_levels(kEta, levels), z, streams, 0, kTag, out);
  double v[3];
  for (int p = 0; p < 3; ++p) v[p] = normal_of(streams, static_cast<std::uint64_t>(p), kTag.sub(0));
  const double alpha = (out(0, 1) - out(0, 0)) / (v[1] - v[0]);
  const double beta = out(0, 0) - alpha * v[0];
  EXPECT_NEAR(beta + alpha * v[2], out(0, 2), 1e-12) << "DDS-DDIM is not affine in V_0 at J = " << levels;
  return {beta, alpha * alpha};
}

double fitted_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0.0, my = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i] / static_cast<double>(x.size()), my += y[i] / static_cast<double>(x.size());
  double sxy = 0.0, sxx = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxy / sxx;
}

template <class LawOf>
double error_slope(const char* name, LawOf law_of) {
  std::vector<double> log_j, log_error;
  const Law1d exact = gaussian_posterior();
  for (int levels = 8; levels <= 256; levels *= 2) {
    const double error = w2(law_of(levels), exact);
    log_j.push_back(std::log(levels));
    log_error.push_back(std::log(error));
    std::printf("[ %s ] J = %3d  W2 to the exact posterior = %.4e\n", name, levels, error);
  }
  const double slope = fitted_slope(log_j, log_error);
  std::printf("[ %s ] fitted slope of log W2 in log J over J = 8..256: %.4f\n", name, slope);
  return slope;
}

TEST(DdsLevels, UniformInSigmaEndingAtEta) {
  const std::vector<double> sigmas = dds_levels(0.4, 4);
  ASSERT_EQ(sigmas.size(), 4u);
  EXPECT_DOUBLE_EQ(sigmas[0], 0.1);
  EXPECT_DOUBLE_EQ(sigmas[1], 0.2);
  EXPECT_EQ(sigmas[3], 0.4);  // exactly eta: DDIM starts at a = 0 there
}

TEST(DdsLevels, RejectsBadArgumentsNamingValueAndRule) {
  const auto message_of = [](double eta, int levels) {
    try {
      dds_levels(eta, levels);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message_of(0.0, 4).find("eta = 0 must be positive"), std::string::npos) << message_of(0.0, 4);
  EXPECT_NE(message_of(-1.0, 4).find("eta = -1"), std::string::npos);
  EXPECT_NE(message_of(std::nan(""), 4).find("must be positive and finite"), std::string::npos);
  EXPECT_NE(message_of(0.4, 0).find("J = 0 must lie in [1, 65535]"), std::string::npos) << message_of(0.4, 0);
  EXPECT_NE(message_of(0.4, 70000).find("J = 70000"), std::string::npos);
}

TEST(DdsShape, RejectsMismatchedShapesAndLevels) {
  const GaussianTarget prior = gaussian_1d(kM0, kV0);
  const ExactScore score(prior);
  const RandomStreams streams(1, 0);
  Matrix z = Matrix::Zero(2, 3), out(2, 3);
  EXPECT_THROW(dds_ddpm(score, dds_levels(0.4, 4), z, streams, 0, kTag, out), InvalidArgument);
  Matrix z1 = Matrix::Zero(1, 3), out1(1, 3);
  EXPECT_THROW(dds_ddim(score, {0.2, 0.1}, z1, streams, 0, kTag, out1), InvalidArgument);
  EXPECT_THROW(dds_ddim(score, {}, z1, streams, 0, kTag, out1), InvalidArgument);
}

// One level: both maps reduce to closed forms (abar = 1/(1 + eta^2), sqrt(1 - abar) = eta/sqrt(1 + eta^2)):
//   DDPM: z + 2 eta sqrt(1 - abar) s(sqrt(abar) z)                       (no noise at j = 1)
//   DDIM: z + eta V_0 + (pi/2) eta sqrt(1 - abar) s(sqrt(abar) z)         (D(eta) = eta^4, D(0) = eta^2, w: 0 -> -pi/2)
TEST(DdsOneLevel, MatchesTheClosedForms) {
  const GaussianMixtureTarget prior({0.4, 0.6}, {GaussianComponent::isotropic(Vector::Constant(1, -1.0), 0.3, "a"),
                                                 GaussianComponent::isotropic(Vector::Constant(1, 1.2), 0.6, "b")});
  const ExactScore score(prior);
  const RandomStreams streams(9, 4);
  const double eta = 0.7;
  const double abar = 1.0 / (1.0 + eta * eta);
  const double root = eta / std::sqrt(1.0 + eta * eta);
  Matrix z(1, 3);
  z << -0.4, 0.3, 2.0;
  Matrix ddpm(1, 3), ddim(1, 3);
  dds_ddpm(score, dds_levels(eta, 1), z, streams, 10, kTag, ddpm);
  dds_ddim(score, dds_levels(eta, 1), z, streams, 10, kTag, ddim);
  const Matrix s = prior.score(NoiseLevel(abar, eta * eta / (1.0 + eta * eta)), std::sqrt(abar) * z);
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(ddpm(0, j), z(0, j) + 2.0 * eta * root * s(0, j), 1e-14);
    const double v0 = normal_of(streams, 10 + static_cast<std::uint64_t>(j), kTag.sub(0));
    EXPECT_NEAR(ddim(0, j), z(0, j) + eta * v0 + std::numbers::pi / 2 * eta * root * s(0, j), 1e-14);
  }
}

// Claim 18 on the Gaussian prior, with the exact output laws of the affine probes.
TEST(DdsGaussianPrior, DdpmErrorFallsAsOneOverJ) {
  const double slope = error_slope("DDS-DDPM", ddpm_law);
  EXPECT_NEAR(slope, -1.0, 0.15);
  const Law1d fine = ddpm_law(256);
  EXPECT_LT(std::abs(fine.mean - gaussian_posterior().mean), 1e-3);
  EXPECT_LT(std::abs(fine.variance - gaussian_posterior().variance), 1e-4);
}

TEST(DdsGaussianPrior, DdimErrorFallsAsOneOverJ) {
  // The step from sigma = eta (a = 0) sees w and the score argument vary like sqrt(a), so the
  // local errors sum to ~ log J / J: the raw slope over 8..256 is about -0.9 rather than -1.
  const double slope = error_slope("DDS-DDIM", ddim_law);
  EXPECT_NEAR(slope, -1.0, 0.15);
  const Law1d fine = ddim_law(256);
  EXPECT_LT(std::abs(fine.mean - gaussian_posterior().mean), 1e-3);
  EXPECT_LT(std::abs(fine.variance - gaussian_posterior().variance), 1e-3);
}

// Values printed by an independent script of the DDS formulas on the same prior, z and eta. Its DDPM
// grid is ours (sigma_(j) = eta j / K) but it adds noise at the last level as well, so its variance
// exceeds ours by exactly sigma_(1)^2 = (eta / K)^2; the means agree.
TEST(DdsGaussianPrior, DdpmAgreesWithTheIndependentScript) {
  const struct {
    int levels;
    double mean, variance_with_last_noise;
  } printed[] = {{10, 1.141313, 0.121049}, {40, 1.151237, 0.121115}, {160, 1.153718, 0.121184}};
  for (const auto& row : printed) {
    const Law1d law = ddpm_law(row.levels);
    EXPECT_NEAR(law.mean, row.mean, 1e-6) << "K = " << row.levels;
    EXPECT_NEAR(law.variance + std::pow(kEta / row.levels, 2), row.variance_with_last_noise, 1e-6) << "K = " << row.levels;
  }
}

// The probes' laws are the laws of the actual draws: a Monte Carlo check at J = 32.
TEST(DdsGaussianPrior, MonteCarloAgreesWithTheAffineProbe) {
  const GaussianTarget prior = gaussian_1d(kM0, kV0);
  const ExactScore score(prior);
  const RandomStreams streams(11, 0);
  const Eigen::Index n = 100000;
  const Matrix z = Matrix::Constant(1, n, kZ);
  Matrix out(1, n);
  for (int variant = 0; variant < 2; ++variant) {
    const Law1d law = variant == 0 ? ddpm_law(32) : ddim_law(32);
    if (variant == 0) dds_ddpm(score, dds_levels(kEta, 32), z, streams, 0, kTag, out);
    else dds_ddim(score, dds_levels(kEta, 32), z, streams, 0, kTag, out);
    const double mean = out.mean();
    const double variance = (out.array() - mean).square().sum() / static_cast<double>(n - 1);
    EXPECT_LT(std::abs(mean - law.mean), 5.0 * std::sqrt(law.variance / static_cast<double>(n))) << variant;
    EXPECT_LT(std::abs(variance - law.variance), 5.0 * law.variance * std::sqrt(2.0 / static_cast<double>(n))) << variant;
  }
}

// ---- Gaussian-mixture priors: the exact denoising posterior by the mixture formulas. ----

struct LawNd {
  Vector mean;
  Matrix covariance;
};

LawNd mixture_posterior(const GaussianMixtureTarget& prior, const Vector& z, double eta) {
  const auto d = static_cast<Eigen::Index>(z.size());
  const std::size_t k_count = prior.components().size();
  std::vector<double> log_weight(k_count);
  std::vector<Vector> means(k_count);
  std::vector<Matrix> covariances(k_count);
  for (std::size_t k = 0; k < k_count; ++k) {
    const Vector& mu = prior.components()[k].mean();
    const Matrix sigma = prior.components()[k].covariance();
    const Matrix noisy = sigma + eta * eta * Matrix::Identity(d, d);
    const Eigen::LLT<Matrix> llt(noisy);
    const Vector residual = z - mu;
    const Vector solved = llt.solve(residual);
    const double log_det = 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
    log_weight[k] = std::log(prior.weights()[k]) - 0.5 * (log_det + residual.dot(solved));
    means[k] = mu + sigma * solved;
    covariances[k] = sigma - sigma * llt.solve(sigma);
  }
  double top = log_weight[0];
  for (double lw : log_weight) top = std::max(top, lw);
  double total = 0.0;
  for (double& lw : log_weight) total += (lw = std::exp(lw - top));
  LawNd law{Vector::Zero(d), Matrix::Zero(d, d)};
  for (std::size_t k = 0; k < k_count; ++k) {
    const double pk = log_weight[k] / total;
    law.mean += pk * means[k];
    law.covariance += pk * (covariances[k] + means[k] * means[k].transpose());
  }
  law.covariance -= law.mean * law.mean.transpose();
  return law;
}

using test_support::moments_of;
using test_support::SampleMoments;

// At J levels the sample moments match the exact ones within 5 SE plus the J-bias, estimated by
// Richardson's rule for a first-order scheme: bias(J) ~ est(J/2) - est(J) (doubled for safety).
void expect_mixture_posterior(const GaussianMixtureTarget& prior, const Vector& z, double eta, int levels,
                              Eigen::Index n, bool ddim) {
  const ExactScore score(prior);
  const RandomStreams streams(21, ddim ? 1 : 0);
  const auto d = static_cast<Eigen::Index>(z.size());
  const Matrix zs = z.replicate(1, n);
  Matrix fine(d, n), coarse(d, n);
  const auto run = [&](int j, Matrix& out) {
    if (ddim) dds_ddim(score, dds_levels(eta, j), zs, streams, 0, kTag, out);
    else dds_ddpm(score, dds_levels(eta, j), zs, streams, 0, kTag, out);
  };
  run(levels, fine);
  run(levels / 2, coarse);
  const LawNd exact = mixture_posterior(prior, z, eta);
  const SampleMoments at_j = moments_of(fine);
  const SampleMoments at_half = moments_of(coarse);
  const char* name = ddim ? "DDS-DDIM" : "DDS-DDPM";
  for (Eigen::Index a = 0; a < d; ++a) {
    const double bias = 2.0 * std::abs(at_half.mean(a) - at_j.mean(a));
    EXPECT_LT(std::abs(at_j.mean(a) - exact.mean(a)), 5.0 * at_j.mean_se(a) + bias)
        << name << " d = " << d << " mean(" << a << ") = " << at_j.mean(a) << ", exact " << exact.mean(a)
        << ", SE " << at_j.mean_se(a) << ", bias estimate " << bias;
    for (Eigen::Index b = 0; b < d; ++b) {
      const double cov_bias = 2.0 * std::abs(at_half.covariance(a, b) - at_j.covariance(a, b));
      EXPECT_LT(std::abs(at_j.covariance(a, b) - exact.covariance(a, b)), 5.0 * at_j.covariance_se(a, b) + cov_bias)
          << name << " d = " << d << " cov(" << a << "," << b << ") = " << at_j.covariance(a, b) << ", exact "
          << exact.covariance(a, b) << ", SE " << at_j.covariance_se(a, b) << ", bias estimate " << cov_bias;
    }
  }
}

GaussianMixtureTarget mixture_1d() {
  return GaussianMixtureTarget({0.3, 0.7}, {GaussianComponent::isotropic(Vector::Constant(1, -2.0), 0.25, "a"),
                                            GaussianComponent::isotropic(Vector::Constant(1, 1.5), 0.5, "b")});
}

GaussianMixtureTarget mixture_2d() {
  Matrix s0(2, 2), s1(2, 2), s2(2, 2);
  s0 << 0.5, 0.3, 0.3, 0.4;
  s1 << 0.3, -0.1, -0.1, 0.6;
  s2 << 0.2, 0.0, 0.0, 0.2;
  const auto point = [](double a, double b) {
    Vector v(2);
    v << a, b;
    return v;
  };
  return GaussianMixtureTarget({0.3, 0.5, 0.2}, {GaussianComponent::full(point(-1.5, 0.5), s0, "a"),
                                                 GaussianComponent::full(point(1.0, 1.0), s1, "b"),
                                                 GaussianComponent::full(point(0.0, -1.5), s2, "c")});
}

TEST(DdsMixturePrior, OneDimensionalMatchesTheExactPosterior) {
  // z between the components and eta = 1: the posterior keeps both modes.
  const Vector z = Vector::Constant(1, -0.2);
  expect_mixture_posterior(mixture_1d(), z, 1.0, 128, 20000, false);
  expect_mixture_posterior(mixture_1d(), z, 1.0, 128, 20000, true);
}

TEST(DdsMixturePrior, TwoDimensionalFullCovarianceMatchesTheExactPosterior) {
  Vector z(2);
  z << -0.3, 0.2;
  expect_mixture_posterior(mixture_2d(), z, 0.8, 128, 10000, false);
  expect_mixture_posterior(mixture_2d(), z, 0.8, 128, 10000, true);
}

// ---- Streams: each column depends on its own particle only; out may alias z. ----

TEST(DdsStreams, ColumnsAreBitwiseIndependentOfBatchAndOffset) {
  const GaussianMixtureTarget prior = mixture_2d();
  const ExactScore score(prior);
  const RandomStreams streams(3, 7);
  const std::vector<double> sigmas = dds_levels(0.6, 16);
  Matrix z(2, 7);
  z << -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 0.3, -0.2, 0.1, 0.7, -1.1, 0.4, 0.0;
  for (int variant = 0; variant < 2; ++variant) {
    const auto call = [&](ConstMatrixRef zz, std::uint64_t first, MatrixRef out) {
      if (variant == 0) dds_ddpm(score, sigmas, zz, streams, first, kTag, out);
      else dds_ddim(score, sigmas, zz, streams, first, kTag, out);
    };
    Matrix batch(2, 7);
    call(z, 100, batch);
    Matrix middle(2, 3);
    call(z.middleCols(3, 3), 103, middle);
    for (Eigen::Index j = 0; j < 7; ++j) {
      Matrix single(2, 1);
      call(z.col(j), 100 + static_cast<std::uint64_t>(j), single);
      EXPECT_TRUE((single.col(0).array() == batch.col(j).array()).all()) << "variant " << variant << " column " << j;
      if (j >= 3 && j < 6) {
        EXPECT_TRUE((middle.col(j - 3).array() == batch.col(j).array()).all()) << "variant " << variant << " column " << j;
      }
    }
    Matrix aliased = z;
    call(aliased, 100, aliased);
    EXPECT_TRUE((aliased.array() == batch.array()).all()) << "variant " << variant << ": out aliasing z";
    // A different particle gets different normals (the stream is actually used).
    Matrix shifted(2, 7);
    call(z, 101, shifted);
    EXPECT_FALSE((shifted.col(0).array() == batch.col(0).array()).all()) << "variant " << variant;
  }
}

TEST(DdsStreams, ScoreIsEvaluatedOncePerLevelForTheWholeBatch) {
  const GaussianTarget prior = gaussian_1d(kM0, kV0);
  const ExactScore score(prior);
  const RandomStreams streams(1, 1);
  const Matrix z = Matrix::Constant(1, 5, kZ);
  Matrix out(1, 5);
  dds_ddpm(score, dds_levels(kEta, 12), z, streams, 0, kTag, out);
  EXPECT_EQ(score.particle_evaluations(), 12u * 5u);
  score.reset_count();
  dds_ddim(score, dds_levels(kEta, 12), z, streams, 0, kTag, out);
  EXPECT_EQ(score.particle_evaluations(), 12u * 5u);
}

}  // namespace
}  // namespace dmconv::posterior
