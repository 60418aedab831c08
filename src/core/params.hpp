// Parameters of registered components (targets, schedules, samplers, estimators, score errors),
// as read from a config, and their declarations.
//
// A ParamValue is a number (a double, or an exact 64-bit integer), a string, or a list of
// ParamValues, which is what a TOML value reduces to. A ParamTable maps keys to values.
//
// A ParamDeclaration (a list of ParamSpec) states, once, every parameter a component accepts:
// name, type, default (absent = required, or optional without a default), allowed range or
// choices, unit and one line of meaning. DeclaredParams reads a ParamTable through a
// declaration: unknown keys, wrong types and values out of range throw ParameterError
// (core/error.hpp) naming the component, the key, the value as written and the rule; absent
// keys take their declared defaults; the component's factory then reads typed values. The same
// declaration is printed by `dmconv describe`, so documentation and checks cannot diverge.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/types.hpp"

namespace dmconv {

class ParamValue {
 public:
  using List = std::vector<ParamValue>;
  ParamValue(double number) : value_(number) {}
  // Exact integers (TOML integers are 64-bit): kept exact, so range checks see the value as
  // written and nothing wraps through a narrower type.
  ParamValue(std::int64_t number) : value_(number) {}
  ParamValue(int number) : value_(static_cast<std::int64_t>(number)) {}
  ParamValue(std::string text) : value_(std::move(text)) {}
  ParamValue(const char* text) : value_(std::string(text)) {}
  ParamValue(List list) : value_(std::move(list)) {}
  ParamValue(const std::vector<double>& numbers);
  ParamValue(const Matrix& matrix);  // list of rows

  // A number is a double or an exact integer; is_integer() is true for the latter only.
  bool is_number() const { return is_integer() || std::holds_alternative<double>(value_); }
  bool is_integer() const { return std::holds_alternative<std::int64_t>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_list() const { return std::holds_alternative<List>(value_); }
  double number() const {
    return is_integer() ? static_cast<double>(std::get<std::int64_t>(value_)) : std::get<double>(value_);
  }
  std::int64_t integer() const { return std::get<std::int64_t>(value_); }
  const std::string& string() const { return std::get<std::string>(value_); }
  const List& list() const { return std::get<List>(value_); }
  // Compact text form (numbers to 6 significant digits, integers as their double would print):
  // run keys and results files are built from it, so its format must not change.
  std::string to_string() const;
  // The value as written: integers exactly, doubles in the shortest form that reads back to the
  // same double, strings quoted. Used in error messages and by `dmconv describe`.
  std::string written() const;
  // The value in TOML syntax (doubles always carry a '.' or an exponent).
  std::string toml() const;

 private:
  std::variant<double, std::int64_t, std::string, List> value_;
};

// The shortest decimal form of x that reads back to x ("0.1", "1e-06", "2", "inf").
std::string shortest(double x);

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
  std::int64_t integer(const std::string& context, const std::string& key,
                       std::optional<std::int64_t> fallback = std::nullopt) const;
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

// ------------------------------------------------------------------------------------------
// Declarations.

enum class ParamType {
  kNumber,    // a finite double
  kInteger,   // an exact std::int64_t (a double is accepted only if it is an exact integer <= 2^53)
  kString,    // any string
  kChoice,    // one of `choices`
  kVector,    // a list of finite numbers
  kMatrix,    // a non-empty list of equally long rows of finite numbers
  kMatrices,  // a non-empty list of matrices
};
std::string to_string(ParamType type);  // "number", "integer", ...

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kNumber;
  std::string meaning;                     // one line
  std::optional<ParamValue> default_value;  // used when the key is absent
  bool may_be_absent = false;  // no default, yet not required (the factory decides what absence means)
  // Bounds on a number or integer, or on every entry of a vector / matrix / list of matrices.
  std::optional<double> min, max;
  bool min_open = false, max_open = false;
  std::vector<std::string> choices;  // kChoice only
  std::string unit;                  // "" when dimensionless or not applicable

  static ParamSpec number(std::string name, std::string meaning);
  static ParamSpec integer(std::string name, std::string meaning);
  static ParamSpec string(std::string name, std::string meaning);
  static ParamSpec choice(std::string name, std::vector<std::string> choices, std::string meaning);
  static ParamSpec vector(std::string name, std::string meaning);
  static ParamSpec matrix(std::string name, std::string meaning);
  static ParamSpec matrices(std::string name, std::string meaning);

  // Builders: each returns a modified copy, so a declaration reads as one expression.
  ParamSpec defaults(ParamValue value) const;
  ParamSpec optional() const;            // may be absent, no default
  ParamSpec above(double bound) const;     // > bound
  ParamSpec at_least(double bound) const;  // >= bound
  ParamSpec below(double bound) const;     // < bound
  ParamSpec at_most(double bound) const;   // <= bound
  ParamSpec in_unit(std::string unit_name) const;

  bool required() const { return !default_value && !may_be_absent; }
  // "> 0", "[1, 16383]", "(0, 1)", "one of \"a\", \"b\"", "" when unrestricted.
  std::string range_text() const;
  // The rule a value broke, e.g. "must be > 0", "must lie in [1, 16383]".
  std::string range_rule() const;
  bool in_range(long double x) const;
};

using ParamDeclaration = std::vector<ParamSpec>;

// A ParamTable read through a declaration. The constructor checks, in this order: unknown keys
// (the first in sorted order; the rule lists the valid keys), then every declared key in
// declaration order (required but missing, type, range or choice), and fills the defaults. Every
// failure is a ParameterError(component, key, value as written, rule).
class DeclaredParams {
 public:
  DeclaredParams(const ParamDeclaration& declaration, const ParamTable& table, std::string component);

  const std::string& component() const { return component_; }
  bool has(const std::string& key) const;    // given, or absent with a default
  bool given(const std::string& key) const;  // present in the table

  // Typed access to a declared key that has a value. Asking for an undeclared key, the wrong
  // type or an absent optional key is a programming error (std::logic_error).
  double number(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  const std::string& string(const std::string& key) const;  // kString and kChoice
  Vector vector(const std::string& key) const;
  Matrix matrix(const std::string& key) const;
  std::vector<Matrix> matrices(const std::string& key) const;
  const ParamValue& value(const std::string& key) const;

  // Throws ParameterError(component, key, the key's value as written or "(missing)", rule).
  [[noreturn]] void fail(const std::string& key, const std::string& rule) const;
  // Exactly one of `keys` must be given; returns it. Blames the second given key, or the first
  // of `keys` when none is.
  std::string exactly_one_of(const std::vector<std::string>& keys) const;
  // ParameterError unless `key` is absent (it does not apply; `why` says when it does).
  void forbid(const std::string& key, const std::string& why) const;
  // ParameterError unless `key` is given (`why`: when it is needed).
  void need(const std::string& key, const std::string& why) const;
  // Runs `construct`; an InvalidArgument it throws (a component's own precondition check) that
  // is not already a ParameterError becomes ParameterError blaming `key`.
  template <class Construct>
  auto blame(const std::string& key, Construct&& construct) const -> decltype(construct()) {
    try {
      return construct();
    } catch (const ParameterError&) {
      throw;
    } catch (const InvalidArgument& error) {
      fail(key, strip_component(error.what()));
    }
  }

 private:
  const ParamSpec& spec(const std::string& key, ParamType expected) const;
  std::string strip_component(const std::string& message) const;
  std::string component_;
  ParamDeclaration declaration_;
  std::map<std::string, ParamValue> values_;  // given values and defaults
  std::set<std::string> given_;
};

// The declaration as a text table: name, type, default, range/choices, unit, meaning.
std::string describe_parameters(const ParamDeclaration& declaration);

// TOML lines `key = value` for a component's table: the example's value when it has one, else
// a commented line with the default (or the meaning of an optional key). Parses and builds.
std::string parameter_lines(const ParamDeclaration& declaration, const ParamTable& example);

}  // namespace dmconv
