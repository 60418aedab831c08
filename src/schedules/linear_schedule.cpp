#include "schedules/linear_schedule.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {

LinearSchedule::LinearSchedule(double beta_start, double beta_end, int base_steps)
    : beta_start_(beta_start), beta_end_(beta_end), base_steps_(base_steps) {
  const std::string component = "schedule 'linear'";
  const std::string rule = "must satisfy 0 < beta_start <= beta_end < 1";
  if (!(beta_start > 0.0 && beta_start <= beta_end))
    throw ParameterError(component, "beta_start", shortest(beta_start), rule + " (beta_end = " + shortest(beta_end) + ")");
  if (!(beta_end < 1.0))
    throw ParameterError(component, "beta_end", shortest(beta_end), rule + " (beta_start = " + shortest(beta_start) + ")");
  if (base_steps < 2) throw ParameterError(component, "base_steps", std::to_string(base_steps), "must be >= 2");
  log_abar_.push_back(0.0);
  for (int j = 1; j <= base_steps; ++j) {
    const double beta = beta_start + (beta_end - beta_start) * (j - 1) / (base_steps - 1);
    log_abar_.push_back(log_abar_.back() + std::log1p(-beta));
  }
}

std::string LinearSchedule::describe() const {
  std::ostringstream out;
  out << "beta_start=" << beta_start_ << ", beta_end=" << beta_end_ << ", base_steps=" << base_steps_;
  return out.str();
}

TimeGrid LinearSchedule::grid(int steps) const {
  require(steps >= 2, "linear schedule: T = " + std::to_string(steps) + " must be >= 2");
  std::vector<NoiseLevel> levels;
  for (int t = 1; t <= steps; ++t) {
    // u = N t / T as an exact rational: integer part k, fraction r / T.
    const long numerator = static_cast<long>(base_steps_) * t;
    const long k = numerator / steps;
    const long remainder = numerator % steps;
    double log_abar = log_abar_[static_cast<std::size_t>(k)];
    if (remainder != 0) {
      const double fraction = static_cast<double>(remainder) / steps;
      log_abar += fraction * (log_abar_[static_cast<std::size_t>(k + 1)] - log_abar_[static_cast<std::size_t>(k)]);
    }
    levels.push_back(NoiseLevel::from_log_abar(log_abar));
  }
  return TimeGrid::from_levels(levels, "linear(" + describe() + ")");
}

}  // namespace dmconv
