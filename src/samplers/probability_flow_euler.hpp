// Probability-flow ODE sampler in the form analysed by Li et al. (docs/theory.md §4.2a):
// Li & Yan arXiv 2409.18959 eq. (2.5); arXiv 2306.09251 and 2408.02320.
//
//   Y_{t-1} = ( Y_t + ((1-alpha_t)/2) s_t(Y_t) ) / sqrt(alpha_t)
//
// Deterministic (reads no noise). NFE = 1 per step. On N(0,1) data it inflates the sample
// by about 1 + beta_t^2/8 per step, a much larger error constant than DDIM (docs/theory.md §4.2).
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class ProbabilityFlowEuler final : public Sampler {
 public:
  std::string name() const override { return "ode_euler"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 1; }
  std::optional<LinearScoreStep> linear_score_step(const StepContext& context) const override;
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;
};

}  // namespace dmconv::samplers
