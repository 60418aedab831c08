// One-bit (probit) likelihood (Xu & Chi, arXiv 2403.17042, §5; docs/theory.md §4.7):
//
//   L(x; y) = -sum_i log Phi(u_i),  u_i = y_i (a_i^T x + tau_i) / sigma
//   grad_x L = -sum_i y_i lambda(u_i) a_i / sigma,  lambda = phi / Phi
//   smoothed (orthogonal a_i only): sum_i log Phi(y_i (a_i^T x + tau_i) / sqrt(sigma^2 + eta^2 |a_i|^2))
//
// log Phi and lambda: for u >= -5 from erfc (log1p of the upper tail for u > 0, where Phi ~ 1);
// for u < -5 from the Mills ratio R(x) = Q(x)/phi(x), x = -u, by the Laplace continued fraction
//   R(x) = 1/(x + 1/(x + 2/(x + 3/(x + ...)))),
// evaluated backwards from 40 terms (relative truncation error < 1e-22 for x >= 5), so that
//   log Phi(u) = log phi(x) + log R(x),  lambda(u) = 1 / R(x)
// hold without underflow however far the tail.
#include "posterior/likelihoods/one_bit.hpp"

#include <cmath>
#include <sstream>
#include <utility>

#include "core/error.hpp"
#include "core/normal.hpp"
#include "core/params.hpp"
#include "posterior/likelihoods/linear_gaussian.hpp"

namespace dmconv::posterior {
namespace {

// Below this u the continued fraction replaces erfc (erfc underflows near u = -38.5, and the
// continued fraction needs few terms once x = -u >= 5).
constexpr double kTailThreshold = -5.0;
constexpr int kContinuedFractionTerms = 40;

// R(x) = Q(x) / phi(x) for x >= 5.
double mills_ratio_tail(double x) {
  double t = x;
  for (int k = kContinuedFractionTerms; k >= 1; --k) t = x + static_cast<double>(k) / t;
  return 1.0 / t;
}

}  // namespace

double log_normal_cdf(double u) {
  if (u < kTailThreshold) {
    const double x = -u;
    return normal_log_pdf(x) + std::log(mills_ratio_tail(x));
  }
  if (u > 0.0) return std::log1p(-normal_upper_tail(u));
  return std::log(normal_cdf(u));
}

double inverse_mills_ratio(double u) {
  if (u < kTailThreshold) return 1.0 / mills_ratio_tail(-u);
  return normal_pdf(u) / normal_cdf(u);
}

OneBitLikelihood::OneBitLikelihood(Matrix vectors, Vector dithers, double sigma, std::string construction_description)
    : vectors_(std::move(vectors)),
      dithers_(std::move(dithers)),
      sigma_(sigma),
      construction_description_(std::move(construction_description)) {
  require(vectors_.rows() >= 1 && vectors_.cols() >= 1,
          "one_bit: the sensing vectors must form a matrix with at least one row and column");
  require(vectors_.allFinite(), "one_bit: the sensing vectors must have finite entries");
  require(dithers_.size() == vectors_.rows(), "one_bit: there are " + std::to_string(dithers_.size()) +
                                                  " dithers; there must be one per observation (m = " +
                                                  std::to_string(vectors_.rows()) + ")");
  require(dithers_.allFinite(), "one_bit: the dithers must be finite");
  require(std::isfinite(sigma_) && sigma_ > 0.0, "one_bit: sigma = " + shortest(sigma_) + " must be finite and > 0");
  // The a_i^T W are independent exactly when the a_i are orthogonal (always when m = 1); relative
  // off-diagonal Gram entries of 1e-12 count as rounding.
  // More than d non-zero vectors cannot be orthogonal (and their m x m Gram matrix may be large).
  orthogonal_vectors_ = vectors_.rows() <= vectors_.cols();
  if (!orthogonal_vectors_) return;
  const Matrix gram = vectors_ * vectors_.transpose();
  for (Eigen::Index i = 0; i < gram.rows(); ++i)
    for (Eigen::Index k = 0; k < i; ++k)
      if (std::abs(gram(i, k)) > 1e-12 * std::sqrt(gram(i, i) * gram(k, k))) orthogonal_vectors_ = false;
}

std::string OneBitLikelihood::describe() const {
  std::ostringstream text;
  text << "y_i = sign(a_i^T x + tau_i + N(0, sigma^2)), d = " << dim() << ", m = " << observations() << ", "
       << construction_description_ << ", sigma = " << shortest(sigma_);
  return text.str();
}

Vector OneBitLikelihood::simulate(const Vector& x_star, const RandomStreams& streams, StreamTag tag) const {
  require(x_star.size() == dim(), "one_bit: x_star has " + std::to_string(x_star.size()) +
                                      " entries; it must have d = " + std::to_string(dim()));
  Vector noise(observations());
  streams.normals(0, tag.sub(0), noise.data(), noise.size());
  const Vector latent = vectors_ * x_star + dithers_ + sigma_ * noise;
  // sign(0) = +1: a tie has probability 0 and must still give an admissible observation.
  return latent.unaryExpr([](double v) { return v < 0.0 ? -1.0 : 1.0; });
}

void OneBitLikelihood::check_observation(const Vector& y) const {
  require(y.size() == observations(), "one_bit: the observation y has " + std::to_string(y.size()) +
                                          " entries; it must have m = " + std::to_string(observations()) +
                                          " (one per observation)");
  for (Eigen::Index i = 0; i < y.size(); ++i)
    require(y(i) == 1.0 || y(i) == -1.0,
            "one_bit: observation y(" + std::to_string(i) + ") = " + shortest(y(i)) + " must be -1 or +1");
}

void OneBitLikelihood::negative_log_likelihood(const Vector& y, ConstMatrixRef x, VectorRef out) const {
  // Scratch sized once per call: no allocation per column.
  Vector point(dim()), latent(observations());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    point = x.col(j);
    latent.noalias() = vectors_ * point;
    latent += dithers_;
    double sum = 0.0;
    for (Eigen::Index i = 0; i < latent.size(); ++i) sum -= log_normal_cdf(y(i) * latent(i) / sigma_);
    out(j) = sum;
  }
}

void OneBitLikelihood::gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const {
  Vector point(dim()), latent(observations()), weights(observations()), grad(dim());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    point = x.col(j);
    latent.noalias() = vectors_ * point;
    latent += dithers_;
    for (Eigen::Index i = 0; i < latent.size(); ++i)
      weights(i) = -y(i) * inverse_mills_ratio(y(i) * latent(i) / sigma_) / sigma_;
    grad.noalias() = vectors_.transpose() * weights;
    out.col(j) = grad;
  }
}

bool OneBitLikelihood::smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x, VectorRef out) const {
  require(std::isfinite(eta) && eta >= 0.0,
          "one_bit: smoothing level eta = " + shortest(eta) + " must be finite and >= 0");
  if (eta > 0.0 && !orthogonal_vectors_) return false;
  // Per observation, the probit scale widened by the smoothing: sqrt(sigma^2 + eta^2 |a_i|^2).
  const Vector scales =
      (sigma_ * sigma_ + (eta * eta) * vectors_.rowwise().squaredNorm().array()).sqrt().matrix();
  Vector point(dim()), latent(observations());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    point = x.col(j);
    latent.noalias() = vectors_ * point;
    latent += dithers_;
    double sum = 0.0;
    for (Eigen::Index i = 0; i < latent.size(); ++i) sum += log_normal_cdf(y(i) * latent(i) / scales(i));
    out(j) = sum;
  }
  return true;
}

}  // namespace dmconv::posterior
