// Uniform in half-log-SNR lambda = (1/2) ln(abar/(1-abar)) between two fixed levels
// (the grid of DPM-Solver, Lu et al. 2022, "logSNR" skip type; docs/theory.md §1 notation):
//
//   lambda_t = lambda_1 - (t-1)/(T-1) (lambda_1 - lambda_T),   t = 1..T,
//   lambda_1 = (1/2) ln((1-s1)/s1),  s1 = 1 - abar_1 (`first_one_minus_abar`),
//   lambda_T = (1/2) ln(aT/(1-aT)),  aT = abar_T (`last_abar`).
//
// Both endpoints are fixed, so X_1 (the comparison level) is the same for every T, which
// makes sweeps in T compare against one law. Preconditions: 0 < s1, 0 < aT, and
// abar_1 > abar_T; T >= 2.
#pragma once
#include "core/schedule.hpp"

namespace dmconv {

class LogSnrUniformSchedule final : public Schedule {
 public:
  LogSnrUniformSchedule(double first_one_minus_abar, double last_abar);
  std::string name() const override { return "logsnr_uniform"; }
  std::string describe() const override;
  TimeGrid grid(int steps) const override;

 private:
  double lambda_first_;
  double lambda_last_;
  double first_one_minus_abar_;
  double last_abar_;
};

}  // namespace dmconv
