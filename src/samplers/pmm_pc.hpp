// Predictor-corrector scheme of Pedrotti, Maas, Mondelli, arXiv 2305.14164 (TMLR 2024), as
// written in docs/theory.md §4.6 ((4.1) corrector, (4.2) predictor; docs/theory.md's labels, the paper's
// equation numbers are not re-checked here) and §5.6.
//
// The forward OU process runs to the FINITE time T1: the run's grid is the schedule's grid
// whose top level is abar_T = e^{-2 T1} (e.g. logsnr_uniform with last_abar = e^{-2 T1}).
// Starting from the run's initialisation (the paper's Y_0 ~ N(0, I) is [sampling]
// initialisation = "standard_normal"):
//
//   Corrector (4.1), discretised as unadjusted Langevin (ULA) at the fixed level T:
//     Y <- Y + gamma s~_T(Y) + sqrt(2 gamma) xi_k,    k = 0 .. K-1,  K = round(T2 / gamma),
//     s~ = s * min(1, M / |s|)   (norm truncation, Thm 4.2; M = 0: s~ = s)
//   Predictor (4.2): the reverse probability-flow ODE from level T to the output level,
//     integrated on the grid by `integrator`: ddim (exponential integrator, §4.2b),
//     acc_ode_noise (§4.4b) or dpm_solver_2 (§4.5); their step functions are called as is,
//     with the score s~_t = s_t * min(1, M_t / |s_t|), M_t = C sqrt(d) / sigma_t when
//     predictor_truncation = C > 0 (Thm 4.2 runs both stages on a truncated score; docs/theory.md §4.6:
//     "M growing like sqrt(d)/sigma", the typical size of the true score at level t).
//
// So the first step (t = grid.steps()) is K ULA iterations followed by one predictor step,
// and every later step is a plain predictor step. The ULA discretisation is the [DERIVED]
// "natural implementation" of docs/theory.md §4.6; the paper's own discretisation (its §6) is
// [UNVERIFIED]. The two truncations are separate knobs (corrector: absolute M at the single
// level T; predictor: C in units of sqrt(d)/sigma_t), both off by default; the exact form of the
// paper's truncation is [UNVERIFIED].
//
// Noise: K matrices at the first step (stream (kStepNoise, T, k)), none elsewhere
// (noise_injections_at). Memory: run_block holds K matrices of d x block_size doubles.
// NFE: K + the integrator's NFE at the first step, the integrator's NFE elsewhere.
// With T2 = 0 (K = 0) the sampler is deterministic and bitwise the plain integrator.
#pragma once
#include <memory>
#include <string>

#include "core/sampler.hpp"

namespace dmconv::samplers {

class PmmPredictorCorrector final : public Sampler {
 public:
  struct Options {
    double langevin_time = 1.0;     // T2 >= 0
    double langevin_step = 0.01;    // gamma > 0
    double truncation = 0.0;        // M >= 0; 0 = no truncation (corrector)
    std::string integrator = "ddim";  // "ddim", "acc_ode_noise" or "dpm_solver_2"
    double predictor_truncation = 0.0;  // C >= 0; 0 = no truncation (predictor, M_t = C sqrt(d)/sigma_t)
  };
  // Largest K = round(T2 / gamma) accepted: the noise of injection k of a step is the stream
  // sub-index k (core/rng.hpp), which has 16 bits. (Memory: K d x block_size doubles per thread.)
  static constexpr long kMaxLangevinIterations = 65536;

  // Throws InvalidArgument naming the key, the value and the rule when an option is invalid.
  explicit PmmPredictorCorrector(Options options);

  std::string name() const override { return "pmm_pc"; }
  int noise_injections() const override { return iterations_; }
  int score_evaluations_per_step() const override { return predictor_->score_evaluations_per_step(); }
  int noise_injections_at(const StepContext& context) const override {
    return is_first_step(context) ? iterations_ : 0;
  }
  int score_evaluations_at(const StepContext& context) const override {
    return predictor_->score_evaluations_at(context) + (is_first_step(context) ? iterations_ : 0);
  }

  // The norm truncation is not affine; without it (or without Langevin steps) every step is.
  bool is_affine_for_affine_score() const override {
    return (options_.truncation == 0.0 || iterations_ == 0) && options_.predictor_truncation == 0.0;
  }

  // K ULA substeps {0, 1, gamma, 2 gamma} then the integrator's form at t = T, the integrator's
  // form elsewhere (grid law propagation); empty with truncation (s~ is not the score) or an
  // integrator without a one-evaluation form (acc_ode_noise, dpm_solver_2).
  std::vector<StochasticScoreStep> stochastic_score_substeps(const StepContext& context) const override;

  // Precondition: as Sampler::step; at t = grid.steps(), noise.size() >= K.
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

  // The corrector alone: K ULA iterations at `level`, iteration k using noise[k].
  // Precondition: noise.size() >= K, each shaped like x.
  void correct(const NoiseLevel& level, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x) const;

  int langevin_iterations() const { return iterations_; }
  const Options& options() const { return options_; }

 private:
  static bool is_first_step(const StepContext& context) { return context.t == context.grid.steps(); }
  Options options_;
  int iterations_ = 0;
  std::unique_ptr<Sampler> predictor_;
};

// Columnwise s <- s * min(1, M / |s_j|) (M > 0); NaN columns stay NaN.
void truncate_score_norms(double max_norm, Matrix& s);

}  // namespace dmconv::samplers
