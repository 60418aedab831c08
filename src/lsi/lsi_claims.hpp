// The judging stage of `dmconv lsi`: every [[lsi.claim]] against the profile, by the rate-fit
// machinery (analysis/rate_fit.hpp, fit_rate + judge): one row per claim and (target, T1) for
// langevin_kl and log_sobolev, one per claim and group of the other swept axes for t1_star.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lsi/lsi_config.hpp"
#include "lsi/profile.hpp"

namespace dmconv::lsi {

// One verdict row of /claims.
struct ClaimRow {
  std::string claim, group, metric, model, axis, bound, verdict, reason, message;  // reason: judge()'s
  double claimed = 0.0, tolerance = 0.0, fitted = NAN, low = NAN, high = NAN;
  std::int64_t points = 0;
};

std::vector<ClaimRow> judge_claims(const std::vector<LsiClaim>& claims, const LsiSettings& settings,
                                   const std::vector<TargetProfile>& profiles);

}  // namespace dmconv::lsi
