// Closed-form one-step maps of every docs/theory.md §4 sampler on a Gaussian target with exact
// score, in 50-digit arithmetic, and the probe that reads the same map off Sampler::step.
//
// For p_data = N(mu, Sigma) the exact score is affine, s*_t(x) = J_t x + c_t (§8.1), so every
// sampler step is affine in its inputs (docs/theory.md §6.1):
//
//   Y_{t-1} = A Y_t + Q Y_{t+1} + b + sum_k N_k Z_k
//
// where Q (the coefficient of the previous iterate, through the cached model output) is
// non-zero only for the multistep samplers, and N_k only for the stochastic ones.
//
// The reference maps are written from the docs/theory.md §4 update rules, where possible in a
// different but equivalent parametrisation from the one the code uses:
//   * DDIM in the score form  Y/sqrt(alpha) + sigma_t (sigma_t/sqrt(alpha) - sigma_{t-1}) s
//     (§4.2b third line), not the exponential form sqrt(abar ratio) Y - sigma (e^h - 1) eps;
//   * DPM-Solver-2 and DPM-Solver++(2M) with e^{±h} eliminated through
//     e^{h} = sqrt(abar_{t-1}/abar_t) sigma_t / sigma_{t-1} (§1, lambda = log(sqrt(abar)/sigma));
//   * the accelerated ODE (4.4b) with C_t from its arcsin closed form, not the code's
//     quadrature.
#pragma once
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/sampler.hpp"
#include "core/score_model.hpp"
#include "core/time_grid.hpp"
#include "samplers/exact_reference.hpp"

namespace dmconv::test {

struct AffineStep {
  RMatrix A;               // coefficient of Y_t
  RVector b;               // constant
  std::vector<RMatrix> N;  // coefficient of noise injection k
  RMatrix Q;               // coefficient of Y_{t+1} (two-step maps only; else empty)
  // Magnitude of the terms whose sum forms Q, when that sum cancels (see DPM-Solver++(2M));
  // the error of Q is measured relative to max(|Q|, Q_scale). 0: relative to |Q| alone.
  Real Q_scale = 0;
};

// The samplers with a closed form below (docs/theory.md §4.1-4.5).
inline const std::vector<std::string>& samplers_with_closed_form() {
  static const std::vector<std::string> names{"ddpm",      "ddpm_noise_outside", "reverse_diffusion", "ode_euler", "ddim",
                                              "acc_sde_a", "acc_sde_b",          "acc_sde_c", "acc_ode_score",
                                              "acc_ode_noise", "dpm_solver_2",   "dpm_solver_pp_2m"};
  return names;
}

// Multistep samplers: the step uses the previous step's model output (docs/theory.md §4.4, §4.5).
inline bool is_multistep(const std::string& name) {
  return name == "acc_ode_score" || name == "acc_ode_noise" || name == "dpm_solver_pp_2m";
}

class GaussianClosedForms {
 public:
  GaussianClosedForms(const TimeGrid& grid, const Vector& mu, const Matrix& sigma)
      : grid_(grid), mu_(to_real(mu)), sigma_(to_real(sigma)), d_(mu.size()) {}

  ExactLevel level(int t) const { return exact_level(grid_, t); }
  AffineScore score(const ExactLevel& level) const { return gaussian_score(mu_, sigma_, level); }
  AffineScore score(int t) const { return score(level(t)); }
  Real beta(int t) const { return Real(grid_.beta(t)); }
  RMatrix identity() const { return RMatrix::Identity(d_, d_); }
  RMatrix zero() const { return RMatrix::Zero(d_, d_); }

  // The step from level t with no usable cache (the first step of a multistep sampler).
  AffineStep plain(const std::string& name, int t) const {
    const Real beta_t = beta(t);
    const Real sqrt_alpha = sqrt(1 - beta_t);
    const AffineScore s = score(t);
    const RMatrix I = identity();
    if (name == "ddpm") {
      // §4.1 (2.4): Y_{t-1} = ( Y + beta s(Y) + sqrt(beta) Z ) / sqrt(alpha)
      return {(I + beta_t * s.J) / sqrt_alpha, beta_t * s.c / sqrt_alpha, {I * (sqrt(beta_t) / sqrt_alpha)}, {}};
    }
    if (name == "ddpm_noise_outside") {
      // §4.1 variant: ( Y + beta s(Y) )/sqrt(alpha) + sqrt(beta) Z; no noise on the step to
      // the data level (t = 1), as the repository's ddpm_steps.
      return {(I + beta_t * s.J) / sqrt_alpha, beta_t * s.c / sqrt_alpha, {t > 1 ? RMatrix(I * sqrt(beta_t)) : zero()}, {}};
    }
    if (name == "reverse_diffusion") {
      // Song et al. 2021, VP reverse diffusion: (2 - sqrt(alpha)) Y + beta s(Y) + sqrt(beta) Z; no
      // noise on the step to the data level (t = 1), as the score_sde code's final x_mean.
      return {(2 - sqrt_alpha) * I + beta_t * s.J, beta_t * s.c, {t > 1 ? RMatrix(I * sqrt(beta_t)) : zero()}, {}};
    }
    if (name == "ode_euler" || name == "acc_ode_score") {
      // §4.2a (2.5): ( Y + (beta/2) s(Y) ) / sqrt(alpha); also the first step of §4.4a.
      return {(I + (beta_t / 2) * s.J) / sqrt_alpha, (beta_t / 2) * s.c / sqrt_alpha, {}, {}};
    }
    if (name == "ddim" || name == "acc_ode_noise" || name == "dpm_solver_pp_2m") {
      // §4.2b; also the first step of §4.4b and of DPM-Solver++(2M) (§4.5 boundary).
      return ddim(level(t), level(t - 1), s);
    }
    if (name == "acc_sde_a" || name == "acc_sde_b" || name == "acc_sde_c") {
      // §4.3: Y+ = Y + n1 Z+, then ( Y+ + beta s(Y+) [+ sqrt(beta/2) Z] )/sqrt(alpha) [+ ...].
      // s(Y+) = J Y + J n1 Z+ + c, so the Z+ coefficient is n1 (I + beta J)/sqrt(alpha).
      const RMatrix M = I + beta_t * s.J;
      const Real n1 = name == "acc_sde_c" ? sqrt((1 - beta_t) * beta_t / 2) : sqrt(beta_t / 2);
      RMatrix second;
      if (name == "acc_sde_a") second = I * (sqrt(beta_t / 2) / sqrt_alpha);  // (A): inside the bracket
      if (name == "acc_sde_b") second = I * sqrt(beta_t / 2);                 // (B): outside
      if (name == "acc_sde_c") second = t > 1 ? RMatrix(I * sqrt(beta_t / 2)) : zero();  // (C): none at t = 1
      return {M / sqrt_alpha, beta_t * s.c / sqrt_alpha, {M * (n1 / sqrt_alpha), second}, {}};
    }
    if (name == "dpm_solver_2") {
      if (t == 1) return ddim(level(1), level(0), s);  // no midpoint at lambda = +inf (header convention)
      return dpm_solver_2(level(t), level(t - 1), s);
    }
    throw std::invalid_argument("no closed form for sampler " + name);
  }

  // The step from level t whose cache holds the model output of the step from level t + 1
  // at input Y_{t+1} (multistep samplers only).
  AffineStep two_step(const std::string& name, int t) const {
    const ExactLevel now = level(t), next = level(t + 1);
    const AffineScore s = score(now), s_next = score(next);
    const RMatrix I = identity();
    if (name == "acc_ode_score") {
      // §4.4a (ITW 2024 slides, "Scheme 2 (Ours)"):
      //   Y_{t-1} = ( Y_t + (beta_t/2) s_t(Y_t) )/sqrt(alpha_t)
      //           + m ( s_t(Y_t) - sqrt(alpha_{t+1}) s_{t+1}(Y_{t+1}) )/sqrt(alpha_t),
      //   m = beta_t^2 / (4 beta_{t+1}).
      const Real beta_t = beta(t), beta_next = beta(t + 1);
      const Real sqrt_alpha = sqrt(1 - beta_t), sqrt_alpha_next = sqrt(1 - beta_next);
      const Real m = beta_t * beta_t / (4 * beta_next);
      return {(I + (beta_t / 2 + m) * s.J) / sqrt_alpha,
              ((beta_t / 2 + m) * s.c - m * sqrt_alpha_next * s_next.c) / sqrt_alpha,
              {},
              -(m * sqrt_alpha_next / sqrt_alpha) * s_next.J};
    }
    if (name == "acc_ode_noise") {
      // §4.4b: Y_{t-1} = DDIM_t(Y_t) + C_t ( eps_{t+1}(Y_{t+1}) - eps_t(Y_t) ),
      // eps_t(x) = -sigma_t s_t(x) = -sigma_t (J_t x + c_t).
      const AffineStep base = ddim(now, level(t - 1), s);
      const Real C = momentum_coefficient_exact(grid_, t);
      return {base.A + C * now.sigma() * s.J,
              base.b - C * next.sigma() * s_next.c + C * now.sigma() * s.c,
              {},
              -C * next.sigma() * s_next.J};
    }
    if (name == "dpm_solver_pp_2m") {
      if (t == 1) {  // to the data level: first order, Y_0 = x0hat_1(Y_1) (header convention)
        AffineStep step = ddim(now, level(0), s);
        step.Q = zero();
        return step;
      }
      // §4.5: x0hat_t(x) = (x + (1-abar_t) s_t(x))/sqrt(abar_t) = X_t x + xi_t,
      //   D = x0hat_t(Y_t) + (1/(2r)) (x0hat_t(Y_t) - x0hat_{t+1}(Y_{t+1})),
      //   r = (lambda_t - lambda_{t+1})/h,  h = lambda_{t-1} - lambda_t,
      //   Y_{t-1} = (sigma_{t-1}/sigma_t) Y_t + w D,  w = -sqrt(abar_{t-1})(e^{-h} - 1)
      //           = sqrt(abar_{t-1}) - sigma_{t-1} sqrt(abar_t)/sigma_t   (e^{-h} eliminated).
      const ExactLevel prev = level(t - 1);
      const RMatrix X = (I + now.q * s.J) / now.sqrt_abar();
      const RVector xi = now.q * s.c / now.sqrt_abar();
      const RMatrix X_next = (I + next.q * s_next.J) / next.sqrt_abar();
      const RVector xi_next = next.q * s_next.c / next.sqrt_abar();
      const Real h = prev.lambda() - now.lambda();
      const Real half_over_r = h / (2 * (now.lambda() - next.lambda()));
      const Real w = prev.sqrt_abar() - prev.sigma() * now.sqrt_abar() / now.sigma();
      // Near the noise end x0hat_{t+1}(x) = (x + (1-abar) s(x))/sqrt(abar) is the difference of
      // two terms of size |x|/sqrt(abar) that cancel to ~sqrt(abar)|x| (X = abar Sigma C^{-1}
      // /sqrt(abar)): in double, any evaluation of this parametrisation (the one §4.5
      // prescribes) carries an absolute error ~eps |w/(2r)| (1 + (1-abar)|J|)/sqrt(abar_{t+1})
      // in Q, e.g. 1e-3 of |Q| at abar ~ 1e-13, while its effect on Y_{t-1} stays ~eps |w|.
      // Q is therefore measured against the size of those terms.
      const Real q_scale = abs(w * half_over_r) * (1 + next.q * s_next.J.cwiseAbs().maxCoeff()) / next.sqrt_abar();
      return {(prev.sigma() / now.sigma()) * I + w * (1 + half_over_r) * X,
              w * ((1 + half_over_r) * xi - half_over_r * xi_next),
              {},
              -(w * half_over_r) * X_next,
              q_scale};
    }
    throw std::invalid_argument("no two-step closed form for sampler " + name);
  }

  // DDIM from level `from` to the less noisy level `to`, score form (§4.2b, third line):
  //   Y_to = Y/sqrt(alpha) + sigma_from (sigma_from/sqrt(alpha) - sigma_to) s(Y),
  //   alpha = abar_from/abar_to.
  AffineStep ddim(const ExactLevel& from, const ExactLevel& to, const AffineScore& s) const {
    const Real inv_sqrt_alpha = sqrt(to.a / from.a);
    const Real k = from.sigma() * (from.sigma() * inv_sqrt_alpha - to.sigma());
    return {inv_sqrt_alpha * identity() + k * s.J, k * s.c, {}, {}};
  }

  // Single-step DPM-Solver-2, r1 = 1/2 (§4.5), with sigma (e^{h'} - 1) = r sigma_t - sigma'
  // for a step t -> ' (r = sqrt(abar'/abar_t)): the midpoint U is a DDIM step to the level
  // lambda_m = (lambda_t + lambda_{t-1})/2, and the final update uses the score there:
  //   U       = r_m Y + (r_m sigma_t - sigma_m) sigma_t s_t(Y)
  //   Y_{t-1} = r Y + (r sigma_t - sigma_{t-1}) sigma_m s_m(U).
  AffineStep dpm_solver_2(const ExactLevel& from, const ExactLevel& to, const AffineScore& s) const {
    const ExactLevel middle = ExactLevel::from_lambda((from.lambda() + to.lambda()) / 2);
    const AffineScore s_middle = score(middle);
    const Real r_middle = sqrt(middle.a / from.a);
    const Real k_middle = (r_middle * from.sigma() - middle.sigma()) * from.sigma();
    const RMatrix G = r_middle * identity() + k_middle * s.J;  // U = G Y + g
    const RVector g = k_middle * s.c;
    const Real r = sqrt(to.a / from.a);
    const Real K = (r * from.sigma() - to.sigma()) * middle.sigma();
    return {r * identity() + K * s_middle.J * G, K * (s_middle.J * g + s_middle.c), {}, {}};
  }

 private:
  const TimeGrid& grid_;
  RVector mu_;
  RMatrix sigma_;
  Eigen::Index d_;
};

// The affine map of one Sampler::step, read off by probing its inputs: particle columns
// with Y_t = 0 or e_i and noise Z_k = 0 or e_i (columns are independent particles).
struct ProbedStep {
  Matrix A;
  Vector b;
  std::vector<Matrix> N;
  Matrix Q;
};

// One step from level t with a fresh state. The context is that of a run of T - 1 steps to
// Y_1 (t >= 2) or of T steps to Y_0 (t = 1).
inline ProbedStep probe_plain_step(const Sampler& sampler, const ScoreModel& score, const TimeGrid& grid, int t) {
  const Eigen::Index d = score.dim();
  const int K = sampler.noise_injections();
  Matrix x = Matrix::Zero(d, 1 + d + K * d);
  x.middleCols(1, d).setIdentity();
  std::vector<Matrix> noise(static_cast<std::size_t>(K), Matrix::Zero(d, x.cols()));
  for (int k = 0; k < K; ++k) noise[static_cast<std::size_t>(k)].middleCols(1 + d + k * d, d).setIdentity();
  SamplerState state;
  const StepContext context{grid, t, t <= 2, t == 1 ? grid.steps() : grid.steps() - 1};
  sampler.step(context, score, noise, x, state);
  ProbedStep probed;
  probed.b = x.col(0);
  probed.A = x.middleCols(1, d).colwise() - probed.b;
  for (int k = 0; k < K; ++k) probed.N.push_back(x.middleCols(1 + d + k * d, d).colwise() - probed.b);
  return probed;
}

// Two consecutive steps, t + 1 then t, of a deterministic sampler: the first fills the cache
// from input Y_{t+1}; before the second, the iterate is replaced by an independent Y_t, so
// that the coefficients of Y_t and of Y_{t+1} can be read separately.
inline ProbedStep probe_two_step(const Sampler& sampler, const ScoreModel& score, const TimeGrid& grid, int t) {
  const Eigen::Index d = score.dim();
  Matrix y_next = Matrix::Zero(d, 1 + 2 * d);
  y_next.middleCols(1 + d, d).setIdentity();
  Matrix y = Matrix::Zero(d, 1 + 2 * d);
  y.middleCols(1, d).setIdentity();
  SamplerState state;
  const int total = t == 1 ? grid.steps() : grid.steps() - 1;
  sampler.step(StepContext{grid, t + 1, false, total}, score, {}, y_next, state);
  sampler.step(StepContext{grid, t, t <= 2, total}, score, {}, y, state);
  ProbedStep probed;
  probed.b = y.col(0);
  probed.A = y.middleCols(1, d).colwise() - probed.b;
  probed.Q = y.middleCols(1 + d, d).colwise() - probed.b;
  return probed;
}

// The largest normwise relative error over the blocks A, b, N_k, Q.
inline double max_relative_error(const ProbedStep& probed, const AffineStep& expected) {
  double worst = relative_error(probed.A, expected.A);
  worst = std::max(worst, relative_error(probed.b, RMatrix(expected.b)));
  if (probed.N.size() != expected.N.size()) return std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < probed.N.size(); ++k) worst = std::max(worst, relative_error(probed.N[k], expected.N[k]));
  if (expected.Q.size() > 0) worst = std::max(worst, relative_error(probed.Q, expected.Q, expected.Q_scale));
  return worst;
}

}  // namespace dmconv::test
