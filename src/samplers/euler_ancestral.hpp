// Euler ancestral sampler: k-diffusion's `sample_euler_ancestral` with `get_ancestral_step`
// (Crowson, k-diffusion, k_diffusion/sampling.py), in the VE coordinates of Karras et al. 2022
// (x = Y/sqrt(abar), sigma = sqrt((1 - abar)/abar), d = (x - D(x; sigma))/sigma; see edm_heun.hpp).
// One step from sigma = sigma_t to sigma' = sigma_{t-1}:
//
//   sigma_up   = min(sigma', eta sqrt(sigma'^2 (sigma^2 - sigma'^2)/sigma^2))
//   sigma_down = sqrt(sigma'^2 - sigma_up^2)
//   x'         = x + (sigma_down - sigma) d + s_noise sigma_up Z    (no noise when sigma' = 0)
//
// and Y_{t-1} = sqrt(abar_{t-1}) x'. In VP terms, with h = lambda_{t-1} - lambda_t
// (sigma'/sigma = e^{-h}):
//
//   Y_{t-1} = sqrt(abar_{t-1}/abar_t) [ Y + (1 - abar_t)(1 - sigma_down/sigma) s_t(Y) ]
//             + s_noise sqrt(1 - abar_{t-1}) (sigma_up/sigma') Z,
//   (sigma_up/sigma')^2   = min(1, eta^2 (1 - e^{-2h})),
//   sigma_down/sigma      = e^{-h} sqrt(1 - (sigma_up/sigma')^2),
//
// which the code evaluates with expm1/log1p, so that small steps lose no precision.
// eta = 0 is deterministic and equals DDIM (Euler in sigma); eta = 1 with s_noise = 1 is the
// ancestral (DDPM posterior) step. NFE = 1 per step; one noise injection when eta > 0.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class EulerAncestral final : public Sampler {
 public:
  struct Options {
    double eta = 1.0;      // fraction of the step's variance re-injected as fresh noise
    double s_noise = 1.0;  // scale of the injected noise
  };
  explicit EulerAncestral(const Options& options);

  std::string name() const override { return "euler_ancestral"; }
  int noise_injections() const override { return options_.eta > 0.0 ? 1 : 0; }
  int noise_injections_at(const StepContext& context) const override;
  int score_evaluations_per_step() const override { return 1; }
  std::optional<LinearScoreStep> linear_score_step(const StepContext& context) const override;
  std::optional<StochasticScoreStep> stochastic_score_step(const StepContext& context) const override;
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

 private:
  // The step as Y_{t-1} = a Y + c s_t(Y) + sqrt(v) Z (v = 0: no noise).
  StochasticScoreStep coefficients(const StepContext& context) const;
  Options options_;
};

}  // namespace dmconv::samplers
