// Errors. Invalid input is reported before any work starts, with the violated rule named.
#pragma once
#include <stdexcept>
#include <string>

namespace dmconv {

// A parameter or option violates a documented precondition. The message names the
// parameter, its value and the rule, e.g. "theory schedule: c1 = 1 must exceed c0 = 2".
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Throws InvalidArgument(message) unless `condition` holds.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw InvalidArgument(message);
}

}  // namespace dmconv
