// iPNDM, the "improved PNDM" of Zhang & Chen, "Fast Sampling of Diffusion Models with Exponential
// Integrator" (DEIS), ICLR 2023, arXiv 2204.13902, §5 / App. (iPNDM): the fixed-coefficient
// Adams-Bashforth method of order up to 4 applied to the probability-flow ODE in the VE scale
// sigma = sqrt((1 - abar)/abar), x = Y/sqrt(abar), whose slope dx/dsigma is the noise prediction
// eps_t(Y) = -sqrt(1 - abar_t) s_t(Y) (see edm_heun.hpp); PNDM's Runge-Kutta warm start is replaced
// by the lower-order Adams-Bashforth formulas. One step from level t to t - 1:
//
//   e = eps_t                                                  (order 1, = DDIM)
//   e = (3 eps_t - eps_{t+1}) / 2                              (order 2)
//   e = (23 eps_t - 16 eps_{t+1} + 5 eps_{t+2}) / 12           (order 3)
//   e = (55 eps_t - 59 eps_{t+1} + 37 eps_{t+2} - 9 eps_{t+3}) / 24   (order 4)
//   Y_{t-1} = sqrt(abar_{t-1}) ( Y_t/sqrt(abar_t) + (sigma_{t-1} - sigma_t) e )
//           = sqrt(abar_{t-1}/abar_t) Y_t - sqrt(1 - abar_{t-1}) (e^{h} - 1) e,  h = lambda_{t-1} - lambda_t,
//
// with the highest order the cache allows, at most max_order (the coefficients are those of
// equal steps, as in the paper, whatever the grid). The step to the data level uses the same
// formula (sigma_0 = 0). Cache: eps_{t+1}, eps_{t+2}, eps_{t+3} side by side in
// SamplerState::previous_output (d x k n, newest first), valid when previous_t = t + 1.
// NFE = 1 per step. Deterministic.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class Ipndm final : public Sampler {
 public:
  static constexpr int kMaxOrder = 4;
  explicit Ipndm(int max_order);
  std::string name() const override { return "ipndm"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 1; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

 private:
  int max_order_;
};

}  // namespace dmconv::samplers
