// Denoising diffusion samplers (DDS) of DPnP (docs/theory.md §4.7; Xu & Chi, arXiv 2403.17042):
// draw X_0 given X_0 + eta W = z with only the unconditional prior score s*_u (a ScoreModel on the
// VP levels abar_u), i.e. sample pi_DDS(x | z) ∝ p_data(x) exp(-||x - z||^2 / (2 eta^2)).
//
// The levels are VE noise levels 0 = sigma_(0) < sigma_(1) < ... < sigma_(J) = eta, each seen by the
// score at the VP level abar = 1/(1 + sigma^2), 1 - abar = sigma^2/(1 + sigma^2) (both formed
// without cancellation), where eps_u(x) = -sqrt(1 - abar) s_u(x) and
// grad log p^VE_sigma(v) = sqrt(abar) s_u(sqrt(abar) v).
//
// DDS-DDPM (reverse VE SDE started at V = z, sigma_(J) = eta):
//   for j = J..1:  eps_hat = eps_{u_j}(sqrt(abar_j) V)
//                  V <- V - 2 (sigma_(j) - sigma_(j-1)) eps_hat + sqrt(sigma_(j)^2 - sigma_(j-1)^2) W   (no W at j = 1)
//
// DDS-DDIM (probability-flow ODE of the conditional VP process V_a = sqrt(a)(X_0 - z) + sqrt(1 - a) W,
// a from 0 to 1; V_0 ~ N(0, I) exactly):
//   c(a) = 1 + (eta^2 - 1) a,   abar_u(a) = c(a) / (c(a) + eta^2 (1 - a))
//   (inverse a = ((1 + eta^2) abar_u - 1) / (eta^2 - 1 + abar_u); sigma_(J) = eta <-> a = 0, sigma_(0) = 0 <-> a = 1)
//   w(a) = -arctan(eta sqrt(a / (1 - a)))   (near a = 1: -pi/2 + arctan(sqrt(1/a - 1) / eta))
//   eps_hat = eps_u(sqrt(abar_u) (z + eta^2 sqrt(a) V / c(a)))
//   V_{a'} = sqrt(c(a')/c(a)) V_a - sqrt(c(a')) (w(a) - w(a')) eps_hat
//   output X_0 = z + V_{a=1}  (c(1) = eta^2)
//
// Both are first order in the level spacing (claim 18: error -> 0 at slope 1 in J); with the
// exact score of a Gaussian prior DDS-DDIM is affine in (z, V_0).
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.hpp"
#include "core/score_model.hpp"
#include "core/types.hpp"
#include "estimators/gaussian_distances.hpp"
#include "posterior/exact_laws.hpp"

namespace dmconv::posterior {

// The J VE levels sigma_(1) < ... < sigma_(J) = eta, uniform in sigma: sigma_(j) = eta j / J.
// Throws InvalidArgument unless eta > 0 and J >= 1.
std::vector<double> dds_levels(double eta, int levels);

// out.col(j) = DDS-DDPM draw for z.col(j) (particle first_particle + j). Normals of level j come
// from tag.sub(j). `out` may alias `z`. Precondition: sigmas from dds_levels (ascending, last = eta).
void dds_ddpm(const ScoreModel& prior_score, const std::vector<double>& sigmas, ConstMatrixRef z,
              const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag, MatrixRef out);

// out.col(j) = DDS-DDIM draw for z.col(j); V_0 from the normals of tag.sub(0). `out` may alias `z`.
void dds_ddim(const ScoreModel& prior_score, const std::vector<double>& sigmas, ConstMatrixRef z,
              const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag, MatrixRef out);

// The exact law of the DDS output for a fixed z when the score is affine (a Gaussian prior's exact
// score): every level is an affine map of V, so N(mean, covariance) is propagated level by level
// with the samplers' own coefficients. Throws InvalidArgument unless affine_score.is_affine().
enum class DdsVariant { kDdpm, kDdim };
GaussianLaw dds_output_law(const ScoreModel& affine_score, const std::vector<double>& sigmas, const Vector& z,
                           DdsVariant variant);

// The same law as a kernel in z: X_0 = M z + b + N(0, Q), read off dds_output_law at z = 0 (b, Q)
// and z = e_i (column i of M is the mean's increment). Throws InvalidArgument unless the score is affine.
GaussianChain dds_affine_kernel(const ScoreModel& affine_score, const std::vector<double>& sigmas, int dim,
                                DdsVariant variant);

}  // namespace dmconv::posterior
