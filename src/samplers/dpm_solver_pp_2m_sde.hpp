// DPM-Solver++(2M) SDE (Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++: Fast Solver for Guided
// Sampling of Diffusion Probabilistic Models", arXiv 2211.01095, the SDE-DPM-Solver++(2M) of its
// appendix): the second-order multistep data-prediction solver applied to the reverse SDE, as
// shipped in k-diffusion `sample_dpmpp_2m_sde` (Crowson; eta, s_noise, solver_type 'midpoint' |
// 'heun') and diffusers `DPMSolverMultistepScheduler(algorithm_type="sde-dpmsolver++")` (eta = 1),
// in docs/theory.md §1 notation (§4.10).
//
// k-diffusion works in VE coordinates x_VE = Y/alpha, sigma_VE = sigma/alpha (alpha = sqrt(abar),
// sigma = sqrt(1 - abar)) with t = -log sigma_VE = lambda, the half-log-SNR, and denoised D =
// x0hat. One step from sigma_i to sigma_{i+1} > 0, h = t_{i+1} - t_i, eta_h = eta h:
//
//   x' = (sigma_{i+1}/sigma_i) e^{-eta_h} x + (-expm1(-h - eta_h)) D_i
//        [+ midpoint: 0.5 (-expm1(-h - eta_h)) (1/r) (D_i - D_{i-1})]
//        [+ heun:     ((-expm1(-h - eta_h))/(-h - eta_h) + 1) (1/r) (D_i - D_{i-1})]
//        + s_noise sigma_{i+1} sqrt(-expm1(-2 eta_h)) Z,          r = h_{i-1}/h,
//
// the bracket only when D_{i-1} exists (the first step is first order, "SDE-DPM-Solver-1"), and
// x' = D_i on the step to sigma = 0. Multiplying by alpha_{t-1} (x_VE = Y/alpha at both levels):
//
//   h     = lambda_{t-1} - lambda_t,   r = (lambda_t - lambda_{t+1})/h,
//   x0hat = x0hat_t(Y_t) = (Y_t + (1 - abar_t) s_t(Y_t))/sqrt(abar_t),
//   E     = -expm1(-(1 + eta) h)                                  (= 1 - e^{-(1+eta)h})
//   C     = E/2 (midpoint)  or  1 - E/((1 + eta) h) (heun)        (second-order weight of (x0hat_t - x0hat_{t+1})/r)
//   Y_{t-1} = (sigma_{t-1}/sigma_t) e^{-eta h} Y_t + sqrt(abar_{t-1}) [ E x0hat + (C/r)(x0hat - x0hat_{t+1}) ]
//             + s_noise sigma_{t-1} sqrt(-expm1(-2 eta h)) Z,
//
// which at eta = 1 is diffusers' sde-dpmsolver++ update (x_t = sigma_t/sigma_s e^{-h} x +
// alpha_t (1 - e^{-2h}) D0 + 0.5 alpha_t (1 - e^{-2h}) D1 + sigma_t sqrt(1 - e^{-2h}) Z, D1 =
// (m0 - m1)/r0, midpoint; heun: alpha_t ((1 - e^{-2h})/(-2h) + 1) D1), and at eta = 0 the
// deterministic DPM-Solver++(2M) (dpm_solver_pp_2m, §4.5, without its lower_order_final).
// The noise variance sigma_{t-1}^2 (1 - e^{-2 eta h}) at eta = 1 is the DDPM posterior variance
// (as euler_ancestral's at eta = 1). Boundaries, as k-diffusion: the first step of a run (empty
// cache) is first order; the step to the data level is Y_0 = x0hat_1(Y_1) (no noise); no
// lower-order final steps (diffusers' lower_order_final / euler_at_final options are not modelled). k-diffusion draws Z from a Brownian tree (increments of one Brownian
// path over disjoint sigma intervals): i.i.d. N(0, I) across steps, the same law as here.
// Cache: x0hat_{t+1}(Y_{t+1}) (SamplerState::previous_output, valid when previous_t = t + 1).
// NFE = 1 per step; one noise injection per step when eta > 0 (none on the step to the data
// level). Multistep, so no StochasticScoreStep form (stochastic_score_step is nullopt): the
// Markov estimators (grid_law, rao_blackwell, gaussian_law's step propagation) do not apply.
#pragma once
#include <string>

#include "core/sampler.hpp"

namespace dmconv::samplers {

class DpmSolverPlusPlus2MSde final : public Sampler {
 public:
  struct Options {
    double eta = 1.0;                    // SDE share: 0 = ODE (DPM-Solver++(2M)), 1 = the reverse SDE
    double s_noise = 1.0;                // scale of the injected noise
    std::string solver_type = "midpoint";  // second-order correction: "midpoint" | "heun"
  };
  explicit DpmSolverPlusPlus2MSde(const Options& options);

  std::string name() const override { return "dpm_solver_pp_2m_sde"; }
  int noise_injections() const override { return options_.eta > 0.0 ? 1 : 0; }
  int noise_injections_at(const StepContext& context) const override;
  int score_evaluations_per_step() const override { return 1; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

 private:
  Options options_;
  bool heun_;
};

}  // namespace dmconv::samplers
