// The proximal consistency sampler (PCS) of DPnP (docs/theory.md §4.7; Xu & Chi, arXiv 2403.17042):
// draws z from pi_PCS(z | x) ∝ exp(-L(z; y) - ||z - x||^2 / (2 eta^2)) using the likelihood only.
//
// Langevin with the quadratic part integrated exactly (the reference code's MALASampling):
//   r = 1 - e^{-gamma/eta^2}
//   z <- z + r (x - z) - eta^2 r grad L(z) + eta sqrt(1 - e^{-2 gamma/eta^2}) W
// for `iterations` steps from z = x, with the step rule
//   constant:  gamma = step_scale * min(sigma^2, eta^2)
//   residual:  gamma = step_scale * min(sigma^2, eta^2) / (regulariser + ||grad L(z)|| sigma^2)   (per particle,
//              recomputed every iteration; the code's rule 1/(reg + ||y - A(z)||) in likelihood-free form)
// where sigma is the likelihood's noise scale (`noise_scale`). With `metropolis`, each proposal is
// accepted with the MALA probability min(1, pi(z') q(z | z') / (pi(z) q(z' | z))) of the exact
// proposal kernel q above (then the chain leaves pi_PCS exactly invariant).
#pragma once
#include <cstdint>
#include <optional>

#include "core/rng.hpp"
#include "core/types.hpp"
#include "posterior/exact_laws.hpp"
#include "posterior/likelihood.hpp"

namespace dmconv::posterior {

struct PcsOptions {
  int iterations = 200;         // Langevin steps per call, in [1, 32767]
  double step_scale = 0.1;      // gamma / min(sigma^2, eta^2), > 0
  enum class StepRule { kConstant, kResidual } step_rule = StepRule::kConstant;
  double regulariser = 1.0;     // residual rule only, > 0
  double noise_scale = 1.0;     // sigma in the step rule (the likelihood's sigma_y or probit sigma), > 0
  bool metropolis = false;      // MALA accept/reject
  // Throws InvalidArgument naming the option, its value and the rule.
  void validate() const;
};

// out.col(j) = PCS draw for x.col(j) (particle first_particle + j); iteration i uses the normals of
// tag.sub(2 i) and, for the accept/reject, uniform index 0 of tag.sub(2 i + 1) (disjoint streams,
// hence iterations <= 32767). `out` may alias `x`.
// acceptance (if non-null) receives the mean acceptance rate over all particles and iterations
// (1 without metropolis).
void pcs_sample(const Likelihood& likelihood, const Vector& y, double eta, const PcsOptions& options,
                ConstMatrixRef x, const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag,
                MatrixRef out, double* acceptance = nullptr);

// The exact law of a PCS call for a linear-Gaussian likelihood (grad L(z) = H z - g with
// H = A^T A / sigma_y^2, g = A^T y / sigma_y^2) under the constant step rule without Metropolis:
// each iteration z <- B z + r x + eta^2 r g + s W with B = (1 - r) I - eta^2 r H is affine, so from
// z = x the output is  z_out = M x + b + N(0, Q)  with, over the iterations,
//   M <- B M + r I,   b <- B b + eta^2 r g,   Q <- B Q B^T + s^2 I   (M = I, b = 0, Q = 0 at the start),
// the sampler's own coefficients r and s. nullopt for the residual rule or with Metropolis (the
// output is then not Gaussian). The unadjusted chain's stationary bias is visible in it (order gamma).
std::optional<GaussianChain> pcs_affine_kernel(const LinearGaussianView& likelihood, const Vector& y, double eta,
                                               const PcsOptions& options);

}  // namespace dmconv::posterior
