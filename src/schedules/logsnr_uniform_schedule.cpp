#include "schedules/logsnr_uniform_schedule.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {

LogSnrUniformSchedule::LogSnrUniformSchedule(double first_one_minus_abar, double last_abar)
    : first_one_minus_abar_(first_one_minus_abar), last_abar_(last_abar) {
  const std::string component = "schedule 'logsnr_uniform'";
  if (!(first_one_minus_abar > 0.0 && first_one_minus_abar < 1.0))
    throw ParameterError(component, "first_one_minus_abar", shortest(first_one_minus_abar), "must lie in (0, 1)");
  if (!(last_abar > 0.0 && last_abar < 1.0))
    throw ParameterError(component, "last_abar", shortest(last_abar), "must lie in (0, 1)");
  lambda_first_ = NoiseLevel::from_one_minus_abar(first_one_minus_abar).lambda();
  lambda_last_ = NoiseLevel::from_abar(last_abar).lambda();
  if (!(lambda_first_ > lambda_last_))
    throw ParameterError(component, "first_one_minus_abar", shortest(first_one_minus_abar),
                         "the first level (1-abar_1 = " + shortest(first_one_minus_abar) +
                             ") must be less noisy than the last (abar_T = " + shortest(last_abar) + ")");
}

std::string LogSnrUniformSchedule::describe() const {
  std::ostringstream out;
  out << "first_one_minus_abar=" << first_one_minus_abar_ << ", last_abar=" << last_abar_;
  return out.str();
}

TimeGrid LogSnrUniformSchedule::grid(int steps) const {
  require(steps >= 2, "logsnr_uniform schedule: T = " + std::to_string(steps) + " must be >= 2");
  std::vector<NoiseLevel> levels;
  const double span = lambda_first_ - lambda_last_;
  for (int t = 1; t <= steps; ++t) {
    // Endpoints exactly; interior points by the same affine formula.
    const double lambda = t == 1 ? lambda_first_
                          : t == steps ? lambda_last_
                                       : lambda_first_ - span * (t - 1) / (steps - 1);
    levels.push_back(NoiseLevel::from_lambda(lambda));
  }
  // The endpoints as given, to full precision (from_lambda rounds them once more).
  levels.front() = NoiseLevel::from_one_minus_abar(first_one_minus_abar_);
  levels.back() = NoiseLevel::from_abar(last_abar_);
  return TimeGrid::from_levels(levels, "logsnr_uniform(" + describe() + ")");
}

}  // namespace dmconv
