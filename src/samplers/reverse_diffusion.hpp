// Reverse-diffusion predictor of Song, Sohl-Dickstein, Kingma, Kumar, Ermon, Poole, "Score-based
// generative modeling through stochastic differential equations" (ICLR 2021), for the VP SDE:
// the reverse SDE discretised with the forward SDE's own discretisation (the paper's reverse
// diffusion sampler; score_sde code `ReverseDiffusionPredictor` with `VPSDE.discretize`:
// f(x) = sqrt(alpha) x - x, G = sqrt(beta)):
//
//   Y_{t-1} = Y_t - f(Y_t) + G^2 s_t(Y_t) + G Z_t
//           = (2 - sqrt(alpha_t)) Y_t + beta_t s_t(Y_t) + sqrt(beta_t) Z_t,
//
// with no noise on the step to the data level (t = 1: the code's final `x_mean`, denoise =
// True). It agrees with both DDPM forms of docs/theory.md §4.1 to O(beta^2) per step (1/sqrt(alpha)
// = 1 + beta/2 + O(beta^2) = 2 - sqrt(alpha) + O(beta^2)); the paper's equation numbers are not
// re-checked here [UNVERIFIED]. NFE = 1 per step; one noise injection. Also song_pc's
// predictor "reverse_diffusion".
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class ReverseDiffusion final : public Sampler {
 public:
  std::string name() const override { return "reverse_diffusion"; }
  int noise_injections() const override { return 1; }
  int score_evaluations_per_step() const override { return 1; }
  std::optional<StochasticScoreStep> stochastic_score_step(const StepContext& context) const override;
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;
};

}  // namespace dmconv::samplers
