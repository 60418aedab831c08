// Closed-form laws of posterior sampling with a Gaussian-mixture prior (docs/theory.md §4.7, §5.7, §8.1).
// For p_data = sum_k w_k N(mu_k, Sigma_k) and y = A x + N(0, Gamma):
//
//   S_k = A Sigma_k A^T + Gamma = L_k L_k^T,   K_k = Sigma_k A^T S_k^{-1} = (S_k^{-1} A Sigma_k)^T
//   mean_k = mu_k + K_k (y - A mu_k)
//   cov_k  = (I - K_k A) Sigma_k (I - K_k A)^T + K_k Gamma K_k^T      (Joseph form of Sigma_k - K_k A Sigma_k)
//   log w'_k = log w_k - (1/2)(m log 2pi + log det S_k + |L_k^{-1} (y - A mu_k)|^2), normalised by log-sum-exp
//
// The Joseph form is a sum of two positive semi-definite terms, so the posterior covariance stays
// positive semi-definite however strongly y constrains x (the plain difference can lose it to
// cancellation). Only S_k is factored, never Sigma_k^{-1}.
//
// Exact Gibbs chain of a Gaussian prior N(mu_0, Sigma_0) (DPnP with exact PCS and DDS, §5.7):
//   z | x ~ N(P^{-1}(A^T y / sigma_y^2 + x / eta^2), P^{-1}),  P = A^T A / sigma_y^2 + I / eta^2
//   x | z ~ N(mu_0 + G (z - mu_0), (I - G) Sigma_0 (I - G)^T + eta^2 G G^T),  G = Sigma_0 (Sigma_0 + eta^2 I)^{-1}
// (the second is the denoising posterior; G = (Sigma_0^{-1} + I/eta^2)^{-1} / eta^2 without inverting Sigma_0), so
//   M = G P^{-1} / eta^2,  b = G P^{-1} A^T y / sigma_y^2 + (I - G) mu_0,  Q = G P^{-1} G^T + cov(x | z).
//
// Samplers build every column in freshly allocated vectors, so a column's bits depend on its
// particle index and input column only (not on the batch or its alignment).
#include "posterior/exact_laws.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/params.hpp"

namespace dmconv::posterior {
namespace {

Matrix symmetrised(const Matrix& matrix) { return 0.5 * (matrix + matrix.transpose()); }

void require_positive_eta(const std::string& context, double eta) {
  require(std::isfinite(eta) && eta > 0.0, context + ": eta = " + shortest(eta) + " must be finite and > 0");
}

double log_det_of(const Eigen::LLT<Matrix>& llt) { return 2.0 * llt.matrixLLT().diagonal().array().log().sum(); }

// Normalised weights from log weights; components whose weight underflows to 0 are dropped (their
// mass is below the smallest double, so the law is unchanged to double precision).
GaussianMixtureLaw normalised(const std::vector<double>& log_weights, std::vector<Vector> means,
                              std::vector<Matrix> covariances) {
  double top = -std::numeric_limits<double>::infinity();
  for (double v : log_weights) top = std::max(top, v);
  double total = 0.0;
  for (double v : log_weights) total += std::exp(v - top);
  GaussianMixtureLaw law;
  double sum = 0.0;
  for (std::size_t k = 0; k < log_weights.size(); ++k) {
    const double weight = std::exp(log_weights[k] - top) / total;
    if (!(weight > 0.0)) continue;
    law.weights.push_back(weight);
    law.means.push_back(std::move(means[k]));
    law.covariances.push_back(std::move(covariances[k]));
    sum += weight;
  }
  for (double& weight : law.weights) weight /= sum;
  return law;
}

}  // namespace

GaussianMixtureLaw mixture_of(const GaussianMixtureView& prior) {
  GaussianMixtureLaw law;
  for (int k = 0; k < prior.size(); ++k) {
    law.weights.push_back(prior.weight(k));
    law.means.push_back(prior.mean(k));
    law.covariances.push_back(prior.covariance(k));
  }
  return law;
}

GaussianMixtureLaw linear_gaussian_posterior(const GaussianMixtureLaw& prior, const Matrix& A, const Vector& y,
                                             const Matrix& noise_covariance) {
  const Eigen::Index d = prior.dim();
  const Eigen::Index m = A.rows();
  const std::string context = "linear_gaussian_posterior";
  require(prior.size() >= 1, context + ": the prior has no component");
  require(A.cols() == d, context + ": A has " + std::to_string(A.cols()) + " columns; it must have d = " +
                             std::to_string(d) + " (the prior's dimension)");
  require(y.size() == m, context + ": y has " + std::to_string(y.size()) + " entries; it must have m = " +
                             std::to_string(m) + " (the rows of A)");
  require(noise_covariance.rows() == m && noise_covariance.cols() == m,
          context + ": the noise covariance is " + std::to_string(noise_covariance.rows()) + " x " +
              std::to_string(noise_covariance.cols()) + "; it must be m x m with m = " + std::to_string(m));
  const double log_2pi = std::log(2.0 * std::numbers::pi);
  std::vector<double> log_weights;
  std::vector<Vector> means;
  std::vector<Matrix> covariances;
  const Matrix identity = Matrix::Identity(d, d);
  for (int k = 0; k < prior.size(); ++k) {
    const Matrix& sigma = prior.covariances[k];
    const Matrix a_sigma = A * sigma;  // m x d
    const Eigen::LLT<Matrix> llt(symmetrised(a_sigma * A.transpose() + noise_covariance));
    require(llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0.0,
            context + ": A Sigma_" + std::to_string(k) + " A^T + Gamma is not positive definite");
    const Vector residual = y - A * prior.means[k];
    const Vector whitened = llt.matrixL().solve(residual);
    log_weights.push_back(std::log(prior.weights[k]) -
                          0.5 * (static_cast<double>(m) * log_2pi + log_det_of(llt) + whitened.squaredNorm()));
    const Matrix gain = llt.solve(a_sigma).transpose();  // d x m
    means.push_back(prior.means[k] + gain * residual);
    const Matrix keep = identity - gain * A;
    covariances.push_back(symmetrised(keep * sigma * keep.transpose() + gain * noise_covariance * gain.transpose()));
  }
  return normalised(log_weights, std::move(means), std::move(covariances));
}

GaussianMixtureLaw stationary_law(const GaussianMixtureLaw& prior, const LinearGaussianView& likelihood,
                                  const Vector& y, double eta) {
  require(likelihood.A != nullptr, "stationary_law: the likelihood view has no matrix A");
  require(std::isfinite(eta) && eta >= 0.0, "stationary_law: eta = " + shortest(eta) + " must be finite and >= 0");
  const Matrix& A = *likelihood.A;
  // Gamma_eta = sigma_y^2 I + eta^2 A A^T: the likelihood smoothed by N(0, eta^2 I) is Gaussian in y.
  Matrix noise_covariance = (eta * eta) * (A * A.transpose());
  noise_covariance.diagonal().array() += likelihood.sigma_y * likelihood.sigma_y;
  return linear_gaussian_posterior(prior, A, y, symmetrised(noise_covariance));
}

GaussianMixtureLaw denoising_posterior(const GaussianMixtureLaw& prior, const Vector& z, double eta) {
  require_positive_eta("denoising_posterior", eta);
  const Eigen::Index d = prior.dim();
  return linear_gaussian_posterior(prior, Matrix::Identity(d, d), z, (eta * eta) * Matrix::Identity(d, d));
}

void sample_denoising_posterior(const GaussianMixtureLaw& prior, double eta, ConstMatrixRef z,
                                const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag,
                                MatrixRef out) {
  const std::string context = "sample_denoising_posterior";
  require_positive_eta(context, eta);
  const int d = prior.dim();
  const int count = prior.size();
  require(z.rows() == d && out.rows() == d && out.cols() == z.cols(),
          context + ": z (" + std::to_string(z.rows()) + " x " + std::to_string(z.cols()) + ") and out (" +
              std::to_string(out.rows()) + " x " + std::to_string(out.cols()) +
              ") must both be d x n with d = " + std::to_string(d));
  // Per component, once per call: S_k = Sigma_k + eta^2 I, the gain G_k = Sigma_k S_k^{-1} and a root
  // of the posterior covariance (the same for every column).
  const Matrix identity = Matrix::Identity(d, d);
  std::vector<Eigen::LLT<Matrix>> factors;
  std::vector<double> log_prefactors;  // log w_k - (1/2) log det S_k (the shared d log 2pi cancels)
  std::vector<Matrix> gains, roots;
  for (int k = 0; k < count; ++k) {
    const Matrix& sigma = prior.covariances[k];
    Matrix s = sigma;
    s.diagonal().array() += eta * eta;
    factors.emplace_back(symmetrised(s));
    require(factors.back().info() == Eigen::Success,
            context + ": Sigma_" + std::to_string(k) + " + eta^2 I is not positive definite");
    log_prefactors.push_back(std::log(prior.weights[k]) - 0.5 * log_det_of(factors.back()));
    const Matrix gain = factors.back().solve(sigma).transpose();
    const Matrix keep = identity - gain;
    gains.push_back(gain);
    roots.push_back(covariance_root(symmetrised(keep * sigma * keep.transpose() + (eta * eta) * gain * gain.transpose()),
                                    context + " component " + std::to_string(k)));
  }
  Vector point(d), normals(d), log_weights(count);
  std::vector<double> cumulative(static_cast<std::size_t>(count));
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    point = z.col(j);
    for (int k = 0; k < count; ++k) {
      Vector whitened = point - prior.means[k];
      factors[k].matrixL().solveInPlace(whitened);
      log_weights(k) = log_prefactors[k] - 0.5 * whitened.squaredNorm();
    }
    const double top = log_weights.maxCoeff();
    double running = 0.0;
    for (int k = 0; k < count; ++k) cumulative[k] = running += std::exp(log_weights(k) - top);
    const int k = component_of(cumulative, streams.uniform(particle, tag.sub(0), 0) * running);
    streams.normals(particle, tag.sub(1), normals.data(), d);
    const Vector offset = point - prior.means[k];
    const Vector draw = prior.means[k] + gains[k] * offset + roots[k] * normals;
    out.col(j) = draw;
  }
}

void sample_proximal_linear_gaussian(const LinearGaussianView& likelihood, const Vector& y, double eta,
                                     ConstMatrixRef x, const RandomStreams& streams, std::uint64_t first_particle,
                                     StreamTag tag, MatrixRef out) {
  const std::string context = "sample_proximal_linear_gaussian";
  require(likelihood.A != nullptr, context + ": the likelihood view has no matrix A");
  require_positive_eta(context, eta);
  const Matrix& A = *likelihood.A;
  const int d = static_cast<int>(A.cols());
  require(y.size() == A.rows(), context + ": y has " + std::to_string(y.size()) + " entries; it must have m = " +
                                    std::to_string(A.rows()));
  require(x.rows() == d && out.rows() == d && out.cols() == x.cols(),
          context + ": x (" + std::to_string(x.rows()) + " x " + std::to_string(x.cols()) + ") and out (" +
              std::to_string(out.rows()) + " x " + std::to_string(out.cols()) +
              ") must both be d x n with d = " + std::to_string(d));
  const double noise_precision = 1.0 / (likelihood.sigma_y * likelihood.sigma_y);
  const double prox_precision = 1.0 / (eta * eta);
  Matrix precision = noise_precision * (A.transpose() * A);
  precision.diagonal().array() += prox_precision;
  const Eigen::LLT<Matrix> llt(symmetrised(precision));
  require(llt.info() == Eigen::Success, context + ": A^T A / sigma_y^2 + I / eta^2 is not positive definite");
  const Vector data_term = noise_precision * (A.transpose() * y);
  Vector point(d), normals(d);
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    point = x.col(j);
    const Vector mean = llt.solve(data_term + prox_precision * point);
    // P = L L^T, so L^{-T} W ~ N(0, P^{-1}).
    streams.normals(particle, tag.sub(1), normals.data(), d);
    llt.matrixU().solveInPlace(normals);
    const Vector draw = mean + normals;
    out.col(j) = draw;
  }
}

GaussianLaw GaussianChain::step(const GaussianLaw& law) const {
  require(law.dim() == M.cols(), "GaussianChain::step: the law has dimension " + std::to_string(law.dim()) +
                                     "; the chain has " + std::to_string(M.cols()));
  return GaussianLaw{M * law.mean + b, symmetrised(M * law.covariance * M.transpose() + Q)};
}

GaussianChain exact_gibbs_chain(const GaussianLaw& prior, const LinearGaussianView& likelihood, const Vector& y,
                                double eta) {
  const std::string context = "exact_gibbs_chain";
  require(likelihood.A != nullptr, context + ": the likelihood view has no matrix A");
  require_positive_eta(context, eta);
  const Matrix& A = *likelihood.A;
  const Eigen::Index d = A.cols();
  require(prior.dim() == d && prior.covariance.rows() == d && prior.covariance.cols() == d,
          context + ": the prior has dimension " + std::to_string(prior.dim()) + "; A has d = " + std::to_string(d) +
              " columns");
  require(y.size() == A.rows(), context + ": y has " + std::to_string(y.size()) + " entries; it must have m = " +
                                    std::to_string(A.rows()));
  const double eta2 = eta * eta;
  const Matrix identity = Matrix::Identity(d, d);
  // z | x: covariance P^{-1}, mean P^{-1} (A^T y / sigma_y^2) + (P^{-1} / eta^2) x.
  Matrix precision = (A.transpose() * A) / (likelihood.sigma_y * likelihood.sigma_y);
  precision.diagonal().array() += 1.0 / eta2;
  const Eigen::LLT<Matrix> p_llt(symmetrised(precision));
  require(p_llt.info() == Eigen::Success, context + ": A^T A / sigma_y^2 + I / eta^2 is not positive definite");
  const Matrix z_covariance = symmetrised(p_llt.solve(identity));
  const Vector z_offset = p_llt.solve(A.transpose() * y / (likelihood.sigma_y * likelihood.sigma_y));
  // x | z: the denoising posterior of N(mu_0, Sigma_0), gain G = Sigma_0 (Sigma_0 + eta^2 I)^{-1}.
  Matrix s0 = prior.covariance;
  s0.diagonal().array() += eta2;
  const Eigen::LLT<Matrix> s_llt(symmetrised(s0));
  require(s_llt.info() == Eigen::Success, context + ": Sigma_0 + eta^2 I is not positive definite");
  const Matrix gain = s_llt.solve(prior.covariance).transpose();
  const Matrix keep = identity - gain;
  const Matrix x_covariance = symmetrised(keep * prior.covariance * keep.transpose() + eta2 * gain * gain.transpose());
  GaussianChain chain;
  chain.M = gain * z_covariance / eta2;
  chain.b = gain * z_offset + keep * prior.mean;
  chain.Q = symmetrised(gain * z_covariance * gain.transpose() + x_covariance);
  return chain;
}

}  // namespace dmconv::posterior
