// Diffusion posterior sampling (DPS; Chung, Kim, McCann, Klasky, Ye, ICLR 2023, Algorithm 1), the
// heuristic baseline of issue 15: ancestral DDPM on the prior's score plus a likelihood gradient
// through the posterior-mean estimate x0hat (Tweedie):
//
//   s = s_t(x_t),   x0hat(x_t) = (x_t + (1 - abar_t) s) / sqrt(abar_t)
//   x'_{t-1} = (x_t + beta_t s) / sqrt(alpha_t) + sqrt(beta_t) W_t   (the noise-outside DDPM step of
//             docs/theory.md §4.1, samplers' `ddpm_noise_outside`: Algorithm 1's mean and sigma_t^2 = beta_t)
//   g = grad_{x_t} L(x0hat(x_t); y) = (I + (1 - abar_t) J_t(x_t)) grad L(x0hat) / sqrt(abar_t)   (J_t symmetric)
//   x_{t-1} = x'_{t-1} - zeta * c_t * g,   c_t = (1 - alpha_t) / sqrt(alpha_t)  (DDPM's score coefficient:
//             zeta = 1 plugs DPS's approximation -g of grad log p(y | x_t) into the score)
//
// from x_T ~ N(0, I) down to x_0 (the final step adds no noise). It has no guarantee: its output
// need not approach pi as T grows (issue 15, item 6).
#pragma once
#include <cstdint>

#include "core/noise_level.hpp"
#include "core/rng.hpp"
#include "core/score_model.hpp"
#include "core/time_grid.hpp"
#include "core/types.hpp"
#include "posterior/likelihood.hpp"

namespace dmconv::posterior {

struct DpsOptions {
  double zeta = 1.0;  // guidance scale, >= 0 (0: plain DDPM from the prior)
  void validate() const;
};

// out.col(j) = g = grad_{x_t} L(x0hat(x_t); y) at x_t = x.col(j) and noise level `level` (one
// counted score evaluation and one Jacobian-vector product per column): DPS's guidance direction,
// exposed so that tests can compare it with finite differences of x_t -> L(x0hat(x_t)).
void dps_guidance_gradient(const ScoreModel& prior_score, const NoiseLevel& level, const Likelihood& likelihood,
                           const Vector& y, ConstMatrixRef x, MatrixRef out);

// out.col(j): DPS output of particle first_particle + j: x_T from the normals of tag.sub(0), the
// noise of step t from tag.sub(t) (t <= grid.steps() <= 65535). Needs prior_score.has_jacobian().
void dps_sample(const ScoreModel& prior_score, const TimeGrid& grid, const Likelihood& likelihood, const Vector& y,
                const DpsOptions& options, const RandomStreams& streams, std::uint64_t first_particle, StreamTag tag,
                MatrixRef out);

}  // namespace dmconv::posterior
