// A Gaussian mixture law sum_k w_k N(mu_k, Sigma_k) held by value: the closed-form posteriors
// and stationary laws of docs/theory.md §4.7 / §5.7 for Gaussian-mixture priors and
// linear-Gaussian likelihoods are of this form (posterior/exact_laws.hpp builds them).
//
//   log p(x) = logsumexp_k [ log w_k - (1/2)(d log 2pi + log det Sigma_k + (x - mu_k)^T Sigma_k^{-1} (x - mu_k)) ]
//   theta^T X ~ sum_k w_k N(theta^T mu_k, theta^T Sigma_k theta)
//
// Exact sampling: component k by inverse CDF of the weights from one uniform, then
// mu_k + L_k W with Sigma_k = L_k L_k^T (Cholesky) and W the particle's normals.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/types.hpp"
#include "estimators/gaussian_distances.hpp"
#include "estimators/sample_based.hpp"

namespace dmconv::posterior {

struct GaussianMixtureLaw {
  std::vector<double> weights;     // > 0, summing to 1
  std::vector<Vector> means;       // d each
  std::vector<Matrix> covariances;  // d x d, symmetric positive definite

  int dim() const { return means.empty() ? 0 : static_cast<int>(means.front().size()); }
  int size() const { return static_cast<int>(weights.size()); }
  // Throws InvalidArgument (prefixed by `context`) unless sizes agree, weights are positive and sum
  // to 1 within 1e-12, and every covariance is symmetric positive definite.
  void validate(const std::string& context) const;

  // out(j) = log p(x.col(j)).
  void log_density(ConstMatrixRef x, VectorRef out) const;
  // out.col(j): exact draw for particle first_particle + j from the streams of (particle, tag):
  // uniform index 0 of tag.sub(0) picks the component, normals of tag.sub(1) the Gaussian.
  void sample(const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag, MatrixRef out) const;
  // The exact law of theta^T X.
  estimators::Mixture1d project(const Vector& theta) const;
  // Mean and covariance of the mixture.
  GaussianLaw moments() const;
  // The single component as a GaussianLaw. Precondition: size() == 1.
  GaussianLaw as_gaussian() const;
};

// Helpers shared with exact_laws.cpp.
// R with R R^T = covariance: the Cholesky factor when `covariance` is positive definite to double
// precision, else the LDLT root P^T L D_+^{1/2} (pivots below 0 by rounding set to 0), so that a
// rank-deficient posterior covariance can still be sampled. Throws InvalidArgument (prefixed by
// `context`) when a pivot is negative beyond rounding.
Matrix covariance_root(const Matrix& covariance, const std::string& context);
// Inverse CDF of a discrete law: the smallest k with u < cumulative_weights[k], or the last index
// when rounding leaves u >= cumulative_weights.back().
int component_of(const std::vector<double>& cumulative_weights, double u);

}  // namespace dmconv::posterior
