// DDPM / SDE-based sampler, two variants (docs/theory.md §4.1).
//
// kNoiseInside — the analysed rule, Li & Yan arXiv 2409.18959 eq. (2.4):
//   Y_{t-1} = ( Y_t + (1-alpha_t) s_t(Y_t) + sqrt(1-alpha_t) Z_t ) / sqrt(alpha_t)
//
// kNoiseOutside — ITW 2024 slides and `ddpm_steps` of the
// 2403.03852 repository:
//   Y_{t-1} = ( Y_t + (1-alpha_t) s_t(Y_t) ) / sqrt(alpha_t) + sqrt(1-alpha_t) Z_t,
//   with no noise on the step to the data level (t = 1), as the repository does.
//
// The variants differ by O(beta^2) in variance per step, the order of the error measured,
// so they are registered under distinct names. NFE = 1 per step; one noise injection.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class Ddpm final : public Sampler {
 public:
  enum class Variant { kNoiseInside, kNoiseOutside };
  explicit Ddpm(Variant variant) : variant_(variant) {}
  std::string name() const override { return variant_ == Variant::kNoiseInside ? "ddpm" : "ddpm_noise_outside"; }
  int noise_injections() const override { return 1; }
  int score_evaluations_per_step() const override { return 1; }
  std::optional<StochasticScoreStep> stochastic_score_step(const StepContext& context) const override;
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

 private:
  Variant variant_;
};

}  // namespace dmconv::samplers
