// Accelerated deterministic ("momentum") sampler, noise-prediction form: the README formula
// and `generalized_steps_accelerated` of the arXiv 2403.03852 repository; docs/theory.md §4.4b.
//
//   Y_{t-1} = DDIM_t(Y_t) + C_t ( eps_{t+1}(Y_{t+1}) - eps_t(Y_t) )
//   C_t = sqrt(abar_{t-1}) / (abar_t - abar_{t+1}) *
//         [ abar_t sqrt((1-abar_{t-1})/abar_{t-1}) + arcsin sqrt(abar_{t-1})
//           - abar_t sqrt((1-abar_t)/abar_t) - arcsin sqrt(abar_t) ]
//
// It interpolates eps linearly in abar through (abar_{t+1}, eps_{t+1}) and (abar_t, eps_t)
// and integrates d(x/sqrt(abar)) = eps d(sigma/sqrt(abar)) exactly. The bracket is O(h^2)
// formed from O(h) terms; we evaluate the equivalent integral
//
//   bracket = int_{u_{t-1}}^{u_t} ( 1/(1+u^2) - abar_t ) du,   u = sqrt((1-abar)/abar) = e^{-lambda},
//   1/(1+u^2) - abar_t = (u_t - u)(u_t + u) / ((1+u^2)(1+u_t^2)) >= 0,
//
// by Gauss-Kronrod quadrature (Boost.Math), which has no cancellation, and
// abar_t - abar_{t+1} = abar_t beta_{t+1} exactly. First step (t = T): plain DDIM, as the
// repository does. NFE = 1 per step (eps_{t+1} cached). Deterministic.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class AcceleratedOdeNoise final : public Sampler {
 public:
  std::string name() const override { return "acc_ode_noise"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 1; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

  // C_t for grid index t (1 <= t < T), cancellation-free.
  static double momentum_coefficient(const TimeGrid& grid, int t);
};

}  // namespace dmconv::samplers
