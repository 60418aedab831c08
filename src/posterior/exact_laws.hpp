// Closed-form laws of posterior sampling with a Gaussian-mixture prior (docs/theory.md §4.7, §5.7,
// §8.1). For p_data = sum_k w_k N(mu_k, Sigma_k) and y = A x + N(0, Gamma):
//
//   S_k = A Sigma_k A^T + Gamma,   K_k = Sigma_k A^T S_k^{-1}
//   posterior: sum_k w'_k N(mu_k + K_k (y - A mu_k), Sigma_k - K_k A Sigma_k),
//              w'_k ∝ w_k N(y; A mu_k, S_k)   (normalised in log space)
//
//   pi       : Gamma = sigma_y^2 I
//   pi_eta   : Gamma = sigma_y^2 I + eta^2 A A^T   (DPnP's stationary law, §5.7)
//   DDS law  : the posterior of X_0 given X_0 + eta W = z, i.e. A = I, Gamma = eta^2 I, y = z
//   PCS law  : z ∝ exp(-||y - A z||^2 / (2 sigma_y^2) - ||z - x||^2 / (2 eta^2)), Gaussian with
//              precision P = A^T A / sigma_y^2 + I / eta^2 and mean P^{-1} (A^T y / sigma_y^2 + x / eta^2)
//
// The forms with S_k (never Sigma_k^{-1}) stay accurate when Sigma_k is near singular; S_k is
// factored by Cholesky (LLT), covariances are symmetrised after the update.
#pragma once
#include <cstdint>

#include "core/rng.hpp"
#include "core/target.hpp"
#include "core/types.hpp"
#include "posterior/likelihood.hpp"
#include "posterior/mixture_law.hpp"

namespace dmconv::posterior {

// p_data as a GaussianMixtureLaw (copies the view's weights, means and covariances).
GaussianMixtureLaw mixture_of(const GaussianMixtureView& prior);

// The posterior of x under y = A x + N(0, noise_covariance) with prior `prior`.
GaussianMixtureLaw linear_gaussian_posterior(const GaussianMixtureLaw& prior, const Matrix& A, const Vector& y,
                                             const Matrix& noise_covariance);

// pi_eta of a linear-Gaussian likelihood (eta = 0: the posterior pi).
GaussianMixtureLaw stationary_law(const GaussianMixtureLaw& prior, const LinearGaussianView& likelihood,
                                  const Vector& y, double eta);

// The law of X_0 given X_0 + eta W = z (W ~ N(0, I)): the target of DDS (claim 18).
GaussianMixtureLaw denoising_posterior(const GaussianMixtureLaw& prior, const Vector& z, double eta);

// Exact Gibbs conditionals, one draw per column, each column from the streams of particle
// first_particle + j under `tag` (uniform index 0 of tag.sub(0) for a component, normals of
// tag.sub(1)); the columns of `out` may alias those of the input.
//   DDS: out.col(j) ~ law of X_0 given X_0 + eta W = z.col(j)
void sample_denoising_posterior(const GaussianMixtureLaw& prior, double eta, ConstMatrixRef z,
                                const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag,
                                MatrixRef out);
//   PCS: out.col(j) ~ exp(-||y - A z||^2 / (2 sigma_y^2) - ||z - x.col(j)||^2 / (2 eta^2))
void sample_proximal_linear_gaussian(const LinearGaussianView& likelihood, const Vector& y, double eta,
                                     ConstMatrixRef x, const RandomStreams& streams, std::uint64_t first_particle,
                                     StreamTag tag, MatrixRef out);

// The exact-Gibbs x-chain of a Gaussian prior N(mu_0, Sigma_0) with a linear-Gaussian likelihood at
// fixed eta is the Gaussian AR(1)  x_{k+1} = M x_k + b + N(0, Q)  (docs/theory.md §5.7):
//   M = (Sigma_0^{-1} + I/eta^2)^{-1} (1/eta^2) (A^T A/sigma_y^2 + I/eta^2)^{-1} (1/eta^2)
struct GaussianChain {
  Matrix M;
  Vector b;
  Matrix Q;
  // The law of x_{k+1} given x_k ~ law.
  GaussianLaw step(const GaussianLaw& law) const;
};
GaussianChain exact_gibbs_chain(const GaussianLaw& prior, const LinearGaussianView& likelihood, const Vector& y,
                                double eta);

}  // namespace dmconv::posterior
