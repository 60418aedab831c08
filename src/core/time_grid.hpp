// A time grid: the decreasing sequence of noise levels a sampler walks through.
//
//   index t = 0, 1, ..., T;   level(0) = data (abar_0 = 1),  abar_0 > abar_1 > ... > abar_T > 0
//   alpha_t = abar_t / abar_{t-1},   beta_t = 1 - alpha_t       (t = 1..T)
//
// With a respaced grid "t-1" is the neighbouring grid point and alpha_t is the ratio above
// (docs/theory.md §4, shared conventions). Samplers see only grid levels, never a schedule formula.
// The reverse loop runs t = T..2 and outputs Y_1 at level(1); the step t = 1 to the data
// level is optional (docs/theory.md §2, "Where the error is measured").
#pragma once
#include <string>
#include <vector>

#include "core/noise_level.hpp"

namespace dmconv {

class TimeGrid {
 public:
  // From beta_1..beta_T, each in (0, 1). abar_t = exp(sum_k log1p(-beta_k)) and
  // 1 - abar_t = -expm1(sum_k log1p(-beta_k)), so both keep full relative precision.
  static TimeGrid from_betas(const std::vector<double>& betas, std::string name = "");

  // From the levels abar_1 > ... > abar_T (the data level is prepended). beta_t is computed
  // as -expm1(log abar_t - log abar_{t-1}), which is accurate when the logs are.
  static TimeGrid from_levels(const std::vector<NoiseLevel>& levels_1_to_T, std::string name = "");

  // Number of steps T (the grid holds T + 1 levels).
  int steps() const { return static_cast<int>(levels_.size()) - 1; }
  const NoiseLevel& level(int t) const { return levels_.at(static_cast<std::size_t>(t)); }
  double abar(int t) const { return level(t).abar(); }
  double one_minus_abar(int t) const { return level(t).one_minus_abar(); }
  // beta_t = 1 - abar_t/abar_{t-1}, for t = 1..T.
  double beta(int t) const { return betas_.at(static_cast<std::size_t>(t)); }
  double alpha(int t) const { return 1.0 - beta(t); }
  const std::string& name() const { return name_; }

 private:
  TimeGrid(std::vector<NoiseLevel> levels, std::vector<double> betas, std::string name);
  std::vector<NoiseLevel> levels_;  // size T + 1, levels_[0] = data
  std::vector<double> betas_;       // size T + 1, betas_[0] unused (NaN)
  std::string name_;
};

}  // namespace dmconv
