// Single-step DPM-Solver-2 (Lu et al. 2022, r1 = 1/2, "dpmsolver" type): the official code's
// `singlestep_dpm_solver_second_update`, rewritten in docs/theory.md §1 notation (§4.5).
//
//   h = lambda_{t-1} - lambda_t,   lambda_m = lambda_t + h/2,   abar_m = 1/(1 + e^{-2 lambda_m})
//   U       = sqrt(abar_m/abar_t) Y_t - sigma_m (e^{h/2} - 1) eps_t(Y_t)
//   Y_{t-1} = sqrt(abar_{t-1}/abar_t) Y_t - sigma_{t-1} (e^{h} - 1) eps_m(U)
//
// NFE = 2 per step; the second evaluation is at the off-grid level abar_m (exact score of the
// analytic target there). The step to the data level (t = 1, lambda = +inf) has no midpoint
// and is taken as a first-order DDIM step. Deterministic.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class DpmSolver2 final : public Sampler {
 public:
  std::string name() const override { return "dpm_solver_2"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 2; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;
};

}  // namespace dmconv::samplers
