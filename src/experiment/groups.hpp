// Grouping and averaging of /runs rows, shared by the execute stage (oracle rows kept once),
// the claims stage (one fit per group) and the report (one table per group).
#pragma once
#include <string>
#include <vector>

#include "config/experiment_config.hpp"
#include "experiment/rows.hpp"

namespace dmconv::experiment {

// "target=...;schedule=...[;estimator=...];PATH=VALUE;..." over every [sweep] axis but skip_path.
std::string group_key(const config::ExperimentConfig& config, const RunRow& row, const std::string& skip_path,
                      bool with_estimator = true);

// The row's value on `axis` ("T" or a [sweep] path); NaN for a non-numeric value.
double axis_value(const config::ExperimentConfig& config, const RunRow& row, const std::string& axis);

struct Aggregate {
  double value = 0.0, std_error = 0.0, floor = 0.0;
};

// Replicates of one configuration: mean value; SE of the mean sqrt(sum se^2) / R when the rows
// carry standard errors, else the replicate spread sd / sqrt(R) (R > 1), else 0 (exact).
Aggregate aggregate(const std::vector<const RunRow*>& rows);

// "%.6g"
std::string format_number(double x);

}  // namespace dmconv::experiment
