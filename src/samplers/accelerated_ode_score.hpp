// Accelerated deterministic ("momentum") sampler, score form, as presented by the authors of
// arXiv 2403.03852: ITW 2024 slides ("Scheme 2 (Ours)"), Chi, ITW 2024;
// docs/theory.md §4.4a.
//
//   Y_{t-1} = ( Y_t + ((1-alpha_t)/2) s_t(Y_t) ) / sqrt(alpha_t)
//           + ( (1-alpha_t)^2 / (4 (1-alpha_{t+1})) ) ( s_t(Y_t) - sqrt(alpha_{t+1}) s_{t+1}(Y_{t+1}) ) / sqrt(alpha_t)
//
// It replaces the score along the ODE path by a linear extrapolation in abar through the
// current and the previous step's score (cached: NFE = 1 per step). At the first step
// (no s_{T+1}) it takes the plain Euler step (2.5). Deterministic.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class AcceleratedOdeScore final : public Sampler {
 public:
  std::string name() const override { return "acc_ode_score"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 1; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;
};

}  // namespace dmconv::samplers
