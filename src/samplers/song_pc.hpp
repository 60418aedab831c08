// Predictor-corrector sampler of Song, Sohl-Dickstein, Kingma, Kumar, Ermon, Poole,
// "Score-based generative modeling through stochastic differential equations", ICLR 2021:
// the PC sampling loop (predictor, then M corrector steps at the new level) with the VP
// Langevin corrector of its Algorithm 5 (signal-to-noise step rule). A baseline for pmm_pc
// (docs/theory.md §4.6). Algorithm numbers as in the paper's appendix; equation numbers were not
// re-checked here [UNVERIFIED].
//
// Per step t -> t-1 of the grid:
//   predictor:  Y <- P_t(Y)   with P = "ddpm" (the analysed DDPM rule, docs/theory.md §4.1 (2.4):
//               (Y + beta s + sqrt(beta) z)/sqrt(alpha)), "ddpm_noise_outside" (the paper's
//               ancestral-sampling predictor for VP and the score_sde code's
//               AncestralSamplingPredictor: (Y + beta s)/sqrt(alpha) + sqrt(beta) z, no noise on
//               the step to the data level), "ddim" (exponential integrator, §4.2b) or
//               "reverse_diffusion" (the paper's reverse-diffusion predictor,
//               (2 - sqrt(alpha)) Y + beta s + sqrt(beta) z, samplers/reverse_diffusion.hpp);
//   corrector:  M Langevin steps at the NEW level t-1 (Algorithm 5, VP):
//                 z ~ N(0, I),  g = s_{t-1}(Y),
//                 eps = 2 alpha (r |z| / |g|)^2,
//                 Y <- Y + eps g + sqrt(2 eps) z,
//               where |z|, |g| are the Euclidean norms of THIS particle's vectors (per
//               particle, as printed in Algorithm 5). The official code (score_sde
//               `LangevinCorrector`) instead averages both norms over the batch, which couples
//               the particles and would break block-size independence; dmconv deliberately keeps the per-particle form.
//               alpha = alpha_t = 1 - beta_t = abar_t / abar_{t-1} of the step t -> t-1 (it is
//               defined for every step, including t-1 = 0). Algorithm 5 indexes alpha by the
//               corrector's level, alpha_{t-1}; the two differ by O(beta variation), and the
//               factor is a heuristic scale close to 1 either way.
//   Optional fixed step (corrector_step = eps0 > 0): eps = eps0 at every corrector step, no
//   SNR rule. Then every step is affine in Y plus Gaussian noise on a Gaussian target (used
//   by the exact-moment tests; not part of the paper's algorithm).
//   skip_final_corrector = 1 drops the corrector on the run's last step (needed when the
//   last step ends at the data level and the target has no density there).
//
// Noise per step: 1 (ddpm predictors) or 0 (ddim), followed by M corrector matrices; on the
// final step with skip_final_corrector only the predictor's. NFE per step: 1 + M (1 on a
// skipped final corrector). If |g| = 0 the SNR rule is undefined (eps = inf) and the particle
// becomes non-finite, which run_sampler reports.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "core/sampler.hpp"

namespace dmconv::samplers {

class SongPredictorCorrector final : public Sampler {
 public:
  struct Options {
    std::string predictor = "ddpm";  // "ddpm", "ddpm_noise_outside", "ddim" or "reverse_diffusion"
    std::int64_t corrector_steps = 1;  // M >= 0 (Song et al. use M = 1 for VP)
    double snr = 0.16;               // r > 0 (the paper's VP default)
    double corrector_step = 0.0;     // eps0 >= 0; > 0 replaces the SNR rule by eps = eps0
    bool skip_final_corrector = false;
  };
  // 1 + M noise sub-streams per step must fit the 16-bit stream sub-index (core/rng.hpp).
  static constexpr long kMaxCorrectorSteps = 65535;

  // Throws InvalidArgument naming the key, the value and the rule when an option is invalid.
  explicit SongPredictorCorrector(Options options);

  std::string name() const override { return "song_pc"; }
  int noise_injections() const override { return predictor_noise_ + corrector_steps_; }
  int score_evaluations_per_step() const override { return 1 + corrector_steps_; }
  int noise_injections_at(const StepContext& context) const override {
    return predictor_noise_ + (runs_corrector(context) ? corrector_steps_ : 0);
  }
  int score_evaluations_at(const StepContext& context) const override {
    return predictor_->score_evaluations_at(context) + (runs_corrector(context) ? corrector_steps_ : 0);
  }

  // The SNR rule's eps depends on |z| and |s|: not affine (the fixed step is).
  bool is_affine_for_affine_score() const override {
    return corrector_steps_ == 0 || options_.corrector_step > 0.0;
  }

  // Precondition: as Sampler::step; the score model is defined at level t-1 when the
  // corrector runs there.
  void step(const StepContext& context, const ScoreModel& score, std::span<const Matrix> noise, Matrix& x,
            SamplerState& state) const override;

  const Options& options() const { return options_; }

 private:
  bool runs_corrector(const StepContext& context) const {
    return !(options_.skip_final_corrector && context.final_step);
  }
  Options options_;
  int corrector_steps_ = 0;
  int predictor_noise_ = 0;
  std::unique_ptr<Sampler> predictor_;
};

}  // namespace dmconv::samplers
