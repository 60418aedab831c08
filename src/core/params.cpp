#include "core/params.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "core/error.hpp"

namespace dmconv {
namespace {

[[noreturn]] void fail(const std::string& context, const std::string& key, const ParamValue* value,
                       const std::string& rule) {
  std::ostringstream message;
  message << context << ": key '" << key << "'";
  if (value != nullptr) message << " = " << value->written();  // exactly as written (integers beyond 2^53 too)
  message << ": " << rule;
  throw InvalidArgument(message.str());
}

Vector to_vector(const std::string& context, const std::string& key, const ParamValue& value) {
  if (!value.is_list()) fail(context, key, &value, "must be a list of numbers");
  Vector out(static_cast<Eigen::Index>(value.list().size()));
  for (std::size_t i = 0; i < value.list().size(); ++i) {
    const ParamValue& entry = value.list()[i];
    if (!entry.is_number()) fail(context, key, &value, "must be a list of numbers");
    out(static_cast<Eigen::Index>(i)) = entry.number();
  }
  return out;
}

Matrix to_matrix(const std::string& context, const std::string& key, const ParamValue& value) {
  if (!value.is_list() || value.list().empty())
    fail(context, key, &value, "must be a non-empty list of rows (a matrix)");
  const auto& rows = value.list();
  const Vector first = to_vector(context, key, rows.front());
  Matrix out(static_cast<Eigen::Index>(rows.size()), first.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Vector row = to_vector(context, key, rows[i]);
    if (row.size() != first.size())
      fail(context, key, &value, "all rows of the matrix must have the same length");
    out.row(static_cast<Eigen::Index>(i)) = row.transpose();
  }
  return out;
}

}  // namespace

ParamValue::ParamValue(const std::vector<double>& numbers) : value_(List(numbers.begin(), numbers.end())) {}

ParamValue::ParamValue(const Matrix& matrix) : value_(List{}) {
  List rows;
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    List row;
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) row.emplace_back(matrix(i, j));
    rows.emplace_back(std::move(row));
  }
  value_ = std::move(rows);
}

std::string shortest(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, result.ptr);
}

std::string ParamValue::written() const {
  if (is_integer()) return std::to_string(integer());
  if (is_number()) return shortest(number());
  if (is_string()) {
    // Control characters as \uXXXX: a NUL would cut the error message short, a newline split it.
    std::string out = "\"";
    for (const char ch : string()) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x", c);
        out += escape;
      } else {
        out += ch;
      }
    }
    return out + "\"";
  }
  std::string out = "[";
  for (std::size_t i = 0; i < list().size(); ++i) out += (i ? ", " : "") + list()[i].written();
  return out + "]";
}

std::string ParamValue::toml() const {
  if (is_integer()) return std::to_string(integer());
  if (is_number()) {
    std::string text = shortest(number());
    // TOML reads "2" as an integer: keep doubles doubles.
    if (std::isfinite(number()) && text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
  }
  if (is_string()) {
    std::string out = "\"";
    for (char c : string()) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
  }
  std::string out = "[";
  for (std::size_t i = 0; i < list().size(); ++i) out += (i ? ", " : "") + list()[i].toml();
  return out + "]";
}

std::string ParamValue::to_string() const {
  std::ostringstream out;
  if (is_number()) {
    out << number();
  } else if (is_string()) {
    out << '"' << string() << '"';
  } else {
    out << '[';
    for (std::size_t i = 0; i < list().size(); ++i) out << (i ? ", " : "") << list()[i].to_string();
    out << ']';
  }
  return out.str();
}

const ParamValue& ParamTable::get(const std::string& context, const std::string& key) const {
  const auto found = values_.find(key);
  if (found == values_.end()) fail(context, key, nullptr, "is required but missing");
  return found->second;
}

double ParamTable::number(const std::string& context, const std::string& key,
                          std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const ParamValue& value = get(context, key);
  if (!value.is_number()) fail(context, key, &value, "must be a number");
  if (!std::isfinite(value.number())) fail(context, key, &value, "must be finite");
  return value.number();
}

std::int64_t ParamTable::integer(const std::string& context, const std::string& key,
                                 std::optional<std::int64_t> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const ParamValue& value = get(context, key);
  if (value.is_integer()) return value.integer();
  if (!value.is_number() || value.number() != std::floor(value.number()) ||
      std::fabs(value.number()) > 9.0e15)
    fail(context, key, &value, "must be an integer");
  return static_cast<std::int64_t>(value.number());
}

std::string ParamTable::string(const std::string& context, const std::string& key,
                               std::optional<std::string> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const ParamValue& value = get(context, key);
  if (!value.is_string()) fail(context, key, &value, "must be a string");
  return value.string();
}

Vector ParamTable::vector(const std::string& context, const std::string& key) const {
  return to_vector(context, key, get(context, key));
}

Matrix ParamTable::matrix(const std::string& context, const std::string& key) const {
  return to_matrix(context, key, get(context, key));
}

std::vector<Matrix> ParamTable::matrices(const std::string& context, const std::string& key) const {
  const ParamValue& value = get(context, key);
  if (!value.is_list() || value.list().empty())
    fail(context, key, &value, "must be a non-empty list of matrices");
  std::vector<Matrix> out;
  for (const ParamValue& entry : value.list()) out.push_back(to_matrix(context, key, entry));
  return out;
}

void ParamTable::require_only(const std::string& context, const std::set<std::string>& allowed) const {
  for (const auto& [key, value] : values_) {
    if (allowed.count(key) != 0) continue;
    std::string valid;
    for (const std::string& name : allowed) valid += (valid.empty() ? "" : ", ") + name;
    fail(context, key, &value, "unknown key; valid keys are: " + (valid.empty() ? "(none)" : valid));
  }
}

// ------------------------------------------------------------------------------------------
// Declarations.

std::string to_string(ParamType type) {
  switch (type) {
    case ParamType::kNumber:
      return "number";
    case ParamType::kInteger:
      return "integer";
    case ParamType::kString:
      return "string";
    case ParamType::kChoice:
      return "choice";
    case ParamType::kVector:
      return "list of numbers";
    case ParamType::kMatrix:
      return "matrix (list of rows)";
    case ParamType::kMatrices:
      return "list of matrices";
  }
  return "unknown";
}

namespace {
ParamSpec make_spec(std::string name, ParamType type, std::string meaning) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.meaning = std::move(meaning);
  return spec;
}
}  // namespace

ParamSpec ParamSpec::number(std::string name, std::string meaning) {
  return make_spec(std::move(name), ParamType::kNumber, std::move(meaning));
}
ParamSpec ParamSpec::integer(std::string name, std::string meaning) {
  return make_spec(std::move(name), ParamType::kInteger, std::move(meaning));
}
ParamSpec ParamSpec::string(std::string name, std::string meaning) {
  return make_spec(std::move(name), ParamType::kString, std::move(meaning));
}
ParamSpec ParamSpec::choice(std::string name, std::vector<std::string> choices, std::string meaning) {
  ParamSpec spec = make_spec(std::move(name), ParamType::kChoice, std::move(meaning));
  spec.choices = std::move(choices);
  return spec;
}
ParamSpec ParamSpec::vector(std::string name, std::string meaning) {
  return make_spec(std::move(name), ParamType::kVector, std::move(meaning));
}
ParamSpec ParamSpec::matrix(std::string name, std::string meaning) {
  return make_spec(std::move(name), ParamType::kMatrix, std::move(meaning));
}
ParamSpec ParamSpec::matrices(std::string name, std::string meaning) {
  return make_spec(std::move(name), ParamType::kMatrices, std::move(meaning));
}

ParamSpec ParamSpec::defaults(ParamValue value) const {
  ParamSpec out = *this;
  out.default_value = std::move(value);
  return out;
}
ParamSpec ParamSpec::optional() const {
  ParamSpec out = *this;
  out.may_be_absent = true;
  return out;
}
ParamSpec ParamSpec::above(double bound) const {
  ParamSpec out = *this;
  out.min = bound;
  out.min_open = true;
  return out;
}
ParamSpec ParamSpec::at_least(double bound) const {
  ParamSpec out = *this;
  out.min = bound;
  out.min_open = false;
  return out;
}
ParamSpec ParamSpec::below(double bound) const {
  ParamSpec out = *this;
  out.max = bound;
  out.max_open = true;
  return out;
}
ParamSpec ParamSpec::at_most(double bound) const {
  ParamSpec out = *this;
  out.max = bound;
  out.max_open = false;
  return out;
}
ParamSpec ParamSpec::in_unit(std::string unit_name) const {
  ParamSpec out = *this;
  out.unit = std::move(unit_name);
  return out;
}

std::string ParamSpec::range_text() const {
  if (type == ParamType::kChoice) {
    std::string out = "one of ";
    for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? ", \"" : "\"") + choices[i] + "\"";
    return out;
  }
  if (min && max)
    return std::string(min_open ? "(" : "[") + shortest(*min) + ", " + shortest(*max) + (max_open ? ")" : "]");
  if (min) return (min_open ? "> " : ">= ") + shortest(*min);
  if (max) return (max_open ? "< " : "<= ") + shortest(*max);
  return "";
}

std::string ParamSpec::range_rule() const {
  const std::string every =
      type == ParamType::kVector || type == ParamType::kMatrix || type == ParamType::kMatrices ? "every entry " : "";
  if (type == ParamType::kChoice) return "must be " + range_text();
  if (min && max) return every + "must lie in " + range_text();
  if (min && *min == 0.0 && min_open) return every + "must be positive (> 0)";
  return every + "must be " + range_text();
}

bool ParamSpec::in_range(long double x) const {
  // long double holds every int64 exactly, so integer bounds are compared without rounding.
  if (min && (min_open ? !(x > static_cast<long double>(*min)) : !(x >= static_cast<long double>(*min)))) return false;
  if (max && (max_open ? !(x < static_cast<long double>(*max)) : !(x <= static_cast<long double>(*max)))) return false;
  return true;
}

namespace {

// 2^53: beyond it a double no longer holds every integer, so a double-valued integer there may
// already be rounded from what was written.
constexpr double kExactDoubleIntegers = 9007199254740992.0;

// The value's type/shape rule when it does not fit `spec`, else "".
std::string shape_error(const ParamSpec& spec, const ParamValue& value) {
  auto finite_number = [](const ParamValue& v) { return v.is_number() && std::isfinite(v.number()); };
  auto numbers = [&](const ParamValue& v, std::size_t* length) {
    if (!v.is_list()) return false;
    for (const ParamValue& entry : v.list())
      if (!finite_number(entry)) return false;
    if (length) *length = v.list().size();
    return true;
  };
  auto matrix = [&](const ParamValue& v) {
    if (!v.is_list() || v.list().empty()) return false;
    std::size_t first = 0, row = 0;
    if (!numbers(v.list().front(), &first)) return false;
    for (const ParamValue& r : v.list())
      if (!numbers(r, &row) || row != first) return false;
    return true;
  };
  switch (spec.type) {
    case ParamType::kNumber:
      if (!value.is_number()) return "must be a number";
      if (!std::isfinite(value.number())) return "must be finite";
      return "";
    case ParamType::kInteger:
      if (value.is_integer()) return "";
      if (!value.is_number() || !std::isfinite(value.number()) || value.number() != std::floor(value.number()) ||
          std::fabs(value.number()) > kExactDoubleIntegers)
        return "must be an integer (exactly representable, |n| <= 2^53 when written as a float)";
      return "";
    case ParamType::kString:
    case ParamType::kChoice:
      return value.is_string() ? "" : "must be a string";
    case ParamType::kVector:
      return numbers(value, nullptr) ? "" : "must be a list of finite numbers";
    case ParamType::kMatrix:
      return matrix(value) ? "" : "must be a non-empty list of equally long rows of finite numbers (a matrix)";
    case ParamType::kMatrices:
      if (!value.is_list() || value.list().empty()) return "must be a non-empty list of matrices";
      for (const ParamValue& m : value.list())
        if (!matrix(m)) return "must be a non-empty list of matrices (each a list of equally long rows of finite numbers)";
      return "";
  }
  return "";
}

// The first number inside `value` (a number or nested lists of numbers) that is out of range, as
// "entry 1 = -0.1" ("entry [2][0] = ..." in a matrix; "" for a plain number), or nullopt.
std::optional<std::string> out_of_range(const ParamSpec& spec, const ParamValue& value, const std::string& path = "") {
  if (value.is_list()) {
    for (std::size_t i = 0; i < value.list().size(); ++i) {
      const std::string at = path.empty() && spec.type == ParamType::kVector ? std::to_string(i)
                                                                               : path + "[" + std::to_string(i) + "]";
      if (auto found = out_of_range(spec, value.list()[i], at)) return found;
    }
    return std::nullopt;
  }
  const bool ok = value.is_integer() ? spec.in_range(static_cast<long double>(value.integer()))
                                     : spec.in_range(static_cast<long double>(value.number()));
  if (ok) return std::nullopt;
  return path.empty() ? std::string() : "entry " + path + " = " + value.written();
}

}  // namespace

DeclaredParams::DeclaredParams(const ParamDeclaration& declaration, const ParamTable& table, std::string component)
    : component_(std::move(component)), declaration_(declaration) {
  for (const auto& [key, value] : table.entries()) {
    bool known = false;
    for (const ParamSpec& spec : declaration_) known = known || spec.name == key;
    if (known) continue;
    std::set<std::string> names;  // sorted, as a reader scans for the key meant
    for (const ParamSpec& spec : declaration_) names.insert(spec.name);
    std::string valid;
    for (const std::string& name : names) valid += (valid.empty() ? "" : ", ") + name;
    throw ParameterError(component_, key, value.written(),
                         "unknown key; valid keys are: " + (valid.empty() ? std::string("(none)") : valid));
  }
  for (const ParamSpec& spec : declaration_) {
    const auto found = table.entries().find(spec.name);
    if (found == table.entries().end()) {
      if (spec.default_value) values_.emplace(spec.name, *spec.default_value);
      if (spec.required()) throw ParameterError(component_, spec.name, "(missing)", "is required but missing");
      continue;
    }
    const ParamValue& value = found->second;
    const std::string shape = shape_error(spec, value);
    if (!shape.empty()) throw ParameterError(component_, spec.name, value.written(), shape);
    if (spec.type == ParamType::kChoice) {
      bool listed = false;
      for (const std::string& c : spec.choices) listed = listed || c == value.string();
      if (!listed) throw ParameterError(component_, spec.name, value.written(), spec.range_rule() + " (" + spec.meaning + ")");
    } else if (spec.type != ParamType::kString) {
      if (const auto where = out_of_range(spec, value))
        throw ParameterError(component_, spec.name, value.written(),
                             spec.range_rule() + (where->empty() ? "" : " (" + *where + ")") + " (" + spec.meaning + ")");
    }
    values_.emplace(spec.name, value);
    given_.insert(spec.name);
  }
}

bool DeclaredParams::has(const std::string& key) const { return values_.count(key) != 0; }
bool DeclaredParams::given(const std::string& key) const { return given_.count(key) != 0; }

const ParamSpec& DeclaredParams::spec(const std::string& key, ParamType expected) const {
  for (const ParamSpec& spec : declaration_) {
    if (spec.name != key) continue;
    const bool text = expected == ParamType::kString && spec.type == ParamType::kChoice;
    if (spec.type != expected && !text)
      throw std::logic_error(component_ + ": parameter '" + key + "' is declared as " + to_string(spec.type) +
                             ", read as " + to_string(expected));
    if (!has(key)) throw std::logic_error(component_ + ": optional parameter '" + key + "' read while absent");
    return spec;
  }
  throw std::logic_error(component_ + ": parameter '" + key + "' is read but not declared");
}

const ParamValue& DeclaredParams::value(const std::string& key) const {
  const auto found = values_.find(key);
  if (found == values_.end()) throw std::logic_error(component_ + ": parameter '" + key + "' has no value");
  return found->second;
}

double DeclaredParams::number(const std::string& key) const {
  spec(key, ParamType::kNumber);
  return value(key).number();
}

std::int64_t DeclaredParams::integer(const std::string& key) const {
  spec(key, ParamType::kInteger);
  const ParamValue& v = value(key);
  return v.is_integer() ? v.integer() : static_cast<std::int64_t>(v.number());
}

const std::string& DeclaredParams::string(const std::string& key) const {
  spec(key, ParamType::kString);
  return value(key).string();
}

Vector DeclaredParams::vector(const std::string& key) const {
  spec(key, ParamType::kVector);
  return to_vector(component_, key, value(key));
}

Matrix DeclaredParams::matrix(const std::string& key) const {
  spec(key, ParamType::kMatrix);
  return to_matrix(component_, key, value(key));
}

std::vector<Matrix> DeclaredParams::matrices(const std::string& key) const {
  spec(key, ParamType::kMatrices);
  std::vector<Matrix> out;
  for (const ParamValue& entry : value(key).list()) out.push_back(to_matrix(component_, key, entry));
  return out;
}

void DeclaredParams::fail(const std::string& key, const std::string& rule) const {
  const auto found = values_.find(key);
  throw ParameterError(component_, key, found == values_.end() ? "(missing)" : found->second.written(), rule);
}

std::string DeclaredParams::exactly_one_of(const std::vector<std::string>& keys) const {
  std::string list;
  for (const std::string& key : keys) list += (list.empty() ? "'" : ", '") + key + "'";
  std::vector<std::string> present;
  for (const std::string& key : keys)
    if (given(key)) present.push_back(key);
  if (present.size() == 1) return present.front();
  if (present.empty()) fail(keys.front(), "exactly one of " + list + " must be given (found 0)");
  fail(present[1], "exactly one of " + list + " must be given (found " + std::to_string(present.size()) + ")");
}

void DeclaredParams::forbid(const std::string& key, const std::string& why) const {
  if (given(key)) fail(key, why);
}

void DeclaredParams::need(const std::string& key, const std::string& why) const {
  if (!given(key)) fail(key, why);
}

std::string DeclaredParams::strip_component(const std::string& message) const {
  const std::string prefix = component_ + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

std::string describe_parameters(const ParamDeclaration& declaration) {
  if (declaration.empty()) return "  (no parameters)\n";
  std::vector<std::vector<std::string>> rows = {{"name", "type", "default", "range/choices", "unit", "meaning"}};
  for (const ParamSpec& spec : declaration)
    rows.push_back({spec.name, to_string(spec.type),
                    spec.default_value ? spec.default_value->written() : spec.may_be_absent ? "(optional)" : "(required)",
                    spec.range_text().empty() ? "-" : spec.range_text(), spec.unit.empty() ? "-" : spec.unit,
                    spec.meaning});
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::ostringstream out;
  for (const auto& row : rows) {
    out << " ";
    for (std::size_t c = 0; c < row.size(); ++c) {
      out << " " << row[c];
      if (c + 1 < row.size()) out << std::string(width[c] - row[c].size() + 1, ' ');
    }
    out << "\n";
  }
  return out.str();
}

std::string parameter_lines(const ParamDeclaration& declaration, const ParamTable& example) {
  std::ostringstream out;
  for (const ParamSpec& spec : declaration) {
    const auto found = example.entries().find(spec.name);
    if (found != example.entries().end())
      out << spec.name << " = " << found->second.toml() << "\n";
    else if (spec.default_value)
      out << "# " << spec.name << " = " << spec.default_value->toml() << "  # default\n";
    else
      out << "# " << spec.name << " = ...  # optional: " << spec.meaning << "\n";
  }
  return out.str();
}

}  // namespace dmconv
