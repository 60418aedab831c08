#include "core/params.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace dmconv {
namespace {

[[noreturn]] void fail(const std::string& context, const std::string& key, const ParamValue* value,
                       const std::string& rule) {
  std::ostringstream message;
  message << context << ": key '" << key << "'";
  if (value != nullptr) message << " = " << value->to_string();
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

long ParamTable::integer(const std::string& context, const std::string& key,
                         std::optional<long> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const ParamValue& value = get(context, key);
  if (!value.is_number() || value.number() != std::floor(value.number()) ||
      std::fabs(value.number()) > 9.0e15)
    fail(context, key, &value, "must be an integer");
  return static_cast<long>(value.number());
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

}  // namespace dmconv
