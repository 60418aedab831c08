// Time profiles of score errors: delta_t = w(level) delta, with w a function of the noise level
// alone (never of the grid index), so a model is the same function at every grid, at every T
// and at the intermediate levels of multi-evaluation samplers (DPM-Solver-2 midpoints).
// Source: the score-error issue ("the same error at every level, concentrated at small noise,
// or at large noise"); the shapes below are definitions of this module, not theory claims.
//
//   profile = "uniform"      w = 1
//   profile = "small_noise"  w = exp(-(1 - abar) / width)    w -> 1 at the data end (1 - abar -> 0),
//                                                            w = e^{-1/width} at pure noise
//   profile = "large_noise"  w = exp(-abar / width)          w -> 1 at pure noise (abar -> 0),
//                                                            w = e^{-1/width} at the data end
//   width  > 0, default 0.1 (only with small_noise / large_noise)
//
// w <= 1 everywhere with supremum 1, so the model's amplitude `a` is the peak error; the
// grid-averaged error a sampler sees depends on the schedule and is measured by
// realised_error.hpp. With the theory schedule (c0 = 2, c1 = 6) small_noise weighs the
// log-uniform phase 1 (1 - abar from T^-2 up to ~width), large_noise the tail of phase 2.
#pragma once
#include <set>
#include <string>

#include "core/noise_level.hpp"
#include "core/params.hpp"

namespace dmconv::score_errors {

class TimeProfile {
 public:
  enum class Kind { kUniform, kSmallNoise, kLargeNoise };

  // Preconditions (checked, ParameterError naming `context`, key, value and rule):
  // width > 0 and finite.
  TimeProfile(Kind kind, double width, const std::string& context);
  static TimeProfile uniform() { return TimeProfile(Kind::kUniform, 1.0, "time profile"); }

  // The declared parameters "profile" (default "uniform") and "width" (default 0.1; only with
  // small_noise / large_noise), appended to a score error's own declaration.
  static ParamDeclaration params();
  // Reads them; a width given with profile "uniform" is a ParameterError.
  static TimeProfile from_params(const DeclaredParams& params);

  double weight(const NoiseLevel& level) const;
  Kind kind() const { return kind_; }
  double width() const { return width_; }
  // "uniform", "small_noise(width=0.1)", ...
  std::string describe() const;

 private:
  Kind kind_;
  double width_;
};

}  // namespace dmconv::score_errors
