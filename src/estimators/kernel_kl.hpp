// The one-step kernel mechanism behind the samplers' rates (estimator "kernel_kl";
// docs/theory.md §6.1, §7 claim 10, §8.1 "Reverse kernel"):
//
//   S = sum_{t = stop+1}^{T} E_{x ~ p_t} KL( p_{X_{t-1} | X_t}(. | x) || q_t(. | x) )     (metric "kernel_kl_sum")
//
// q_t is the sampler's kernel, read from Sampler::stochastic_score_step (DDPM and the accelerated
// stochastic variants), with the score model used for sampling (score errors included):
//
//   Y+ = x + N(0, v_pre I),   Y_{t-1} = a Y+ + c s_t(Y+) + N(0, v_post I).
//
// p(x_{t-1} | x) is the true reverse kernel of a Gaussian-mixture target p_0 = sum_k pi_k N(mu_k, Sigma_k):
// with C_{k,t} = abar_t Sigma_k + (1 - abar_t) I = alpha_t C_{k,t-1} + beta_t I and m_{k,t} = sqrt(abar_t) mu_k,
//
//   p(x_{t-1} | x) = sum_k w_k(x) N( mu'_k(x), Sigma'_k ),     w_k(x) = responsibilities of p_t at x,
//   mu'_k(x) = m_{k,t-1} + sqrt(alpha_t) G_k (x - m_{k,t}),    Sigma'_k = beta_t G_k,   G_k = C_{k,t-1} C_{k,t}^{-1}
//
// (C_{k,t-1} - alpha_t C_{k,t-1} C_{k,t}^{-1} C_{k,t-1} = C_{k,t-1} C_{k,t}^{-1} (C_{k,t} - alpha_t C_{k,t-1})).
// By the chain rule of KL, S + KL(p_T || law of Y_T) is the KL between the forward path (X_T, ..., X_stop)
// and the sampler's path, so with exact initialisation S >= KL(p_{X_stop} || p_{Y_stop}) (data processing).
// S does not depend on the initialisation. On N(0, I_d) data DDPM gives exactly
// S = d sum_t (alpha_t - 1 - ln alpha_t) / 2 ~ d log^2 T / T (docs/theory.md §6.1).
//
// Two methods, both deterministic (kind exact):
//  * closed form -- one-component target and an affine (or its exact) score model, any d: both kernels are Gaussian with
//    means affine in x, q_t = N(M x + c r, v_pre M M^T + v_post I) with s(y) = J y + r, M = a I + c J
//    (probed from the score model), and
//      E_x KL = (1/2) [ sum_i (mu_i - log1p(mu_i)) + delta^T Sq^{-1} delta + tr(Sq^{-1} D C_t D^T) ],
//    D = M - sqrt(alpha) G, delta = D m_t + c r - b, mu_i the eigenvalues of Sq^{-1/2} (Sp - Sq) Sq^{-1/2}
//    (the covariance difference formed directly, not as tr - d - log det, which would cancel).
//  * quadrature -- Gaussian mixtures (or a non-affine score model), d <= max_dim: tensor Gauss-Hermite
//    rules (core/gauss_hermite.hpp) of `points` nodes per axis over every component of p_t (outer) and
//    of the true kernel (inner), KL = sum_k w_k E_{N_k}[ log p - log q ]. With pre-noise (v_pre > 0) q_t
//    is itself an integral over Y+; it is computed against the Gaussian that the linearisation
//    m(y) ~ m(x) + (a I + c J(x)) (y - x) makes exact:
//      q(z) = N(z; m(x), A v_pre A^T + v_post I) E_{y ~ N(yhat(z), Lambda^{-1})} exp(l(y)),
//      Lambda = I / v_pre + A^T A / v_post,   yhat = x + Lambda^{-1} A^T (z - m(x)) / v_post,
//      l(y) = -( |z - m(y)|^2 - |z - m(x) - A (y - x)|^2 ) / (2 v_post),
//    so that the Gauss-Hermite rule (`points` per axis) integrates the small correction exp(l) only.
//    floor = |S(points) - S(points / 2)| (the half rule's error is far larger, so this bounds the error of
//    the full rule generously) + the rounding budget.
// Steps are independent: they are computed in parallel and summed in step order (the same bits for any
// thread count).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/estimator.hpp"

namespace dmconv::estimators {

struct KernelKlOptions {
  int points = 16;    // Gauss-Hermite nodes per axis (outer, inner and pre-noise rules); even, >= 4
  int max_dim = 2;    // largest d for the quadrature method (cost ~ points^(3d) per step with pre-noise)
};

class KernelKlEstimator final : public Estimator {
 public:
  explicit KernelKlEstimator(KernelKlOptions options = {}) : options_(options) {}
  std::string name() const override { return "kernel_kl"; }
  std::optional<std::string> unsupported_reason(const EstimationProblem& problem) const override;
  std::vector<Estimate> estimate(const EstimationProblem& problem) const override;

  // Per-step terms E_x KL(p(. | x) || q_t(. | x)) for t = stop+1 .. T (index t - stop - 1), by the
  // method the problem selects; `points` overrides the option (the floor's half rule). Exposed for tests.
  std::vector<double> step_terms(const EstimationProblem& problem, int points) const;
  // Whether the closed form applies (one component; an affine score model or the target's exact score).
  static bool closed_form_applies(const EstimationProblem& problem);

 private:
  KernelKlOptions options_;
};

}  // namespace dmconv::estimators
