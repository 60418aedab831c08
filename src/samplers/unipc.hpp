// UniPC (Zhao, Bai, Rao, Zhou & Lu, "UniPC: A Unified Predictor-Corrector Framework for Fast
// Sampling of Diffusion Models", NeurIPS 2023, arXiv 2302.04867): the official code's
// `multistep_uni_pc_bh_update` with variant 'bh2' and data prediction (x0hat), Algorithms 2-3
// (UniP-p predictor, UniC corrector), in docs/theory.md §1 notation. With m_k = x0hat_k(.) the
// model outputs, alpha = sqrt(abar), lambda the half-log-SNR, one update from level s to the
// less noisy level u of order q uses m_s and the q - 1 outputs before it:
//
//   h = lambda_u - lambda_s,  r_k = (lambda_{s+k} - lambda_s)/h,  D_k = (m_{s+k} - m_s)/r_k  (k < q)
//   B(h) = e^{-h} - 1   (bh2),     b_i = i! phi_{i+1}(-h) (-h)/B(h),   i = 1..q
//   R_{ik} = r_k^{i-1} (r_q = 1)
//   x_u^-  = (sigma_u/sigma_s) x_s - alpha_u (e^{-h} - 1) m_s
//   UniP:  x_u  = x_u^- - alpha_u B(h) sum_{k<q} rho^p_k D_k,   rho^p = 1/2 (q = 2), R[:-1,:-1]^{-1} b[:-1] (q = 3)
//          (x_u = x_u^-, i.e. DPM-Solver++-1 = DDIM, for q = 1)
//   UniC:  x_u^c = x_u^- - alpha_u B(h) ( sum_{k<q} rho^c_k D_k + rho^c_q (m_u - m_s) ),
//          rho^c = 1/2 (q = 1), R^{-1} b (q > 1),  m_u = x0hat_u(x_u) at the predicted x_u
//
// phi_1(z) = (e^z - 1)/z, phi_{n+1}(z) = (phi_n(z) - 1/n!)/z (a series for |z| < 1, where the
// recursion cancels). As the code, the corrector's evaluation m_u is reused by the next
// predictor (NFE 1 per step); the order warms up 1, 2, ..., `order`, and with lower_order_final
// (the code's default) the last steps use order <= the number of steps left, so the last step is
// first order; the final level gets no corrector.
//
// In dmconv's step interface the iterate passed between steps is the predicted x_u (what the
// next model evaluation sees, and what the code returns at the final level); step t evaluates
// m_t at it, applies UniC to level t (cached x^c_{t+1}, m_{t+1}, ...), then UniP to t - 1. The
// step to the data level (lambda = +inf) is the code's `denoise_to_zero`: Y_0 = m_1 = x0hat_1 at
// the predicted x_1 (the steps before it count as the run's last for `lower_order_final`).
// Cache (SamplerState::previous_output, valid when previous_t = t + 1): x^c_{t+1}, m_{t+1},
// m_{t+2}, ... side by side (d x k n), at most `order` outputs.
// NFE = 1 per step. Deterministic. Runs are assumed to start at the grid's top level T.
#pragma once
#include "core/sampler.hpp"

namespace dmconv::samplers {

class UniPc final : public Sampler {
 public:
  static constexpr int kMaxOrder = 3;
  UniPc(int order, bool lower_order_final);
  std::string name() const override { return "unipc"; }
  int noise_injections() const override { return 0; }
  int score_evaluations_per_step() const override { return 1; }
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

 private:
  int order_;
  bool lower_order_final_;
};

}  // namespace dmconv::samplers
