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
// hold without underflow however far the tail. Evaluated eight values at a time (probit_terms:
// libmvec erfc, SLEEF exp, log, log1p on eight lanes, core/simd_math.hpp); a value never depends on its
// lane or on the other seven, so likelihoods stay bitwise independent of the batch. The scalar
// log_normal_cdf and inverse_mills_ratio are lane 0 of the same computation. Tail entries (the
// continued fraction) are packed across a chunk of columns: probit_tails.
#include "posterior/likelihoods/one_bit.hpp"

#include <algorithm>
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

// log Phi(u[e]) and lambda(u[e]) = phi(u[e]) / Phi(u[e]) for e < count (a multiple of kLanes, arrays
// aligned to 64) by erfc; the positions of entries with u < kTailThreshold, left to probit_tails,
// are appended to tails. log1p(-E) (u > 0) and log E (u <= 0) are taken on the entries of each
// kind packed together, so that an entry costs one of the two, not both as in a lane group that
// holds both kinds. Every function here acts lane by lane, so an entry's bits depend on its u alone.
void probit_terms(const double* u, std::size_t count, double* log_cdf, double* inverse_mills,
                  std::vector<std::size_t>& tails) {
  using Doubles = std::vector<double, Eigen::aligned_allocator<double>>;
  thread_local Doubles upper_tail, density, packed_in, packed_out;
  thread_local std::vector<std::size_t> positive, other;
  upper_tail.resize(count);
  density.resize(count);
  positive.resize(count);
  other.resize(count);
  std::size_t positives = 0, others = 0;
  for (std::size_t group = 0; group < count; group += kLanes) {
    alignas(64) double w[kLanes], exponent[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      w[l] = std::fabs(u[group + l]) * kInvSqrt2;
      exponent[l] = -0.5 * u[group + l] * u[group + l];
    }
    simd::erfc8(w, upper_tail.data() + group);
    simd::exp8(exponent, density.data() + group);
    for (std::size_t e = group; e < group + kLanes; ++e) {
      upper_tail[e] *= 0.5;  // Q(|u|)
      // Both lists are written and one count advances: no branch on the sign.
      const bool is_positive = u[e] > 0.0;
      positive[positives] = e;
      other[others] = e;
      positives += is_positive;
      others += !is_positive;
      if (u[e] < kTailThreshold) tails.push_back(e);
    }
  }
  positive.resize(positives);
  other.resize(others);
  // log1p(-E) over the packed positive entries, log E over the others; padding lanes take 0 and 1.
  const auto packed = [&](const std::vector<std::size_t>& entries, double pad, bool negate, auto&& function) {
    const std::size_t padded = (entries.size() + kLanes - 1) / kLanes * kLanes;
    packed_in.assign(padded, pad);
    packed_out.resize(padded);
    for (std::size_t p = 0; p < entries.size(); ++p)
      packed_in[p] = negate ? -upper_tail[entries[p]] : upper_tail[entries[p]];
    for (std::size_t group = 0; group < padded; group += kLanes)
      function(packed_in.data() + group, packed_out.data() + group);
    for (std::size_t p = 0; p < entries.size(); ++p) log_cdf[entries[p]] = packed_out[p];
  };
  packed(positive, 0.0, true, simd::log1p8);
  packed(other, 1.0, false, simd::log8);
  for (std::size_t e = 0; e < count; ++e) {
    const double cdf = u[e] > 0.0 ? 1.0 - upper_tail[e] : upper_tail[e];
    inverse_mills[e] = kInvSqrt2Pi * density[e] / cdf;
  }
}

// The continued fraction for the tail entries u[index[0..count)], written over their log_cdf and
// inverse_mills. The entries are packed four lane groups at a time, wherever they lie: the 22
// dependent divisions of one group are latency-bound, four independent groups share that latency,
// and a column with one tail entry no longer costs a whole group. Each lane's operations are
// those of an unpacked lane, so are its bits.
void probit_tails(const double* u, const std::vector<std::size_t>& index, double* log_cdf, double* inverse_mills) {
  constexpr int kPacked = 4 * kLanes;
  for (std::size_t first = 0; first < index.size(); first += kPacked) {
    const std::size_t count = std::min<std::size_t>(kPacked, index.size() - first);
    alignas(64) double x[kPacked], t[kPacked], mills[kPacked], log_mills[kPacked];
    for (std::size_t l = 0; l < kPacked; ++l) x[l] = l < count ? -u[index[first + l]] : -kTailThreshold;
    for (int l = 0; l < kPacked; ++l) t[l] = x[l];
    for (int k = kContinuedFractionTerms; k >= 1; --k)
      for (int l = 0; l < kPacked; ++l) t[l] = x[l] + static_cast<double>(k) / t[l];
    for (int l = 0; l < kPacked; ++l) mills[l] = 1.0 / t[l];
    for (int g = 0; g < kPacked; g += kLanes) simd::log8(mills + g, log_mills + g);
    for (std::size_t l = 0; l < count; ++l) {
      log_cdf[index[first + l]] = normal_log_pdf(x[l]) + log_mills[l];
      inverse_mills[index[first + l]] = t[l];
    }
  }
}

// Per-thread scratch for a chunk of columns' probit arguments and terms, each column padded to
// whole lane groups (stride), and the positions of the tail entries.
struct ProbitScratch {
  std::vector<double, Eigen::aligned_allocator<double>> u, log_cdf, inverse_mills;
  std::vector<std::size_t> tails;
  std::size_t stride = 0;
  void reserve(Eigen::Index m, Eigen::Index columns) {
    stride = static_cast<std::size_t>((m + kLanes - 1) / kLanes * kLanes);
    const std::size_t size = stride * static_cast<std::size_t>(columns);
    if (u.size() >= size) return;
    u.assign(size, 0.0);
    log_cdf.assign(size, 0.0);
    inverse_mills.assign(size, 0.0);
  }
  const double* log_cdf_of(Eigen::Index column) const { return log_cdf.data() + stride * static_cast<std::size_t>(column); }
  const double* inverse_mills_of(Eigen::Index column) const {
    return inverse_mills.data() + stride * static_cast<std::size_t>(column);
  }
};

// Columns per chunk: the chunk's scratch (3 x 8 KiB per 8-row column group x 128) stays in L2.
constexpr Eigen::Index kChunkColumns = 128;

// For columns [first, first + count) of x: u_i = y_i (a_i^T x + tau_i) / scale_i (padding: u = 0),
// then the probit terms of every entry, tails packed across the whole chunk. The sums run in a
// fixed order (i, then k) with no contraction: the same bits for every column and chunk.
ProbitScratch& chunk_probit_terms(const Matrix& vectors, const Vector& dithers, const Vector& y, ConstMatrixRef x,
                                  Eigen::Index first, Eigen::Index count, const double* scales, double common_scale) {
  thread_local ProbitScratch scratch;
  const Eigen::Index m = vectors.rows(), d = vectors.cols();
  scratch.reserve(m, count);
  scratch.tails.clear();
  for (Eigen::Index c = 0; c < count; ++c) {
    const double* column = x.col(first + c).data();
    double* u = scratch.u.data() + scratch.stride * static_cast<std::size_t>(c);
    for (Eigen::Index i = 0; i < m; ++i) {
      double latent = 0.0;
      for (Eigen::Index k = 0; k < d; ++k) latent += vectors(i, k) * column[k];
      latent += dithers(i);
      u[i] = y(i) * latent / (scales ? scales[i] : common_scale);
    }
    for (std::size_t i = static_cast<std::size_t>(m); i < scratch.stride; ++i) u[i] = 0.0;
  }
  probit_terms(scratch.u.data(), scratch.stride * static_cast<std::size_t>(count), scratch.log_cdf.data(),
               scratch.inverse_mills.data(), scratch.tails);
  probit_tails(scratch.u.data(), scratch.tails, scratch.log_cdf.data(), scratch.inverse_mills.data());
  return scratch;
}

// Calls each_chunk(first, count, scratch) for the columns [first, first + count) of x, chunk by chunk.
template <class EachChunk>
void for_each_chunk(const Matrix& vectors, const Vector& dithers, const Vector& y, ConstMatrixRef x,
                    const double* scales, double common_scale, const EachChunk& each_chunk) {
  for (Eigen::Index first = 0; first < x.cols(); first += kChunkColumns) {
    const Eigen::Index count = std::min(kChunkColumns, x.cols() - first);
    const ProbitScratch& scratch = chunk_probit_terms(vectors, dithers, y, x, first, count, scales, common_scale);
    each_chunk(first, count, scratch);
  }
}

// The reductions below run over the columns of a chunk kLanes at a time, one column per
// accumulator: each column's sum keeps its own order (i = 0, 1, ..., m - 1, from 0.0), so its bits
// are those of a column-by-column loop, while the kLanes independent chains hide the latency of
// the additions that a single column's chain would expose.

// out[first + c] = sign * sum_i log Phi(u_i) of column c, over i in order.
void chunk_log_likelihoods(const ProbitScratch& scratch, Eigen::Index m, Eigen::Index first, Eigen::Index count,
                           double sign, VectorRef out) {
  for (Eigen::Index group = 0; group < count; group += kLanes) {
    const Eigen::Index lanes = std::min<Eigen::Index>(kLanes, count - group);
    double sum[kLanes] = {};
    for (Eigen::Index i = 0; i < m; ++i)
      for (Eigen::Index l = 0; l < lanes; ++l) sum[l] += scratch.log_cdf_of(group + l)[i];
    for (Eigen::Index l = 0; l < lanes; ++l) out(first + group + l) = sign * sum[l];
  }
}

// Column first + c of out: grad_k L = sum_i w_i a_ik, w_i = -y_i lambda_i / sigma, summed over i in order.
void chunk_gradients(const ProbitScratch& scratch, const Matrix& vectors, const Vector& y, double sigma,
                     Eigen::Index first, Eigen::Index count, MatrixRef out) {
  const Eigen::Index m = vectors.rows(), d = vectors.cols();
  thread_local std::vector<double> weights;  // w_i of kLanes columns, column after column
  weights.resize(static_cast<std::size_t>(kLanes * m));
  for (Eigen::Index group = 0; group < count; group += kLanes) {
    const Eigen::Index lanes = std::min<Eigen::Index>(kLanes, count - group);
    for (Eigen::Index l = 0; l < lanes; ++l) {
      const double* inverse_mills = scratch.inverse_mills_of(group + l);
      double* w = weights.data() + l * m;
      for (Eigen::Index i = 0; i < m; ++i) w[i] = -y(i) * inverse_mills[i] / sigma;
    }
    for (Eigen::Index k = 0; k < d; ++k) {
      double sum[kLanes] = {};
      for (Eigen::Index i = 0; i < m; ++i) {
        const double a = vectors(i, k);
        for (Eigen::Index l = 0; l < lanes; ++l) sum[l] += weights[static_cast<std::size_t>(l * m + i)] * a;
      }
      for (Eigen::Index l = 0; l < lanes; ++l) out(k, first + group + l) = sum[l];
    }
  }
}

// log Phi(u) and lambda(u) for one u: lane 0 of the eight-lane computation.
std::pair<double, double> probit_terms(double u) {
  alignas(64) double lanes[kLanes] = {u}, log_cdf[kLanes], inverse_mills[kLanes];
  std::vector<std::size_t> tails;
  probit_terms(lanes, kLanes, log_cdf, inverse_mills, tails);
  probit_tails(lanes, tails, log_cdf, inverse_mills);
  return {log_cdf[0], inverse_mills[0]};
}

}  // namespace

double log_normal_cdf(double u) { return probit_terms(u).first; }

double inverse_mills_ratio(double u) { return probit_terms(u).second; }

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
  for_each_chunk(vectors_, dithers_, y, x, nullptr, sigma_,
                 [&](Eigen::Index first, Eigen::Index count, const ProbitScratch& scratch) {
                   chunk_log_likelihoods(scratch, vectors_.rows(), first, count, -1.0, out);
                 });
}

void OneBitLikelihood::gradient(const Vector& y, ConstMatrixRef x, MatrixRef out) const {
  for_each_chunk(vectors_, dithers_, y, x, nullptr, sigma_,
                 [&](Eigen::Index first, Eigen::Index count, const ProbitScratch& scratch) {
                   chunk_gradients(scratch, vectors_, y, sigma_, first, count, out);
                 });
}

void OneBitLikelihood::negative_log_likelihood_and_gradient(const Vector& y, ConstMatrixRef x, VectorRef nll,
                                                            MatrixRef gradient) const {
  for_each_chunk(vectors_, dithers_, y, x, nullptr, sigma_,
                 [&](Eigen::Index first, Eigen::Index count, const ProbitScratch& scratch) {
                   chunk_log_likelihoods(scratch, vectors_.rows(), first, count, -1.0, nll);
                   chunk_gradients(scratch, vectors_, y, sigma_, first, count, gradient);
                 });
}

bool OneBitLikelihood::smoothed_log_likelihood(const Vector& y, double eta, ConstMatrixRef x, VectorRef out) const {
  require(std::isfinite(eta) && eta >= 0.0,
          "one_bit: smoothing level eta = " + shortest(eta) + " must be finite and >= 0");
  if (eta > 0.0 && !orthogonal_vectors_) return false;
  // Per observation, the probit scale widened by the smoothing: sqrt(sigma^2 + eta^2 |a_i|^2).
  const Vector scales =
      (sigma_ * sigma_ + (eta * eta) * vectors_.rowwise().squaredNorm().array()).sqrt().matrix();
  for_each_chunk(vectors_, dithers_, y, x, scales.data(), 0.0,
                 [&](Eigen::Index first, Eigen::Index count, const ProbitScratch& scratch) {
                   chunk_log_likelihoods(scratch, vectors_.rows(), first, count, 1.0, out);
                 });
  return true;
}

}  // namespace dmconv::posterior
