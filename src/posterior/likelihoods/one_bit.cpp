// One-bit (probit) likelihood (Xu & Chi, arXiv 2403.17042, §5; docs/theory.md §4.7):
//
//   L(x; y) = -sum_i log Phi(u_i),  u_i = y_i (a_i^T x + tau_i) / sigma
//   grad_x L = -sum_i y_i lambda(u_i) a_i / sigma,  lambda = phi / Phi
//   smoothed (orthogonal a_i only): sum_i log Phi(y_i (a_i^T x + tau_i) / sqrt(sigma^2 + eta^2 |a_i|^2))
//
// log Phi and lambda: for u >= -8 from E = Q(|u|) = erfc(|u|/sqrt 2)/2 (Phi = E for u <= 0;
// log Phi = log1p(-E) for u > 0, where Phi ~ 1); for u < -8 from the Mills ratio R(x) =
// Q(x)/phi(x), x = -u, by the Laplace continued fraction
//   R(x) = 1/(x + 1/(x + 2/(x + 3/(x + ...)))),
// evaluated backwards from 22 terms (relative truncation error < 1e-19 for x >= 8: 18 terms reach it
// at x = 8 against 3000 terms in 60-digit arithmetic; 32 would be needed at x = 5), so that
//   log Phi(u) = log phi(x) + log R(x),  lambda(u) = 1 / R(x)
// hold without underflow however far the tail. Evaluated eight values at a time (probit_terms8:
// SLEEF erfc, exp, log, log1p on eight lanes, core/simd_math.hpp); a value never depends on its
// lane or on the other seven, so likelihoods stay bitwise independent of the batch. The scalar
// log_normal_cdf and inverse_mills_ratio are lane 0 of the same computation.
#include "posterior/likelihoods/one_bit.hpp"

#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/normal.hpp"
#include "core/params.hpp"
#include "core/simd_math.hpp"
#include "posterior/likelihoods/linear_gaussian.hpp"

namespace dmconv::posterior {
namespace {

// Below this u the continued fraction replaces erfc (erfc underflows near u = -38.5; rounding u/sqrt 2
// costs erfc ~u^2 eps relative, 64 eps at u = -8; and the continued fraction needs few terms once
// x = -u >= 8).
constexpr double kTailThreshold = -8.0;
constexpr int kContinuedFractionTerms = 22;
constexpr int kLanes = simd::kLanes;

// log Phi(u[l]) and lambda(u[l]) = phi(u[l]) / Phi(u[l]) for the eight lanes (arrays aligned to 64).
void probit_terms8(const double* u, double* log_cdf, double* inverse_mills) {
  alignas(64) double w[kLanes], upper_tail[kLanes], minus_tail[kLanes], log_tail[kLanes] = {},
      log1p_tail[kLanes] = {}, exponent[kLanes], density[kLanes];
  for (int l = 0; l < kLanes; ++l) w[l] = std::fabs(u[l]) * kInvSqrt2;
  simd::erfc8(w, upper_tail);
  for (int l = 0; l < kLanes; ++l) {
    upper_tail[l] *= 0.5;  // Q(|u|)
    minus_tail[l] = -upper_tail[l];
    exponent[l] = -0.5 * u[l] * u[l];
  }
  // A lane's value never depends on whether another lane needed log or log1p.
  bool any_positive = false, any_negative = false;
  for (int l = 0; l < kLanes; ++l) {
    any_positive |= u[l] > 0.0;
    any_negative |= !(u[l] > 0.0);
  }
  if (any_negative) simd::log8(upper_tail, log_tail);
  if (any_positive) simd::log1p8(minus_tail, log1p_tail);
  simd::exp8(exponent, density);
  bool any_tail = false;
  for (int l = 0; l < kLanes; ++l) {
    const bool positive = u[l] > 0.0;
    const double cdf = positive ? 1.0 - upper_tail[l] : upper_tail[l];
    log_cdf[l] = positive ? log1p_tail[l] : log_tail[l];
    inverse_mills[l] = kInvSqrt2Pi * density[l] / cdf;
    any_tail |= u[l] < kTailThreshold;
  }
  if (!any_tail) return;
  // The continued fraction on all lanes (x = 8 where not needed), then the tail lanes replaced.
  alignas(64) double x[kLanes], t[kLanes], mills[kLanes], log_mills[kLanes];
  for (int l = 0; l < kLanes; ++l) x[l] = u[l] < kTailThreshold ? -u[l] : -kTailThreshold;
  for (int l = 0; l < kLanes; ++l) t[l] = x[l];
  for (int k = kContinuedFractionTerms; k >= 1; --k)
    for (int l = 0; l < kLanes; ++l) t[l] = x[l] + static_cast<double>(k) / t[l];
  for (int l = 0; l < kLanes; ++l) mills[l] = 1.0 / t[l];
  simd::log8(mills, log_mills);
  for (int l = 0; l < kLanes; ++l) {
    if (!(u[l] < kTailThreshold)) continue;
    log_cdf[l] = normal_log_pdf(x[l]) + log_mills[l];
    inverse_mills[l] = t[l];
  }
}

// Per-thread scratch for one column's probit arguments and terms, padded to whole lane groups.
struct ProbitScratch {
  std::vector<double, Eigen::aligned_allocator<double>> u, log_cdf, inverse_mills;
  void reserve(Eigen::Index m) {
    const auto padded = static_cast<std::size_t>((m + kLanes - 1) / kLanes * kLanes);
    if (u.size() >= padded) return;
    u.assign(padded, 0.0);
    log_cdf.assign(padded, 0.0);
    inverse_mills.assign(padded, 0.0);
  }
};
ProbitScratch& probit_scratch(Eigen::Index m) {
  thread_local ProbitScratch scratch;
  scratch.reserve(m);
  return scratch;
}

// u_i = y_i (a_i^T x + tau_i) / scale_i for one column, then its probit terms (padding lanes: u = 0).
// The sums run in a fixed order (i, then k) with no contraction: the same bits for every column.
void column_probit_terms(const Matrix& vectors, const Vector& dithers, const Vector& y, const double* x,
                         const double* scales, double common_scale, ProbitScratch& scratch) {
  const Eigen::Index m = vectors.rows(), d = vectors.cols();
  for (Eigen::Index i = 0; i < m; ++i) {
    double latent = 0.0;
    for (Eigen::Index k = 0; k < d; ++k) latent += vectors(i, k) * x[k];
    latent += dithers(i);
    scratch.u[static_cast<std::size_t>(i)] = y(i) * latent / (scales ? scales[i] : common_scale);
  }
  for (std::size_t i = static_cast<std::size_t>(m); i < scratch.u.size(); ++i) scratch.u[i] = 0.0;
  for (std::size_t first = 0; first < static_cast<std::size_t>(m); first += kLanes)
    probit_terms8(scratch.u.data() + first, scratch.log_cdf.data() + first, scratch.inverse_mills.data() + first);
}

// sum_i log Phi(u_i) of the column in scratch, over i in order.
double column_log_likelihood(const ProbitScratch& scratch, Eigen::Index m) {
  double sum = 0.0;
  for (Eigen::Index i = 0; i < m; ++i) sum += scratch.log_cdf[static_cast<std::size_t>(i)];
  return sum;
}

}  // namespace

double log_normal_cdf(double u) {
  alignas(64) double lanes[kLanes] = {u}, log_cdf[kLanes], inverse_mills[kLanes];
  probit_terms8(lanes, log_cdf, inverse_mills);
  return log_cdf[0];
}

double inverse_mills_ratio(double u) {
  alignas(64) double lanes[kLanes] = {u}, log_cdf[kLanes], inverse_mills[kLanes];
  probit_terms8(lanes, log_cdf, inverse_mills);
  return inverse_mills[0];
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
  ProbitScratch& scratch = probit_scratch(observations());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    column_probit_terms(vectors_, dithers_, y, x.col(j).data(), nullptr, sigma_, scratch);
    out(j) = -column_log_likelihood(scratch, vectors_.rows());
  }
}

void OneBitLikelihood::gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const {
  ProbitScratch& scratch = probit_scratch(observations());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    column_probit_terms(vectors_, dithers_, y, x.col(j).data(), nullptr, sigma_, scratch);
    column_gradient(y, scratch.inverse_mills.data(), out.col(j).data());
  }
}

void OneBitLikelihood::negative_log_likelihood_and_gradient(const Vector& y, ConstMatrixRef x, VectorRef nll,
                                                            MatrixRef gradient) const {
  ProbitScratch& scratch = probit_scratch(observations());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    column_probit_terms(vectors_, dithers_, y, x.col(j).data(), nullptr, sigma_, scratch);
    nll(j) = -column_log_likelihood(scratch, vectors_.rows());
    column_gradient(y, scratch.inverse_mills.data(), gradient.col(j).data());
  }
}

// grad_k = sum_i (-y_i lambda_i / sigma) a_ik, summed over i in order.
void OneBitLikelihood::column_gradient(const Vector& y, const double* inverse_mills, double* out) const {
  const Eigen::Index m = vectors_.rows(), d = vectors_.cols();
  for (Eigen::Index k = 0; k < d; ++k) out[k] = 0.0;
  for (Eigen::Index i = 0; i < m; ++i) {
    const double weight = -y(i) * inverse_mills[i] / sigma_;
    for (Eigen::Index k = 0; k < d; ++k) out[k] += weight * vectors_(i, k);
  }
}

bool OneBitLikelihood::smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x, VectorRef out) const {
  require(std::isfinite(eta) && eta >= 0.0,
          "one_bit: smoothing level eta = " + shortest(eta) + " must be finite and >= 0");
  if (eta > 0.0 && !orthogonal_vectors_) return false;
  // Per observation, the probit scale widened by the smoothing: sqrt(sigma^2 + eta^2 |a_i|^2).
  const Vector scales =
      (sigma_ * sigma_ + (eta * eta) * vectors_.rowwise().squaredNorm().array()).sqrt().matrix();
  ProbitScratch& scratch = probit_scratch(observations());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    column_probit_terms(vectors_, dithers_, y, x.col(j).data(), scales.data(), 0.0, scratch);
    out(j) = column_log_likelihood(scratch, vectors_.rows());
  }
  return true;
}

}  // namespace dmconv::posterior
