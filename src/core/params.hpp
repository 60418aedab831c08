// Parameters of registered components (targets, schedules, samplers), as read from a config.
//
// A ParamValue is a number, a string, or a list of ParamValues, which is what a TOML value
// reduces to. Typed accessors check the shape and report the key, the value and the rule
// broken; `context` (e.g. "target 'gaussian_mixture'") prefixes every message.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/types.hpp"

namespace dmconv {

class ParamValue {
 public:
  using List = std::vector<ParamValue>;
  ParamValue(double number) : value_(number) {}
  ParamValue(int number) : value_(static_cast<double>(number)) {}
  ParamValue(std::string text) : value_(std::move(text)) {}
  ParamValue(const char* text) : value_(std::string(text)) {}
  ParamValue(List list) : value_(std::move(list)) {}
  ParamValue(const std::vector<double>& numbers);
  ParamValue(const Matrix& matrix);  // list of rows

  bool is_number() const { return std::holds_alternative<double>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_list() const { return std::holds_alternative<List>(value_); }
  double number() const { return std::get<double>(value_); }
  const std::string& string() const { return std::get<std::string>(value_); }
  const List& list() const { return std::get<List>(value_); }
  // Compact text form, used in error messages and by `dmconv list`.
  std::string to_string() const;

 private:
  std::variant<double, std::string, List> value_;
};

class ParamTable {
 public:
  ParamTable() = default;
  ParamTable(std::initializer_list<std::pair<const std::string, ParamValue>> entries)
      : values_(entries) {}

  void set(const std::string& key, ParamValue value) { values_.insert_or_assign(key, std::move(value)); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, ParamValue>& entries() const { return values_; }

  // Typed getters. Each throws InvalidArgument naming `context`, the key, the value and the
  // rule when the key is absent (no fallback given) or the value has the wrong shape.
  double number(const std::string& context, const std::string& key,
                std::optional<double> fallback = std::nullopt) const;
  long integer(const std::string& context, const std::string& key,
               std::optional<long> fallback = std::nullopt) const;
  std::string string(const std::string& context, const std::string& key,
                     std::optional<std::string> fallback = std::nullopt) const;
  Vector vector(const std::string& context, const std::string& key) const;
  Matrix matrix(const std::string& context, const std::string& key) const;  // list of rows
  std::vector<Matrix> matrices(const std::string& context, const std::string& key) const;

  // Throws unless every key is in `allowed`; the message lists the allowed keys.
  void require_only(const std::string& context, const std::set<std::string>& allowed) const;

 private:
  const ParamValue& get(const std::string& context, const std::string& key) const;
  std::map<std::string, ParamValue> values_;
};

}  // namespace dmconv
