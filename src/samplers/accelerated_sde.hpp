// Accelerated stochastic sampler ("accelerated DDPM") of Li, Huang, Efimov, Wei, Chi, Chen,
// arXiv 2403.03852 (docs/theory.md §4.3). One score evaluation, at a half-noised point, and two
// noise injections per step:
//
//   (A) Y+ = Y_t + sqrt(beta_t/2) Z+,
//       Y_{t-1} = ( Y+ + beta_t s_t(Y+) + sqrt(beta_t/2) Z ) / sqrt(alpha_t)
//       [UNVERIFIED printed form; the unique choice that makes the one-step covariance
//        (beta/alpha)(I + beta J*) correct to O(beta^2), docs/theory.md §6.1]
//   (B) Y+ = Y_t + sqrt(beta_t/2) Z+,
//       Y_{t-1} = ( Y+ + beta_t s_t(Y+) ) / sqrt(alpha_t) + sqrt(beta_t/2) Z     [repository README]
//   (C) Y+ = Y_t + sqrt(alpha_t beta_t/2) Z+, then the rule of (B); no Z on the step to the
//       data level (t = 1)                                       [`ddpm_steps_accelerated`]
//
// (A), (B), (C) differ by O(beta^2) isotropic variance. NFE = 1 per step.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class AcceleratedSde final : public Sampler {
 public:
  enum class Variant { kA, kB, kC };
  explicit AcceleratedSde(Variant variant) : variant_(variant) {}
  std::string name() const override;
  int noise_injections() const override { return 2; }
  int score_evaluations_per_step() const override { return 1; }
  std::optional<StochasticScoreStep> stochastic_score_step(const StepContext& context) const override;
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

 private:
  Variant variant_;
};

}  // namespace dmconv::samplers
