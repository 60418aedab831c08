// A reverse-time sampler: one step Y_t -> Y_{t-1} on a time grid (docs/theory.md §4).
//
//   Y_{t-1} = step(grid, t, s, noise, Y_t; state)
//
// The noise is an input: a stochastic sampler consumes noise_injections_at(context) matrices
// of i.i.d. N(0, 1) entries at the step `context`, each shaped like Y_t (for most samplers
// that is noise_injections() at every step); deterministic samplers consume none and must
// not read them. Passing the noise in lets common random numbers, exact law propagation
// (probing the affine step) and tests all use one interface. Multistep samplers keep their
// cache in `state`, which the run loop resets at the start of every run.
#pragma once
#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/noise_level.hpp"
#include "core/score_model.hpp"
#include "core/time_grid.hpp"
#include "core/types.hpp"

namespace dmconv {

// The multistep cache: the model output of the previous step, at grid index previous_t.
struct SamplerState {
  Matrix previous_output;  // e.g. s_{t+1}(Y_{t+1}), eps_{t+1}(Y_{t+1}) or x0hat_{t+1}(Y_{t+1})
  int previous_t = -1;     // grid index the cache belongs to; -1 = empty
  bool has_previous() const { return previous_t >= 0; }
  void reset() {
    previous_output.resize(0, 0);
    previous_t = -1;
  }
  // Scratch matrix `slot` (0 .. kScratchSlots-1) of a step, sized rows x cols. It keeps its
  // storage from step to step (a resize to the same size does not allocate), so a step loop
  // allocates only at its first step; contents are not preserved across steps.
  static constexpr int kScratchSlots = 4;
  Matrix& scratch(int slot, Eigen::Index rows, Eigen::Index cols) {
    Matrix& m = scratch_[static_cast<std::size_t>(slot)];
    m.resize(rows, cols);
    return m;
  }

 private:
  std::array<Matrix, kScratchSlots> scratch_;
};

struct StepContext {
  const TimeGrid& grid;
  int t;              // the step maps level t to level t - 1
  bool final_step;    // true for the last step of the run (some samplers drop noise there)
  int total_steps;    // number of steps in this run
};

// A deterministic one-evaluation Markov step Y_{t-1} = a Y_t + c s_t(Y_t); its Jacobian is
// a I + c J_t(Y_t), whose determinant costs O(K^2 d + K^3) when J_t is diagonal plus rank K.
struct LinearScoreStep {
  double state_coefficient;  // a
  double score_coefficient;  // c
};

// A Markov stochastic step of the form
//   Y+ = Y_t + N(0, pre_noise_variance I)
//   Y_{t-1} = a Y+ + c s_t(Y+) + N(0, post_noise_variance I)
// (DDPM and the accelerated stochastic variants), which grid-based law propagation uses.
struct StochasticScoreStep {
  double pre_noise_variance;
  double state_coefficient;  // a
  double score_coefficient;  // c
  double post_noise_variance;
};

// The Gaussian law N(mean, covariance) pushed through one StochasticScoreStep when the score is
// affine, s(y) = J y + r:  M = a I + c J,  mean' = M mean + c r,
// covariance' = M (covariance + v_pre I) M^T + v_post I. Returns covariance + v_pre I (the
// law after the pre-noise, for callers that inspect it). Used by exact Gaussian propagation
// and by grid_law's Gaussian surrogate for sizing its box.
inline Matrix push_gaussian_through_step(const StochasticScoreStep& step, const Matrix& score_jacobian,
                                         const Vector& score_offset, Vector& mean, Matrix& covariance) {
  Matrix map = step.score_coefficient * score_jacobian;
  map.diagonal().array() += step.state_coefficient;
  Matrix widened = covariance;
  widened.diagonal().array() += step.pre_noise_variance;
  mean = map * mean + step.score_coefficient * score_offset;
  covariance = map * widened * map.transpose();
  covariance.diagonal().array() += step.post_noise_variance;
  covariance = 0.5 * (covariance + covariance.transpose());
  return widened;
}

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  // Number of d x n standard-normal matrices one step consumes (0 for ODE samplers).
  virtual int noise_injections() const = 0;
  // Score evaluations per step (NFE per step, docs/theory.md §9.2).
  virtual int score_evaluations_per_step() const = 0;
  bool is_deterministic() const { return noise_injections() == 0; }

  // Per-step counts, for samplers whose steps differ (pmm_pc: K Langevin iterations at the
  // first step only; song_pc: no corrector on the final step if asked). Defaults: the
  // per-step counts above. Invariant: 0 <= noise_injections_at(c) <= noise_injections() for
  // every context, and noise_injections() > 0 iff some step consumes noise (it stays the
  // "is stochastic" flag). The run loop fills injection k of step t from the stream
  // (kStepNoise, t, k), k < noise_injections_at(context).
  virtual int noise_injections_at(const StepContext&) const { return noise_injections(); }
  virtual int score_evaluations_at(const StepContext&) const { return score_evaluations_per_step(); }

  // Whether every step is affine in (Y, noise) whenever the score is affine in x. False for
  // steps with data-dependent step sizes or clipping (song_pc's SNR rule, pmm_pc's score
  // truncation); exact Gaussian law propagation (estimators/gaussian_law) needs true.
  virtual bool is_affine_for_affine_score() const { return true; }

  // The step as a LinearScoreStep when it has that form (ode_euler, ddim); std::nullopt for
  // multistep, multi-evaluation and stochastic samplers.
  virtual std::optional<LinearScoreStep> linear_score_step(const StepContext&) const { return std::nullopt; }

  // The step as a StochasticScoreStep when it has that form; std::nullopt otherwise.
  virtual std::optional<StochasticScoreStep> stochastic_score_step(const StepContext&) const {
    return std::nullopt;
  }

  // The step as a sequence of StochasticScoreSteps applied in order, every one evaluating the
  // score at level t (pmm_pc: K Langevin iterations Y <- Y + gamma s_T(Y) + N(0, 2 gamma I),
  // then the DDIM step, at t = T). Empty when the step has no such form. Default: the
  // stochastic_score_step, else the linear_score_step as a noiseless one, else empty.
  virtual std::vector<StochasticScoreStep> stochastic_score_substeps(const StepContext& context) const {
    if (const auto step = stochastic_score_step(context)) return {*step};
    if (const auto step = linear_score_step(context))
      return {StochasticScoreStep{0.0, step->state_coefficient, step->score_coefficient, 0.0}};
    return {};
  }

  // Precondition: 1 <= context.t <= grid.steps(); noise.size() >= noise_injections_at(context)
  // (only the first noise_injections_at(context) are read), each shaped like x. x holds Y_t on entry and Y_{t-1} on return.
  virtual void step(const StepContext& context, const ScoreModel& score,
                    std::span<const Matrix> noise, Matrix& x, SamplerState& state) const = 0;
};

}  // namespace dmconv
