#include "experiment/groups.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dmconv::experiment {

std::string group_key(const config::ExperimentConfig& config, const RunRow& row, const std::string& skip_path,
                      bool with_estimator) {
  std::string key = "target=" + row.target + ";schedule=" + row.schedule;
  if (with_estimator) key += ";estimator=" + row.estimator;
  for (std::size_t a = 0; a < config.sweep.size(); ++a)
    if (config.sweep[a].path != skip_path) key += ";" + config.sweep[a].path + "=" + row.swept[a].to_string();
  return key;
}

double axis_value(const config::ExperimentConfig& config, const RunRow& row, const std::string& axis) {
  if (axis == "T") return static_cast<double>(row.steps);
  for (std::size_t a = 0; a < config.sweep.size(); ++a)
    if (config.sweep[a].path == axis) return row.swept[a].is_number() ? row.swept[a].number() : NAN;
  return NAN;
}

Aggregate aggregate(const std::vector<const RunRow*>& rows) {
  Aggregate out;
  const double R = static_cast<double>(rows.size());
  double sum_se2 = 0.0;
  for (const RunRow* r : rows) {
    out.value += r->value / R;
    sum_se2 += r->std_error * r->std_error;
    out.floor = std::max(out.floor, r->floor);
  }
  if (sum_se2 > 0.0) {
    out.std_error = std::sqrt(sum_se2) / R;
  } else if (rows.size() > 1) {
    double ss = 0.0;
    for (const RunRow* r : rows) ss += (r->value - out.value) * (r->value - out.value);
    out.std_error = std::sqrt(ss / (R - 1.0) / R);
  }
  return out;
}

std::string format_number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", x);
  return text;
}

}  // namespace dmconv::experiment
