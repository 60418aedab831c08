// Constant bias (docs/theory.md §3: an L2 score error with zero Jacobian error):
//
//   s_t(x) = s*_t(x) + a w(t) u,        J_{s_t} = J*_t,
//
// u a unit vector (parameter "direction", normalised; default e_1), a >= 0, w the time profile
// (time_profile.hpp). Hence ||s_t - s*_t|| = a w(t) at every x, and the realised errors are
// eps_score = a sqrt((1/T) sum_t w(t)^2) (= a for the uniform profile) and eps_Jacobi = 0.
// Source: the score-error issue; docs/theory.md §5.1 (DDPM needs only L2 accuracy) vs §5.2 (the ODE
// bound has a separate eps_Jacobi term, which this model leaves at zero).
//
// The shift does not change the Jacobian, so is_affine(), the structured Jacobian and the
// log-determinants are the target's.
#pragma once
#include "core/score_model.hpp"
#include "score_errors/time_profile.hpp"

namespace dmconv::score_errors {

class ConstantBiasScore final : public ScoreModel {
 public:
  // Preconditions (checked): a >= 0 finite; direction.size() == target.dim(), non-zero, finite.
  ConstantBiasScore(const Target& target, double a, const Vector& direction, TimeProfile profile);

  int dim() const override { return target_.dim(); }
  bool is_affine() const override { return target_.score_is_affine(); }
  bool has_jacobian() const override { return true; }
  std::optional<DiagonalPlusLowRank> jacobian_structured(const NoiseLevel& level, ConstVectorRef x) const override {
    return target_.score_jacobian_structured(level, x);
  }
  void jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override {
    target_.score_jacobian(level, x, out);
  }
  void jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef out) const override {
    target_.score_jacobian_apply(level, x, v, out);
  }
  void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                               VectorRef out) const override {
    target_.log_abs_det_linear_step(level, x, a, c, out);
  }

  double amplitude() const { return amplitude_; }
  const Vector& direction() const { return direction_; }  // unit
  const TimeProfile& profile() const { return profile_; }
  // delta_t (the same at every x).
  Vector bias(const NoiseLevel& level) const { return (amplitude_ * profile_.weight(level)) * direction_; }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override;

 private:
  const Target& target_;
  double amplitude_;
  Vector direction_;
  TimeProfile profile_;
};

}  // namespace dmconv::score_errors
