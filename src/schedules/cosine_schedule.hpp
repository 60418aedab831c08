// The cosine schedule of Nichol & Dhariwal (2021), "Improved DDPM", eq. (17):
//
//   abar(t) = f(t)/f(0),  f(t) = cos^2( (t/T + s)/(1 + s) * pi/2 ),   s = 0.008,
//   beta_t = min(1 - abar(t)/abar(t-1), max_beta),  max_beta = 0.999.
//
// 1 - abar(t)/abar(t-1) is formed without cancellation as
//   (f(t-1) - f(t))/f(t-1) = sin(x_t - x_{t-1}) sin(x_t + x_{t-1}) / cos^2(x_{t-1}),
// with x_t = (t/T + s)/(1 + s) * pi/2. Preconditions: s >= 0, 0 < max_beta < 1, T >= 2.
#pragma once
#include "core/schedule.hpp"

namespace dmconv {

class CosineSchedule final : public Schedule {
 public:
  CosineSchedule(double offset, double max_beta);
  std::string name() const override { return "cosine"; }
  std::string describe() const override;
  TimeGrid grid(int steps) const override;

 private:
  double offset_;
  double max_beta_;
};

}  // namespace dmconv
