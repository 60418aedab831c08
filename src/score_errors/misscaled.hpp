// Mis-scaled score: the exact score of the wrong noise level.
//
//   s_t(x) = s*_{t'}(x),      J_{s_t}(x) = J*_{t'}(x),
//
// where the level t' has its noise-to-signal ratio (the VE variance of docs/theory.md §1) scaled by
// `factor` > 0:
//
//   (1 - abar') / abar' = factor (1 - abar) / abar,   i.e.
//   abar' = abar / (abar + factor (1 - abar)),   1 - abar' = factor (1 - abar) / (abar + factor (1 - abar)),
//   sigma'^2 = factor sigma^2 / (1 + (factor - 1) sigma^2)   (= factor sigma^2 to first order at small noise),
//   half-log-SNR lambda' = lambda - (1/2) ln factor.
//
// This is the "sigma'^2 = factor sigma^2" made to map (0, 1) onto (0, 1) without
// clamping: it agrees with sigma'^2 = factor sigma^2 where that is inside (0, 1) to relative
// O(sigma^2), and it stays a valid level (abar' in (0, 1)) at every level and factor. Both
// abar' and 1 - abar' are formed from the stored (abar, 1 - abar) without cancellation.
// factor < 1 under-estimates the noise (a score that is too sharp), factor > 1 over-estimates it.
// Source: the score-error issue (a score trained or evaluated at the wrong noise level; no
// time profile: the error is intrinsically level-dependent).
//
// Everything (structure, log-determinants, is_affine) is the target's at level t'.
#pragma once
#include "core/score_model.hpp"

namespace dmconv::score_errors {

class MisscaledScore final : public ScoreModel {
 public:
  // Precondition (checked): factor > 0 and finite.
  MisscaledScore(const Target& target, double factor);

  // The level whose exact score is used at `level`.
  NoiseLevel misscaled(const NoiseLevel& level) const;
  double factor() const { return factor_; }

  int dim() const override { return target_.dim(); }
  bool is_affine() const override { return target_.score_is_affine(); }
  bool has_jacobian() const override { return true; }
  std::optional<DiagonalPlusLowRank> jacobian_structured(const NoiseLevel& level, ConstVectorRef x) const override {
    return target_.score_jacobian_structured(misscaled(level), x);
  }
  void jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override {
    target_.score_jacobian(misscaled(level), x, out);
  }
  void jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef out) const override {
    target_.score_jacobian_apply(misscaled(level), x, v, out);
  }
  void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                               VectorRef out) const override {
    target_.log_abs_det_linear_step(misscaled(level), x, a, c, out);
  }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override {
    target_.score(misscaled(level), x, out);
  }

 private:
  const Target& target_;
  double factor_;
};

}  // namespace dmconv::score_errors
