// DPM-Solver++(2M) (Lu et al. 2022b, data prediction, multistep): the official code's
// `multistep_dpm_solver_second_update` and `sample(method='multistep')`, in docs/theory.md §1
// notation (§4.5).
//
//   h = lambda_{t-1} - lambda_t,   r = (lambda_t - lambda_{t+1}) / h
//   D = x0hat_t(Y_t) + (1/(2r)) ( x0hat_t(Y_t) - x0hat_{t+1}(Y_{t+1}) )
//   Y_{t-1} = (sigma_{t-1}/sigma_t) Y_t - sqrt(abar_{t-1}) (e^{-h} - 1) D
//
// Boundaries, as the code: the first step uses D = x0hat_T (first order = DDIM); with fewer
// than 10 steps in the run the final step is first order (`lower_order_final`). The step to
// the data level (lambda = +inf) is first order too: Y_0 = x0hat_1(Y_1).
// NFE = 1 per step (x0hat_{t+1} cached). Deterministic.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class DpmSolverPlusPlus2M final : public Sampler {
 public:
  std::string name() const override { return "dpm_solver_pp_2m"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 1; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;
};

}  // namespace dmconv::samplers
