// DDIM, exact exponential-integrator form (docs/theory.md §4.2b); Song et al. 2021, the
// `generalized_steps` of the 2403.03852 repository; DPM-Solver-1 of Lu et al. 2022.
//
//   Y_{t-1} = sqrt(abar_{t-1}/abar_t) Y_t - sigma_{t-1} (e^{h_t} - 1) eps_t(Y_t),
//   eps_t = -sigma_t s_t,   h_t = lambda_{t-1} - lambda_t,
//
// which equals Y_t/sqrt(alpha_t) + sigma_t (sigma_t/sqrt(alpha_t) - sigma_{t-1}) s_t(Y_t).
// The (e^h - 1) form avoids the cancellation of the second form when h is small.
// Deterministic; NFE = 1 per step. Exact when eps is constant along trajectories.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class Ddim final : public Sampler {
 public:
  std::string name() const override { return "ddim"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 1; }
  std::optional<LinearScoreStep> linear_score_step(const StepContext& context) const override;
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;
};

}  // namespace dmconv::samplers
