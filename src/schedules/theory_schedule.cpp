#include "schedules/theory_schedule.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {

TheorySchedule::TheorySchedule(double c0, double c1) : c0_(c0), c1_(c1) {
  const std::string component = "schedule 'theory'";
  if (!(std::isfinite(c0) && c0 > 0.0)) throw ParameterError(component, "c0", shortest(c0), "must be positive");
  if (!(std::isfinite(c1) && c1 > c0))
    throw ParameterError(component, "c1", shortest(c1),
                         "must exceed c0 = " + shortest(c0) +
                             " (otherwise phase 2, the constant-beta phase, never starts)");
}

std::string TheorySchedule::describe() const {
  std::ostringstream out;
  out << "c0=" << c0_ << ", c1=" << c1_;
  return out.str();
}

std::vector<double> TheorySchedule::betas(int steps) const {
  const double T = steps;
  const double h = c1_ * std::log(T) / T;
  if (steps < 2 || !(h < 1.0)) {
    std::ostringstream message;
    message << "theory schedule (" << describe() << "): T = " << steps
            << " is too small; need T >= 2 and c1 log T / T < 1 (here " << h << ")";
    throw InvalidArgument(message.str());
  }
  const double beta1 = std::pow(T, -c0_);
  const double log_growth = std::log1p(h);
  std::vector<double> betas{beta1};
  for (int t = 1; t < steps; ++t) {
    betas.push_back(h * std::min(beta1 * std::exp(t * log_growth), 1.0));
  }
  return betas;
}

TimeGrid TheorySchedule::grid(int steps) const {
  return TimeGrid::from_betas(betas(steps), "theory(" + describe() + ")");
}

}  // namespace dmconv
