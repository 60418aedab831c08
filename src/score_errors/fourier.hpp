// Smooth random score error: a sum of M random Fourier features, whose L2 size and Jacobian
// size are set independently by the amplitude a and the frequency omega.
//
//   s_t(x)     = s*_t(x) + delta_t(x)
//   delta_t(x) = a w(t) sqrt(2/M) sum_{m=1..M} u_m sin(omega <v_m, x> + phi_m)
//   J_delta(x) = a w(t) omega sqrt(2/M) sum_{m=1..M} cos(omega <v_m, x> + phi_m) u_m v_m^T
//
// u_m, v_m unit vectors of R^d, phi_m in [0, 2 pi), w the time profile (time_profile.hpp).
// Sizes: averaged over independent uniform phases, E||delta_t(x)||^2 = a^2 w^2 at every x, so
// eps_score ~ a; for M = 1 ||J_delta|| = a w omega sqrt(2) |cos(.)|, whose phase average is
// a w omega 2 sqrt(2)/pi ~ 0.90 a w omega, so eps_Jacobi ~ a omega. The realised values under
// p_t differ (the phase omega <v, X_t> is not uniform when omega sd(X_t) is small) and are
// measured by realised_error.hpp.
//
// Source: the score-error issue; docs/theory.md §6.6 (pert.py adds
// eps sqrt(2) sin(omega x + 0.3) in 1-D, which is this model with M = 1, a = eps,
// direction = [1], phase = 0.3 and the uniform profile). sin rather than cos so that "phase"
// means the same as in §6.6; with random phases the two are the same law.
//
// The field is the same at every noise level (only w(t) varies): directions and phases are
// drawn once, from the Philox key (seed, 0), stream purpose kScoreErrorField, particle m:
// u_m = z/|z| with z ~ N(0, I_d) from sub-stream 0, v_m likewise from sub-stream 1,
// phi_m = 2 pi U from sub-stream 2. A level-independent field keeps delta_t a function of the
// NoiseLevel alone (multi-evaluation samplers evaluate between grid points) and matches §6.6.
// Parameters "phase" (every phi_m = phase) and "direction" (every u_m = v_m = direction/|direction|)
// replace the random draws.
//
// Arithmetic: every column is computed by the same fixed-order loops (the products V^T x and
// U sin(.) written out), with sin and cos from SLEEF on eight columns at a time (1 ulp; a lane's
// value does not depend on the other seven), so results are bitwise independent of the batch and
// thread count.
// The Jacobian is not symmetric, so no structured form is offered; log-determinants factor
// a I + c (J* + J_delta) densely (LU) per particle, with J* from the target's batched
// score_jacobian_apply.
#pragma once
#include <cstdint>
#include <optional>

#include "core/score_model.hpp"
#include "score_errors/time_profile.hpp"

namespace dmconv::score_errors {

// The random part of the model: M features in R^d.
struct FourierField {
  Matrix output_directions;  // d x M: u_m (unit columns)
  Matrix input_directions;   // d x M: v_m (unit columns)
  Vector phases;             // M: phi_m

  int features() const { return static_cast<int>(phases.size()); }
  // The draws described in the file comment; `phase` / `direction` replace the random ones.
  // Preconditions (checked): dim >= 1, features >= 1; direction (if given) of length dim,
  // non-zero and finite; phase (if given) finite.
  static FourierField draw(int dim, int features, std::uint64_t seed, std::optional<double> phase = std::nullopt,
                           const std::optional<Vector>& direction = std::nullopt);
};

class FourierScore final : public ScoreModel {
 public:
  // Preconditions (checked): a >= 0 and omega >= 0 finite; field of dimension target.dim().
  FourierScore(const Target& target, double a, double omega, FourierField field, TimeProfile profile);

  int dim() const override { return target_.dim(); }
  // delta is constant in x (hence s_t affine iff s*_t is) when a = 0 or omega = 0.
  bool is_affine() const override { return target_.score_is_affine() && (amplitude_ == 0.0 || omega_ == 0.0); }
  bool has_jacobian() const override { return true; }
  void jacobian(const NoiseLevel& level, ConstVectorRef x, MatrixRef out) const override;
  void jacobian_apply(const NoiseLevel& level, ConstMatrixRef x, ConstMatrixRef v, MatrixRef out) const override;
  void log_abs_det_linear_step(const NoiseLevel& level, ConstMatrixRef x, double a, double c,
                               VectorRef out) const override;

  double amplitude() const { return amplitude_; }
  double omega() const { return omega_; }
  const FourierField& field() const { return field_; }
  const TimeProfile& profile() const { return profile_; }

 protected:
  void compute(const NoiseLevel& level, ConstMatrixRef x, MatrixRef out) const override;

 private:
  // a w(t) sqrt(2/M)
  double coefficient(const NoiseLevel& level) const;
  enum class Wave { kSine, kCosine };
  // sin or cos of omega <v_m, x_j> + phi_m for the columns j = first .. first + count - 1 of x
  // (count <= simd::kLanes), at out[m kLanes + (j - first)]; lanes past count repeat the last
  // column. Eight columns share each simd::sin8 / cos8 call; a lane's value depends on its x_j alone.
  void waves(ConstMatrixRef x, Eigen::Index first, Eigen::Index count, Wave wave, double* out) const;
  // each_column(j, values) for every column j of x in order, values[m kLanes] = the wave of
  // feature m at x_j (eight columns per waves() call, into a per-thread buffer).
  template <class EachColumn>
  void for_each_column_wave(ConstMatrixRef x, Wave wave, const EachColumn& each_column) const;

  const Target& target_;
  double amplitude_;
  double omega_;
  FourierField field_;
  TimeProfile profile_;
};

}  // namespace dmconv::score_errors
