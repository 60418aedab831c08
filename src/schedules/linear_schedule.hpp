// The linear schedule of Ho, Jain & Abbeel (2020): beta_k rising linearly from beta_start
// to beta_end over N = base_steps steps, respaced to T steps.
//
//   log abar(k) = sum_{j<=k} log1p(-beta_j),  beta_j = beta_start + (j-1)/(N-1) (beta_end - beta_start)
//   grid level t = 1..T sits at u_t = N t / T; log abar(u) is interpolated linearly between
//   integer k, so for T dividing N the grid is an exact sub-sampling (T = N: the original).
//
// Preconditions: 0 < beta_start <= beta_end < 1, base_steps >= 2, T >= 2.
#pragma once
#include "core/schedule.hpp"

namespace dmconv {

class LinearSchedule final : public Schedule {
 public:
  LinearSchedule(double beta_start, double beta_end, int base_steps);
  std::string name() const override { return "linear"; }
  std::string describe() const override;
  TimeGrid grid(int steps) const override;

 private:
  double beta_start_;
  double beta_end_;
  int base_steps_;
  std::vector<double> log_abar_;  // log abar(k), k = 0..N
};

}  // namespace dmconv
