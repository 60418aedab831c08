// Posterior samplers (docs/theory.md §4.7): draw from pi(x) ∝ p_data(x) e^{-L(x; y)} (or DPnP's
// stationary law pi_eta) using the prior's unconditional score and the likelihood.
//
//   dpnp_ddim    x_{k+1} = DDS-DDIM(PCS(x_k; eta_k); eta_k)              (PCS then DDS)
//   dpnp_ddpm    x_{k+1} = PCS(DDS-DDPM(x_k; eta_k); eta_k), output after the last DDS
//   dpnp_gibbs   PCS and DDS replaced by exact conditional draws (linear-Gaussian, mixture prior)
//   dds_ddpm / dds_ddim   one DDS call on a denoising problem (claim 18)
//   exact_stationary      exact draws from pi_eta (claim 17)
//   dps          Chung et al. 2023 (posterior/dps.hpp), the heuristic baseline
//
// `steps` is the sampler's own count (steps_meaning(): outer iterations k for DPnP, DDS levels,
// diffusion steps for DPS); it is the T axis of a posterior experiment's /runs rows.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "core/registry.hpp"
#include "core/rng.hpp"
#include "core/score_model.hpp"
#include "core/target.hpp"
#include "core/time_grid.hpp"
#include "core/types.hpp"
#include "estimators/gaussian_distances.hpp"
#include "posterior/likelihood.hpp"

namespace dmconv::posterior {

// Everything a posterior sampler sees: the prior (with its exact structure, for exact variants), the
// prior score it may call (exact or perturbed), the likelihood and the observation, and the
// diffusion grid of T steps (DPS only).
struct PosteriorProblem {
  const Target& prior;
  const ScoreModel& prior_score;
  const Likelihood& likelihood;
  const Vector& y;
};

class PosteriorSampler {
 public:
  virtual ~PosteriorSampler() = default;
  virtual std::string name() const = 0;
  // What `steps` counts, for tables and plots ("outer iterations k", "DDS levels", "diffusion steps").
  virtual std::string steps_meaning() const = 0;
  // The eta of the law pi_eta the output approaches as steps grow with exact inner samplers
  // (0: the posterior pi itself); nullopt when there is no such law (DPS, annealed DPnP).
  virtual std::optional<double> stationary_eta() const = 0;
  // Empty when the sampler applies to the problem; otherwise why not.
  virtual std::optional<std::string> unsupported_reason(const PosteriorProblem& problem) const = 0;
  // out.col(j): the output of particle first_particle + j after `steps` steps, from that
  // particle's streams only (bitwise independent of the other columns and of the block size).
  // grid: the diffusion grid of `steps` steps (read by DPS only; may be null for the others).
  virtual void sample(const PosteriorProblem& problem, int steps, const TimeGrid* grid, const RandomStreams& streams,
                      std::uint64_t first_particle, MatrixRef out) const = 0;
  // Whether sample() walks the experiment's diffusion grid of `steps` steps (DPS); the others get
  // no grid, and their configs need no schedule that can make one of `steps` steps.
  virtual bool uses_diffusion_grid() const { return false; }
  // Prior-score evaluations per particle for `steps` steps.
  virtual double score_evaluations(int steps) const = 0;
  // The exact law of the output when it is Gaussian and known in closed form (Gaussian prior,
  // linear-Gaussian likelihood: exact Gibbs, exact_stationary, DDS with an affine score, DPnP with
  // an affine score and unadjusted constant-step PCS); nullopt otherwise.
  virtual std::optional<GaussianLaw> output_law(const PosteriorProblem& /*problem*/, int /*steps*/) const {
    return std::nullopt;
  }
};

const Registry<PosteriorSampler>& posterior_sampler_registry();

}  // namespace dmconv::posterior
