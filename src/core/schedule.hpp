// A noise schedule: a rule that produces a time grid for any number of steps T.
#pragma once
#include <string>

#include "core/registry.hpp"
#include "core/time_grid.hpp"

namespace dmconv {

class Schedule {
 public:
  virtual ~Schedule() = default;
  virtual std::string name() const = 0;
  // Parameters in a compact form, e.g. "c0=2, c1=6".
  virtual std::string describe() const = 0;
  // The grid with T steps. Throws InvalidArgument when T is outside the schedule's domain.
  virtual TimeGrid grid(int steps) const = 0;
};

const Registry<Schedule>& schedule_registry();

}  // namespace dmconv
