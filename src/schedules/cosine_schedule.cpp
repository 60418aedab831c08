#include "schedules/cosine_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {

CosineSchedule::CosineSchedule(double offset, double max_beta) : offset_(offset), max_beta_(max_beta) {
  const std::string component = "schedule 'cosine'";
  if (!(offset >= 0.0 && std::isfinite(offset)))
    throw ParameterError(component, "s", shortest(offset), "must be >= 0 and finite");
  if (!(max_beta > 0.0 && max_beta < 1.0))
    throw ParameterError(component, "max_beta", shortest(max_beta), "must lie in (0, 1)");
}

std::string CosineSchedule::describe() const {
  std::ostringstream out;
  out << "s=" << offset_ << ", max_beta=" << max_beta_;
  return out.str();
}

TimeGrid CosineSchedule::grid(int steps) const {
  require(steps >= 2, "cosine schedule: T = " + std::to_string(steps) + " must be >= 2");
  const auto angle = [&](int t) {
    return (static_cast<double>(t) / steps + offset_) / (1.0 + offset_) * std::numbers::pi / 2.0;
  };
  std::vector<double> betas;
  for (int t = 1; t <= steps; ++t) {
    const double x_prev = angle(t - 1);
    const double x = angle(t);
    const double cos_prev = std::cos(x_prev);
    const double beta = std::sin(x - x_prev) * std::sin(x + x_prev) / (cos_prev * cos_prev);
    betas.push_back(std::min(beta, max_beta_));
  }
  return TimeGrid::from_betas(betas, "cosine(" + describe() + ")");
}

}  // namespace dmconv
