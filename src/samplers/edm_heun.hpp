// EDM stochastic Heun sampler: Karras, Aittala, Aila & Laine, "Elucidating the Design Space of
// Diffusion-Based Generative Models", NeurIPS 2022, arXiv 2206.00364, Algorithm 2 (with
// s_churn = 0 it is the deterministic Heun sampler of Algorithm 1).
//
// EDM integrates the variance-exploding probability-flow ODE dx/dsigma = (x - D(x; sigma))/sigma.
// The VP level t maps to it by (docs/theory.md §1)
//
//   x = Y / sqrt(abar_t),   sigma_t = sqrt((1 - abar_t)/abar_t),   D(x; sigma) = x0hat,
//
// so (x - D)/sigma = eps_hat(sqrt(abar) x), the noise prediction -sqrt(1 - abar) s(sqrt(abar) x)
// at the level whose VE scale is sigma. One step from grid level t to t - 1
// (sigma = sigma_t, sigma' = sigma_{t-1}, N = context.total_steps):
//
//   gamma     = min(s_churn/N, sqrt(2) - 1) if s_tmin <= sigma <= s_tmax, else 0
//   sigma^    = (1 + gamma) sigma
//   x^        = x + sqrt(sigma^2 - sigma^2) s_noise Z        (= x when gamma = 0: no noise read)
//   d         = (x^ - D(x^; sigma^))/sigma^
//   x'        = x^ + (sigma' - sigma^) d                     (Euler)
//   x'        = x^ + (sigma' - sigma^) (d + d')/2,  d' = (x' - D(x'; sigma'))/sigma'   (Heun, sigma' > 0)
//
// and Y_{t-1} = sqrt(abar_{t-1}) x'. The step to the data level (sigma' = 0) is Euler, as in the
// paper (no evaluation at sigma = 0): Y_0 = x0hat at sigma^.
// NFE = 2 per step, 1 on the step to the data level. One noise injection when gamma > 0.
// With gamma > 0 the score is evaluated at the off-grid level abar^ = 1/(1 + sigma^^2).
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class EdmHeun final : public Sampler {
 public:
  struct Options {
    double s_churn = 0.0;   // total churn; 0 = deterministic (Algorithm 1)
    double s_tmin = 0.0;    // churn only at VE scales sigma in [s_tmin, s_tmax]
    double s_tmax = 1e300;  // (finite stand-in for "no upper limit")
    double s_noise = 1.0;   // scale of the churn noise (EDM's slight inflation, e.g. 1.003)
  };
  explicit EdmHeun(const Options& options);

  std::string name() const override { return "edm_heun"; }
  int noise_injections() const override { return options_.s_churn > 0.0 ? 1 : 0; }
  int noise_injections_at(const StepContext& context) const override { return churn(context) > 0.0 ? 1 : 0; }
  int score_evaluations_per_step() const override { return 2; }
  int score_evaluations_at(const StepContext& context) const override;
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

  // gamma of the step `context` (0 outside [s_tmin, s_tmax] or without churn).
  double churn(const StepContext& context) const;

 private:
  Options options_;
};

}  // namespace dmconv::samplers
