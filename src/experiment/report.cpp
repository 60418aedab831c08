#include "experiment/report.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "experiment/groups.hpp"

namespace dmconv::experiment {
namespace {

using Cells = std::map<std::string, std::map<std::int64_t, std::vector<const RunRow*>>>;  // sampler -> T -> rows

void print_table(std::ostream& out, const config::ExperimentConfig& config, const std::string& key, Cells& cells) {
  std::set<std::int64_t> steps;
  for (const auto& [sampler, by_t] : cells)
    for (const auto& [T, r] : by_t) steps.insert(T);
  out << "\n" << key << "   (value +- 1.96 SE; * = status not ok)\n";
  char cell[64];
  std::snprintf(cell, sizeof cell, "%-18s", "sampler \\ T");
  out << cell;
  for (std::int64_t T : steps) {
    std::snprintf(cell, sizeof cell, " %12lld", static_cast<long long>(T));
    out << cell;
  }
  out << "\n";
  std::vector<std::string> samplers = config.samplers;
  if (config.oracle_rows) samplers.push_back("oracle");  // the floor: the estimator on exact samples
  for (const std::string& sampler : samplers) {
    if (!cells.count(sampler)) continue;
    std::snprintf(cell, sizeof cell, "%-18s", sampler.c_str());
    out << cell;
    for (std::int64_t T : steps) {
      const auto& r = cells[sampler][T];
      bool ok = !r.empty();
      for (const RunRow* row : r) ok = ok && row->status == EstimateStatus::kOk;
      if (!ok) {
        std::snprintf(cell, sizeof cell, " %12s", r.empty() ? "-" : "*");
      } else {
        std::snprintf(cell, sizeof cell, " %12.4e", aggregate(r).value);
      }
      out << cell;
    }
    out << "\n";
  }
}

const char* verdict_label(Verdict verdict) {
  switch (verdict) {
    case Verdict::kHolds:
      return "HOLDS";
    case Verdict::kViolated:
      return "VIOLATED";
    case Verdict::kInconclusive:
      break;
  }
  return "INCONCLUSIVE";
}

}  // namespace

void print_error_table(std::ostream& out, const config::ExperimentConfig& config, const std::vector<RunRow>& rows) {
  // One table per (group without T, estimator, metric): rows = samplers, columns = T.
  std::vector<std::string> tables;
  std::map<std::string, Cells> cells;
  for (const RunRow& row : rows) {
    const std::string key = group_key(config, row, "") + ";metric=" + row.metric;
    if (!cells.count(key)) tables.push_back(key);
    cells[key][row.sampler][row.steps].push_back(&row);
  }
  for (const std::string& key : tables) print_table(out, config, key, cells[key]);
}

void print_verdicts(std::ostream& out, const std::vector<FitRow>& fits) {
  if (fits.empty()) return;
  out << "\nclaims (fitted slope of log error vs log axis, or vs the axis itself for exponential models [exp];"
         " 95% interval; k = fitted log power):\n";
  for (const FitRow& f : fits) {
    char line[512];
    const Claim& c = f.claim;
    const std::string subject = c.versus.empty() ? c.sampler : c.sampler + "/" + c.versus;
    const std::string axis = f.axis_label();
    const std::string bound = to_string(c.bound);
    if (std::isfinite(f.slope)) {
      const std::string model = c.fit.model == FitModel::kExponential ? " [exp]" : "";
      std::snprintf(line, sizeof line,
                    "  %-12s %-40s %-22s %s: slope %+.3f [%+.3f, %+.3f] k=%.2f  claimed %+.2f +- %.2f (%s)  %lld pts\n",
                    verdict_label(f.verdict), c.name.c_str(), subject.c_str(), (axis + model).c_str(), f.slope,
                    f.slope_low, f.slope_high, c.fit.log_factor == LogPowerMode::kNone ? 0.0 : f.log_power, c.slope,
                    c.tolerance, bound.c_str(), static_cast<long long>(f.points_used));
    } else {
      std::snprintf(line, sizeof line, "  %-12s %-40s %-22s %s: no fit  claimed %+.2f +- %.2f (%s)\n", "INCONCLUSIVE",
                    c.name.c_str(), subject.c_str(), axis.c_str(), c.slope, c.tolerance, bound.c_str());
    }
    out << line;
    if (!f.group.empty()) out << "      group: " << f.group << "\n";
    if (f.verdict != Verdict::kHolds && !f.verdict_reason.empty()) out << "      why: " << f.verdict_reason << "\n";
    if (!f.exclusions.empty()) out << "      excluded: " << f.exclusions << "\n";
    if (!f.message.empty()) out << "      note: " << f.message << "\n";
  }
}

bool any_violated(const std::vector<FitRow>& fits) {
  for (const FitRow& f : fits)
    if (f.verdict == Verdict::kViolated) return true;
  return false;
}

}  // namespace dmconv::experiment
