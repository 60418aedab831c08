// The step-size schedule of the convergence theory. Source: Li & Yan, arXiv 2409.18959,
// eq. (2.3) (also used by arXiv 2306.09251 and 2408.02320); docs/theory.md §2.
//
//   beta_1     = T^{-c0}
//   beta_{t+1} = (c1 log T / T) * min{ beta_1 (1 + c1 log T / T)^t , 1 },   t = 1..T-1
//
// Properties (2409.18959 Lemma 7): alpha_t >= 1 - c1 log T/T >= 1/2;
// (1-alpha_t)/(1-abar_t) <= 8 c1 log T/T for t >= 2; abar_T <= T^{-c1/2}.
// Phase 1 (t < t* ~ (c0/c1) T) is log-uniform in noise level, phase 2 uniform in OU time.
//
// Preconditions: c0 > 0, c1 > c0 (phase 2 exists), T >= 2 and c1 log T / T < 1.
#pragma once
#include "core/schedule.hpp"

namespace dmconv {

class TheorySchedule final : public Schedule {
 public:
  TheorySchedule(double c0, double c1);
  std::string name() const override { return "theory"; }
  std::string describe() const override;
  TimeGrid grid(int steps) const override;
  // The betas beta_1..beta_T of (2.3), exactly as defined (no grid rounding).
  std::vector<double> betas(int steps) const;
  double c0() const { return c0_; }
  double c1() const { return c1_; }

 private:
  double c0_;
  double c1_;
};

}  // namespace dmconv
