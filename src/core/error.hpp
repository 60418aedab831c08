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

// A parameter of a registered component (target, schedule, sampler, estimator, score error)
// violates its declaration or a rule that relates it to other parameters. Structured so that the
// config layer can point at the key's FILE:LINE without reading the message text. `key` is the
// parameter blamed ("" when no single key is at fault); `value` is quoted as written.
class ParameterError : public InvalidArgument {
 public:
  ParameterError(std::string component, std::string key, std::string value, std::string rule)
      : InvalidArgument(component + ": " + (key.empty() ? std::string() : key + " = " + value + ": ") + rule),
        component_(std::move(component)),
        key_(std::move(key)),
        value_(std::move(value)),
        rule_(std::move(rule)) {}
  const std::string& component() const { return component_; }
  const std::string& key() const { return key_; }
  const std::string& value() const { return value_; }
  const std::string& rule() const { return rule_; }

 private:
  std::string component_, key_, value_, rule_;
};

// Throws InvalidArgument(message) unless `condition` holds.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw InvalidArgument(message);
}

}  // namespace dmconv
