// A Gaussian mixture law sum_k w_k N(mu_k, Sigma_k) (docs/theory.md §4.7, §5.7):
//
//   log p(x) = logsumexp_k [ log w_k - (1/2)(d log 2pi + log det Sigma_k + |L_k^{-1} (x - mu_k)|^2) ],  Sigma_k = L_k L_k^T
//   mean = sum_k w_k mu_k,  covariance = sum_k w_k (Sigma_k + (mu_k - mean)(mu_k - mean)^T)
//   theta^T X ~ sum_k w_k N(theta^T mu_k, theta^T Sigma_k theta)
//
// Sampling: k by inverse CDF of the weights from uniform 0 of (particle, tag.sub(0)), then
// mu_k + R_k W, R_k R_k^T = Sigma_k, W the normals of (particle, tag.sub(1)). Every column is built in
// freshly allocated vectors (same alignment for every column), so a column's bits depend on its
// particle index only, never on the batch it is drawn in.
#include "posterior/mixture_law.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "core/error.hpp"
#include "core/params.hpp"

namespace dmconv::posterior {
namespace {

// Cholesky factors and log-determinants of every component, for densities.
struct Factored {
  std::vector<Eigen::LLT<Matrix>> factors;
  std::vector<double> log_dets;
};

Factored factor_components(const GaussianMixtureLaw& law) {
  Factored out;
  for (int k = 0; k < law.size(); ++k) {
    out.factors.emplace_back(law.covariances[k]);
    require(out.factors.back().info() == Eigen::Success,
            "gaussian mixture law: covariance " + std::to_string(k) + " is not positive definite");
    out.log_dets.push_back(2.0 * out.factors.back().matrixLLT().diagonal().array().log().sum());
  }
  return out;
}

}  // namespace

Matrix covariance_root(const Matrix& covariance, const std::string& context) {
  const Eigen::LLT<Matrix> llt(covariance);
  if (llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0.0) return llt.matrixL();
  // Near-singular: P^T L D L^T P with D >= -rounding; a negative pivot beyond rounding means the
  // matrix is not a covariance.
  const Eigen::LDLT<Matrix> ldlt(covariance);
  const Vector pivots = ldlt.vectorD();
  const double tolerance = 64.0 * std::numeric_limits<double>::epsilon() *
                           std::max(1.0, covariance.diagonal().cwiseAbs().maxCoeff()) *
                           static_cast<double>(covariance.rows());
  // (Eigen reports a zero pivot as a numerical issue, so info() is not consulted: the pivots and the
  // reconstruction decide.)
  require(pivots.minCoeff() >= -tolerance, context + ": the covariance is not positive semi-definite (smallest LDLT pivot " +
                                               shortest(pivots.minCoeff()) + ")");
  const Matrix lower = ldlt.matrixL();
  const Matrix scaled = lower * pivots.cwiseMax(0.0).cwiseSqrt().asDiagonal();
  const Matrix root = ldlt.transpositionsP().transpose() * scaled;
  const double mismatch = (root * root.transpose() - covariance).cwiseAbs().maxCoeff();
  require(mismatch <= 16.0 * tolerance, context + ": the covariance is not positive semi-definite (its LDLT root misses it by " +
                                            shortest(mismatch) + ")");
  return root;
}

int component_of(const std::vector<double>& cumulative_weights, double u) {
  const auto it = std::upper_bound(cumulative_weights.begin(), cumulative_weights.end(), u);
  if (it == cumulative_weights.end()) return static_cast<int>(cumulative_weights.size()) - 1;
  return static_cast<int>(it - cumulative_weights.begin());
}

void GaussianMixtureLaw::validate(const std::string& context) const {
  require(!weights.empty(), context + ": a gaussian mixture law needs at least one component");
  require(means.size() == weights.size() && covariances.size() == weights.size(),
          context + ": " + std::to_string(weights.size()) + " weights, " + std::to_string(means.size()) + " means and " +
              std::to_string(covariances.size()) + " covariances: the counts must agree");
  const Eigen::Index d = means.front().size();
  require(d >= 1, context + ": the means must have at least one entry");
  double sum = 0.0;
  for (std::size_t k = 0; k < weights.size(); ++k) {
    const std::string component = context + ": component " + std::to_string(k);
    require(std::isfinite(weights[k]) && weights[k] > 0.0,
            component + ": weight " + shortest(weights[k]) + " must be finite and > 0");
    sum += weights[k];
    require(means[k].size() == d, component + ": the mean has " + std::to_string(means[k].size()) +
                                      " entries; it must have d = " + std::to_string(d));
    require(means[k].allFinite(), component + ": the mean must be finite");
    const Matrix& covariance = covariances[k];
    require(covariance.rows() == d && covariance.cols() == d,
            component + ": the covariance is " + std::to_string(covariance.rows()) + " x " +
                std::to_string(covariance.cols()) + "; it must be d x d with d = " + std::to_string(d));
    require(covariance.allFinite(), component + ": the covariance must be finite");
    const double asymmetry = (covariance - covariance.transpose()).cwiseAbs().maxCoeff();
    require(asymmetry <= 1e-12 * std::max(1.0, covariance.cwiseAbs().maxCoeff()),
            component + ": the covariance must be symmetric (largest |Sigma - Sigma^T| entry " + shortest(asymmetry) + ")");
    const Eigen::LLT<Matrix> llt(covariance);
    require(llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0.0,
            component + ": the covariance must be positive definite (its Cholesky factorisation fails)");
  }
  require(std::abs(sum - 1.0) <= 1e-12,
          context + ": the weights sum to " + shortest(sum) + "; they must sum to 1 within 1e-12");
}

void GaussianMixtureLaw::log_density(ConstMatrixRef x, VectorRef out) const {
  const Factored factored = factor_components(*this);
  const int d = dim();
  const double log_2pi = std::log(2.0 * std::numbers::pi);
  Vector point(d), terms(size());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    point = x.col(j);
    for (int k = 0; k < size(); ++k) {
      Vector whitened = point - means[k];
      factored.factors[k].matrixL().solveInPlace(whitened);
      terms(k) = std::log(weights[k]) -
                 0.5 * (static_cast<double>(d) * log_2pi + factored.log_dets[k] + whitened.squaredNorm());
    }
    const double top = terms.maxCoeff();
    out(j) = top + std::log((terms.array() - top).exp().sum());
  }
}

void GaussianMixtureLaw::sample(const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag,
                                MatrixRef out) const {
  const int d = dim();
  std::vector<Matrix> roots;
  for (int k = 0; k < size(); ++k)
    roots.push_back(covariance_root(covariances[k], "gaussian mixture law component " + std::to_string(k)));
  std::vector<double> cumulative(weights.size());
  double running = 0.0;
  for (std::size_t k = 0; k < weights.size(); ++k) cumulative[k] = running += weights[k];
  Vector normals(d);
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    const std::uint64_t particle = first_particle + static_cast<std::uint64_t>(j);
    // u * total: the cumulative sum may end a rounding error away from 1.
    const int k = component_of(cumulative, streams.uniform(particle, tag.sub(0), 0) * running);
    streams.normals(particle, tag.sub(1), normals.data(), d);
    const Vector draw = means[k] + roots[k] * normals;
    out.col(j) = draw;
  }
}

estimators::Mixture1d GaussianMixtureLaw::project(const Vector& theta) const {
  require(theta.size() == dim(), "gaussian mixture law: the direction has " + std::to_string(theta.size()) +
                                     " entries; it must have d = " + std::to_string(dim()));
  estimators::Mixture1d law;
  for (int k = 0; k < size(); ++k) {
    law.weights.push_back(weights[k]);
    law.means.push_back(theta.dot(means[k]));
    law.sds.push_back(std::sqrt(std::max(0.0, theta.dot(covariances[k] * theta))));
  }
  return law;
}

GaussianLaw GaussianMixtureLaw::moments() const {
  const int d = dim();
  Vector mean = Vector::Zero(d);
  for (int k = 0; k < size(); ++k) mean += weights[k] * means[k];
  Matrix covariance = Matrix::Zero(d, d);
  for (int k = 0; k < size(); ++k) {
    const Vector offset = means[k] - mean;
    covariance += weights[k] * (covariances[k] + offset * offset.transpose());
  }
  return GaussianLaw{mean, 0.5 * (covariance + covariance.transpose())};
}

GaussianLaw GaussianMixtureLaw::as_gaussian() const {
  require(size() == 1, "gaussian mixture law: as_gaussian needs a single component; the law has " +
                           std::to_string(size()));
  return GaussianLaw{means.front(), covariances.front()};
}

}  // namespace dmconv::posterior
