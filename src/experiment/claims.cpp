#include "experiment/claims.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "experiment/groups.hpp"

namespace dmconv::experiment {
namespace {

using RowsAt = std::map<double, std::vector<const RunRow*>>;  // x -> replicate rows

// The rows of one claim by group: ok rows of the sampler (primary) and of versus (secondary),
// the count of rows left out for their status, and the estimators seen for each side.
struct ClaimRows {
  std::map<std::string, RowsAt> primary, secondary;
  std::map<std::string, int> not_ok;
  std::map<std::string, std::array<std::set<std::string>, 2>> estimators_seen;
  std::set<std::string> groups;
};

bool matches(const config::ExperimentConfig& config, const Claim& claim, const RunRow& row, const std::string& sampler) {
  if (row.sampler != sampler || row.metric != claim.metric) return false;
  if (!claim.estimator.empty() && row.estimator != claim.estimator) return false;
  for (const auto& [path, value] : claim.where)
    for (std::size_t a = 0; a < config.sweep.size(); ++a)
      if (config.sweep[a].path == path && row.swept[a].to_string() != value.to_string()) return false;
  return true;
}

ClaimRows gather(const config::ExperimentConfig& config, const Claim& claim, const std::vector<RunRow>& rows) {
  ClaimRows out;
  for (const RunRow& row : rows) {
    const bool is_primary = matches(config, claim, row, claim.sampler);
    const bool is_secondary = !claim.versus.empty() && matches(config, claim, row, claim.versus);
    if (!is_primary && !is_secondary) continue;
    // Groups do not include the estimator when versus is set (the two samplers may need different ones).
    const std::string group = group_key(config, row, claim.axis, claim.versus.empty());
    out.estimators_seen[group][is_primary ? 0 : 1].insert(row.estimator);
    if (row.status != EstimateStatus::kOk) {
      ++out.not_ok[group];
      continue;
    }
    const double x = axis_value(config, row, claim.axis);
    (is_primary ? out.primary : out.secondary)[group][x].push_back(&row);
  }
  for (const auto& [g, m] : out.primary) out.groups.insert(g);
  for (const auto& [g, m] : out.not_ok) out.groups.insert(g);
  return out;
}

// The fitted points of one group: err(x), err(x) - err(baseline), or err(sampler)/err(versus).
// Returns nullopt (with the reason in `message`) when the baseline is missing.
std::optional<std::vector<RatePoint>> group_points(const Claim& claim, RowsAt& primary, RowsAt& secondary,
                                                   std::string& message) {
  std::vector<RatePoint> points;
  std::optional<Aggregate> base;
  if (claim.baseline) {
    const auto found = primary.find(*claim.baseline);
    if (found == primary.end()) {
      message += "no result at the baseline " + claim.axis + " = " + format_number(*claim.baseline);
      return std::nullopt;
    }
    base = aggregate(found->second);
  }
  for (const auto& [x, a_rows] : primary) {
    const Aggregate a = aggregate(a_rows);
    if (base) {
      if (x == *claim.baseline) continue;
      points.push_back({x, a.value - base->value, std::hypot(a.std_error, base->std_error), a.floor + base->floor});
      continue;
    }
    if (claim.versus.empty()) {
      points.push_back({x, a.value, a.std_error, a.floor});
      continue;
    }
    const auto other = secondary.find(x);
    if (other == secondary.end()) {
      message += "no '" + claim.versus + "' result at " + claim.axis + " = " + format_number(x) + "; ";
      continue;
    }
    const Aggregate b = aggregate(other->second);
    const double ratio = a.value / b.value;
    const double rel_se = std::hypot(a.std_error / a.value, b.std_error / b.value);
    const double rel_floor = a.floor / a.value + b.floor / b.value;
    points.push_back({x, ratio, std::fabs(ratio) * rel_se, std::fabs(ratio) * rel_floor});
  }
  return points;
}

std::string join_slopes(const std::vector<double>& slopes) {
  std::string out;
  char text[32];
  for (double s : slopes) {
    std::snprintf(text, sizeof text, "%s%.3f", out.empty() ? "" : " ", s);
    out += text;
  }
  return out;
}

// Fits the points with the claim's options and judges the claim.
void fit_points(const Claim& claim, const std::vector<RatePoint>& points, FitRow& fit, std::string& message) {
  const RateFit result = fit_rate(points, claim.fit);
  fit.points_used = static_cast<std::int64_t>(result.points_used);
  fit.points_excluded = static_cast<std::int64_t>(result.excluded.size());
  for (const ExcludedPoint& e : result.excluded)
    fit.exclusions += (fit.exclusions.empty() ? "" : "; ") + std::string("x=") + format_number(points[e.index].x) +
                      ": " + e.reason;
  fit.local_slopes = join_slopes(result.local_slopes);
  const Judgement judgement = judge(result, exponent_claim(claim));
  fit.verdict = judgement.verdict;
  fit.verdict_reason = judgement.reason;
  if (result.status == RateFit::Status::kOk) {
    fit.chi2_per_dof = result.chi2_per_dof;
    fit.fit_p_value = result.fit_p_value;
    fit.slope = -result.exponent;
    fit.slope_low = -result.exponent_high;
    fit.slope_high = -result.exponent_low;
    fit.log_power = result.log_factor_power;
    fit.intercept = result.intercept;
  } else {
    message += result.message;
  }
}

FitRow fit_group(const Claim& claim, const std::string& group, ClaimRows& data) {
  FitRow fit;
  fit.claim = claim;
  fit.group = group;
  std::string message;
  if (data.not_ok.count(group)) message += std::to_string(data.not_ok[group]) + " rows with status != ok left out; ";
  if (data.estimators_seen[group][0].size() > 1 || data.estimators_seen[group][1].size() > 1) {
    fit.message = message + "several estimators report '" + claim.metric + "' for this sampler: set the claim's estimator key";
    fit.verdict_reason = "ambiguous estimator";
    return fit;  // inconclusive
  }
  const std::optional<std::vector<RatePoint>> points =
      group_points(claim, data.primary[group], data.secondary[group], message);
  if (points) {
    fit_points(claim, *points, fit, message);
  } else {
    fit.verdict_reason = "no points to fit: " + message;
  }
  fit.message = message;
  return fit;
}

}  // namespace

std::vector<FitRow> fit_claims(const config::ExperimentConfig& config, const std::vector<RunRow>& rows) {
  std::vector<FitRow> fits;
  for (const Claim& claim : config.claims) {
    ClaimRows data = gather(config, claim, rows);
    if (data.groups.empty()) {
      FitRow fit;
      fit.claim = claim;
      fit.message = "no results match this claim (sampler, metric, estimator, where)";
      fit.verdict_reason = fit.message;
      fits.push_back(fit);
      continue;
    }
    for (const std::string& group : data.groups) fits.push_back(fit_group(claim, group, data));
  }
  return fits;
}

}  // namespace dmconv::experiment
