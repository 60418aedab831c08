#include "lsi/lsi_claims.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "analysis/rate_fit.hpp"

namespace dmconv::lsi {
namespace {

ExponentClaim exponent_claim(const LsiClaim& claim) {
  const bool exact = claim.bound == ClaimBound::kExact;
  if (claim.metric == LsiClaim::Metric::kLogSobolev)  // a level: "upper" bounds the value itself
    return ExponentClaim{claim.claimed, claim.tolerance, exact, claim.bound == ClaimBound::kUpper, false};
  // Slopes: fit_rate's exponent is -slope, so an upper bound on the slope is a lower bound on p.
  return ExponentClaim{-claim.claimed, claim.tolerance, exact, claim.bound == ClaimBound::kLower};
}

void fill_fit(ClaimRow& row, const RateFit& fit, const LsiClaim& claim, const std::vector<RatePoint>& points) {
  row.points = static_cast<std::int64_t>(fit.points_used);
  const Judgement judgement = judge(fit, exponent_claim(claim));
  row.verdict = to_string(judgement.verdict);
  row.reason = judgement.reason;
  for (const ExcludedPoint& e : fit.excluded) {
    char x[32];
    std::snprintf(x, sizeof x, "%.6g", points[e.index].x);
    row.message += std::string(row.message.empty() ? "" : "; ") + "x=" + x + ": " + e.reason;
  }
  if (fit.status != RateFit::Status::kOk) {
    row.message += (row.message.empty() ? "" : "; ") + fit.message;
    return;
  }
  row.fitted = -fit.exponent;
  row.low = -fit.exponent_high;
  row.high = -fit.exponent_low;
}


void append(std::string& message, const std::string& text) { message += (message.empty() ? "" : "; ") + text; }

// Groups of t1_star: the values of the swept axes other than the claim's axis (and the axes paired
// with it).
std::map<std::string, std::vector<std::size_t>> t1_star_groups(const LsiClaim& claim, const LsiSettings& settings,
                                                               const std::vector<TargetProfile>& profiles) {
  std::set<std::string> own{claim.axis};
  if (std::find(settings.paired.begin(), settings.paired.end(), claim.axis) != settings.paired.end())
    own.insert(settings.paired.begin(), settings.paired.end());
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    std::string group;
    for (const auto& [axis_path, value] : profiles[i].run.swept)
      if (own.count(axis_path) == 0) group += (group.empty() ? "" : ";") + axis_path + "=" + value.to_string();
    groups[group].push_back(i);
  }
  return groups;
}

ClaimRow t1_star_row(const ClaimRow& base, const LsiClaim& claim, const std::string& group,
                     const std::vector<std::size_t>& members, const std::vector<TargetProfile>& profiles) {
  ClaimRow row = base;
  row.group = group;
  std::vector<RatePoint> points;
  for (std::size_t i : members) {
    const TargetProfile& p = profiles[i];
    double x = NAN;
    for (const auto& [axis_path, value] : p.run.swept)
      if (axis_path == claim.axis) x = value.number();
    char at[48];
    std::snprintf(at, sizeof at, "x=%.6g: ", x);
    if (!p.reached) {
      append(row.message, std::string(at) + "T1* not reached by t1_max");
    } else if (p.t1_star <= kSearchFloor + 2.0 * p.bracket) {
      append(row.message, std::string(at) + "T1* at the search floor 0.01");
    } else if ((claim.min && x < *claim.min) || (claim.max && x > *claim.max)) {
      append(row.message, std::string(at) + "outside the claim's window");
    } else {
      // log e^{T1*} = T1*: the power law of e^{T1*} with no log factor is T1* = a + slope ln x.
      const double value = std::exp(p.t1_star);
      points.push_back({x, value, value * p.bracket, 0.0});
    }
  }
  RateFitOptions fit_options;  // power law, no log factor
  fill_fit(row, fit_rate(points, fit_options), claim, points);
  return row;
}

// langevin_kl or log_sobolev at one (target, T1).
ClaimRow profile_claim_row(const ClaimRow& base, const LsiClaim& claim, const TargetProfile& target,
                           const ProfileRow& point) {
  ClaimRow row = base;
  // The target by its swept values (descriptions need not tell swept targets apart), and T1.
  char t1[48];
  std::snprintf(t1, sizeof t1, "T1=%g", point.t1);
  std::string group;
  for (const auto& [axis_path, value] : target.run.swept)
    if (axis_path.rfind("target.", 0) == 0) group += axis_path + "=" + value.to_string() + ";";
  row.group = (group.empty() ? target.name + ";" : group) + t1;
  if (target.dim != 1) {
    row.verdict = to_string(Verdict::kInconclusive);
    row.message = "computed for d = 1 only";
  } else if (!(point.kappa > 0.0)) {
    row.verdict = "vacuous";
    row.message = "kappa <= 0: the Bakry-Emery bound says nothing at this T1";
  } else if (claim.metric == LsiClaim::Metric::kLangevinKl) {
    std::vector<RatePoint> points;
    for (std::size_t k = 0; k < point.u.size(); ++k) points.push_back({point.kappa * point.u[k], point.kl[k], 0.0, 0.0});
    RateFitOptions fit_options;
    fit_options.model = RateFitOptions::Model::kExponential;
    fit_options.x_min = claim.min;
    fit_options.x_max = claim.max;
    fill_fit(row, fit_rate(points, fit_options), claim, points);
  } else {
    // A level, not a fit: the ratio with the interval given by the constant's error budget.
    RateFit level;
    level.status = RateFit::Status::kOk;
    level.points_used = 1;
    level.exponent = point.lsi / point.kappa;
    level.exponent_low = (point.lsi - point.lsi_budget) / point.kappa;
    level.exponent_high = (point.lsi + point.lsi_budget) / point.kappa;
    row.points = 1;
    const Judgement judgement = judge(level, exponent_claim(claim));
    row.verdict = to_string(judgement.verdict);
    row.reason = judgement.reason;
    row.fitted = level.exponent;
    row.low = level.exponent_low;
    row.high = level.exponent_high;
  }
  return row;
}

}  // namespace

std::vector<ClaimRow> judge_claims(const std::vector<LsiClaim>& claims, const LsiSettings& settings,
                                   const std::vector<TargetProfile>& profiles) {
  std::vector<ClaimRow> rows;
  for (const LsiClaim& claim : claims) {
    ClaimRow base;
    base.claim = claim.name;
    base.metric = claim.metric_name;
    base.model = claim.model;
    base.axis = claim.axis;
    base.bound = to_string(claim.bound);
    base.claimed = claim.claimed;
    base.tolerance = claim.tolerance;
    if (claim.metric == LsiClaim::Metric::kT1Star) {
      for (const auto& [group, members] : t1_star_groups(claim, settings, profiles))
        rows.push_back(t1_star_row(base, claim, group, members, profiles));
      continue;
    }
    for (const TargetProfile& target : profiles)
      for (const ProfileRow& point : target.rows) rows.push_back(profile_claim_row(base, claim, target, point));
  }
  return rows;
}

}  // namespace dmconv::lsi
